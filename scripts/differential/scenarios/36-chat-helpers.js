// Items 70, 71, 84 (test_find_prefix_at_end, test_disallow_negative_terminator):
// find_prefix_at_end, set_terminator's rules, and the NotImplementedError defaults.
const { T, exc, AsyncChat, findPrefixAtEnd } = require('../difftrace');

for (const [hay, needle] of [['qwerty\r', '\r\n'], ['qwertydkjf', '\r\n'], ['abqq', 'qqq'], ['abq', 'qqq'],
  ['', '\r\n'], ['x', 'x'], ['ab', 'abc'], ['aab', 'abc']]) {
  T('find_prefix_at_end', Buffer.from(hay), Buffer.from(needle), findPrefixAtEnd(Buffer.from(hay), Buffer.from(needle)));
}
const c = new AsyncChat(null, new Map());
for (const term of ['\r\n', 0, 5, null]) {
  c.setTerminator(term);
  T('set_terminator', typeof term === 'string' ? Buffer.from(term) : term, '->', c.getTerminator());
}
try { c.setTerminator(-1); } catch (e) { T('set_terminator -1', exc(e)); }
for (const call of [() => c.collectIncomingData(Buffer.from('x')), () => c.foundTerminator()]) {
  try { call(); } catch (e) { T(exc(e, false)); }
}
c._collectIncomingData(Buffer.from('ab'));
c._collectIncomingData(Buffer.from('cd'));
T('_get_data', c._getData(), 'then', c._getData(), 'incoming', c.incoming.length);
T('readable', c.readable(), 'writable', c.writable());
