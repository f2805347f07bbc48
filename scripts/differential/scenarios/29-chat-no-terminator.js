// Item 69: async_chat sets no terminator: the first read fails inside handle_read and reaches
// handle_error; the received bytes stay in ac_in_buffer. (Python raises AttributeError, the
// port an Error saying to call setTerminator(): only the routing is compared.)
const { T, PASSES, Chat, feed, peerPair } = require('../difftrace');

class NoTerm extends Chat {
  handleError() { T(this.name, 'handle_error', 'buffer', this.acInBuffer); }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const c = new NoTerm('chat', a, m, 'unset');
  feed(b, ['abc', 'def'], m, usePoll);
  c.setTerminator('c');
  feed(b, ['\n'], m, usePoll);
  c.close();
  b.close();
}
