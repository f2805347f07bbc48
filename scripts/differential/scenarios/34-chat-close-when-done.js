// Items 78, 80, 81 (test_close_when_done): close_when_done() queues None; the queue is sent
// in order and handle_close runs when the None is reached; the peer reads everything, then EOF.
// A peer that has gone instead: the sends fail and handle_close runs from send().
const { T, PASSES, Chat, run, peerPair, SimpleProducer } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  let [a, b] = peerPair();
  let c = new Chat('chat', a, m);
  c.push('line one\n');
  c.pushWithProducer(new SimpleProducer('line two\n', 4));
  c.closeWhenDone();
  T('fifo', c.producerFifo.length);
  run(m, usePoll, 6);
  T('peer got', b.recv(1000), 'then', b.recv(1000), 'in map', m.size);
  b.close();
  [a, b] = peerPair();
  c = new Chat('gone', a, m);
  b.close();
  c.push('into the void');
  c.closeWhenDone();
  run(m, usePoll, 2);
  T('in map', m.size);
}
