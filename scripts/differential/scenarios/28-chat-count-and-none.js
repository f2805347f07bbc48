// Items 74, 75 (test_numeric_terminator1-2, test_none_terminator, test_empty_line): a count
// counts down across reads and stays at 0 once it fires, so later data is collected whole;
// None, 0 and b'' collect everything; empty records fire found without collect.
const { T, PASSES, Chat, feed, peerPair } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  for (const term of [1, 6, 10, null, 0, Buffer.alloc(0)]) {
    T('==', name, term);
    const m = new Map();
    const [a, b] = peerPair();
    const c = new Chat('chat', a, m, term);
    feed(b, ['hello ', 'world, a 31-byte line here\n', 'more'], m, usePoll);
    T('terminator now', c.terminator);
    c.close();
    b.close();
  }
  T('==', name, 'empty records');
  const m = new Map();
  const [a, b] = peerPair();
  const c = new Chat('chat', a, m, '\n');
  feed(b, ["hello world\n\nI'm not dead yet!\n", '\n\n'], m, usePoll);
  c.close();
  b.close();
}
