// Items 45, 72, 78 (test_blockingioerror): a spurious read (EAGAIN) returns quietly without
// handle_error (bpo-16133); at EOF recv() calls handle_close (no log line: async_chat's
// handle_close just closes) and a partial terminator stays in ac_in_buffer.
const { T, PASSES, Chat, run, peerPair, AsyncChat } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  let [a, b] = peerPair();
  const c = new Chat('chat', a, m, '\r\n');
  c.handleRead();
  T('spurious read: in map', m.size);
  b.send('record\r\npartial\r');
  b.close();
  run(m, usePoll, 2);
  T('left', c.acInBuffer, 'in map', m.size);
  [a, b] = peerPair();
  const d = new AsyncChat(a, m);
  d.ignoreLogTypes = new Set();
  d.setTerminator(null);
  d.collectIncomingData = (data) => T('collect', data);
  b.close();
  run(m, usePoll, 1);
  T('default handle_close: in map', m.size);
}
