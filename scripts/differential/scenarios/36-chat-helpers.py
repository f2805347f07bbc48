# Items 70, 71, 84 (test_find_prefix_at_end, test_disallow_negative_terminator):
# find_prefix_at_end, set_terminator's rules, and the NotImplementedError defaults.
from difftrace import *

for hay, needle in [(b'qwerty\r', b'\r\n'), (b'qwertydkjf', b'\r\n'), (b'abqq', b'qqq'), (b'abq', b'qqq'),
                    (b'', b'\r\n'), (b'x', b'x'), (b'ab', b'abc'), (b'aab', b'abc')]:
    T('find_prefix_at_end', hay, needle, asynchat.find_prefix_at_end(hay, needle))
c = asynchat.async_chat(map={})
for term in (b'\r\n', 0, 5, None):
    c.set_terminator(term)
    T('set_terminator', term, '->', c.get_terminator())
try:
    c.set_terminator(-1)
except Exception as e:
    T('set_terminator -1', exc(e))
for call in (lambda: c.collect_incoming_data(b'x'), lambda: c.found_terminator()):
    try:
        call()
    except Exception as e:
        T(exc(e, False))
c._collect_incoming_data(b'ab')
c._collect_incoming_data(b'cd')
T('_get_data', c._get_data(), 'then', c._get_data(), 'incoming', len(c.incoming))
T('readable', bool(c.readable()), 'writable', bool(c.writable()))
