// Items 80, 81, 83 (test_simple_producer, test_string_producer): initiate_send makes one send
// per call: producers are asked for more() and their output goes in front of them, an
// exhausted producer is dropped, bytes in the FIFO are sliced, and an empty entry is dropped
// with a zero-length send.
const { T, PASSES, Chat, run, peerPair, SimpleProducer } = require('../difftrace');

class Counting {
  constructor(n) { this.n = n; }
  more() {
    this.n -= 1;
    T('  more() ->', this.n);
    return this.n > 0 ? `p${this.n};` : '';
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const c = new Chat('chat', a, m);
  c.pushWithProducer(new SimpleProducer('simple producer data', 8));
  T('fifo', c.producerFifo.length);
  c.pushWithProducer(Buffer.from('bytes as a producer'));
  c.pushWithProducer(new Counting(3));
  c.push('');
  c.push('end');
  run(m, usePoll, 12);
  T('peer got', b.recv(1000), 'fifo', c.producerFifo.length, 'writable', c.writable());
  const p = new SimpleProducer('abcdefghij', 4);
  T('simple_producer', p.more(), p.more(), p.more(), p.more());
  c.close();
  b.close();
}
