// Items 73-77 and drift 3: collect_incoming_data changes state mid-buffer: discard_buffers()
// stops the parse, set_terminator() applies from the next round, and a count switched to
// bytes or None raises TypeError into handle_error.
const { T, PASSES, Chat, feed, peerPair } = require('../difftrace');

const CASES = [
  ['discard, found', '\n', 'ab\ncd\nef\n', (c) => c.discardBuffers()],
  ['discard, prefix', '\r\n', 'abc\r', (c) => c.discardBuffers()],
  ['discard, count', 3, 'abcdefgh', (c) => c.discardBuffers()],
  ['discard, none', null, 'abcdefgh', (c) => c.discardBuffers()],
  ['bytes -> bytes', '\n', 'ab\ncd;ef\n', (c) => c.setTerminator(';;;')],
  ['bytes -> count', '\n', 'ab\ncdefgh\n', (c) => c.setTerminator(3)],
  ['count -> bytes', 10, 'abc', (c) => c.setTerminator('\n')],
  ['count -> None', 10, 'abc', (c) => c.setTerminator(null)],
  ['count -> count', 10, 'abc', (c) => c.setTerminator(5)],
  ['count -> bytes, fired', 3, 'abcdef\ngh', (c) => c.setTerminator('\n')],
  ['none -> bytes', null, 'ab\ncd', (c) => c.setTerminator('\n')],
  ['prefix -> other', '\r\n', 'abc\rdef', (c) => c.setTerminator('x')],
];
for (const [name, usePoll] of PASSES) {
  for (const [label, term, data, hook] of CASES) {
    T('==', name, label);
    const m = new Map();
    const [a, b] = peerPair();
    const c = new Chat('chat', a, m, term);
    c.hooks.collect = hook;
    feed(b, [data, '\n'], m, usePoll);
    T('end', c.acInBuffer, c.terminator, 'in map', m.size);
    c.close();
    b.close();
  }
}
