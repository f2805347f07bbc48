// Items 73, 76 (test_line_terminator1-3): byte terminators '\n', '\r\n' and 'qqq' with the
// input arriving 1, 2 and 3 bytes at a time: partial terminators are kept, never collected.
const { T, PASSES, Chat, feed, peerPair } = require('../difftrace');

const msg = "hello world\nI'm not dead yet!\n".replace(/\n/g, 'TERM');
for (const [name, usePoll] of PASSES) {
  for (const term of ['\n', '\r\n', 'qqq']) {
    for (const size of [1, 2, 3]) {
      T('==', name, Buffer.from(term), size);
      const m = new Map();
      const [a, b] = peerPair();
      const c = new Chat('chat', a, m, term);
      const data = msg.replace(/TERM/g, term);
      const chunks = [];
      for (let i = 0; i < data.length; i += size) chunks.push(data.slice(i, i + size));
      feed(b, chunks, m, usePoll);
      T('left', c.acInBuffer);
      c.close();
      b.close();
    }
  }
}
