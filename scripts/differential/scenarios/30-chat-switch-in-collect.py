# Items 73-77 and drift 3: collect_incoming_data changes state mid-buffer: discard_buffers()
# stops the parse, set_terminator() applies from the next round, and a count switched to
# bytes or None raises TypeError into handle_error.
from difftrace import *

CASES = [
    ('discard, found', b'\n', b'ab\ncd\nef\n', lambda c: c.discard_buffers()),
    ('discard, prefix', b'\r\n', b'abc\r', lambda c: c.discard_buffers()),
    ('discard, count', 3, b'abcdefgh', lambda c: c.discard_buffers()),
    ('discard, none', None, b'abcdefgh', lambda c: c.discard_buffers()),
    ('bytes -> bytes', b'\n', b'ab\ncd;ef\n', lambda c: c.set_terminator(b';;;')),
    ('bytes -> count', b'\n', b'ab\ncdefgh\n', lambda c: c.set_terminator(3)),
    ('count -> bytes', 10, b'abc', lambda c: c.set_terminator(b'\n')),
    ('count -> None', 10, b'abc', lambda c: c.set_terminator(None)),
    ('count -> count', 10, b'abc', lambda c: c.set_terminator(5)),
    ('count -> bytes, fired', 3, b'abcdef\ngh', lambda c: c.set_terminator(b'\n')),
    ('none -> bytes', None, b'ab\ncd', lambda c: c.set_terminator(b'\n')),
    ('prefix -> other', b'\r\n', b'abc\rdef', lambda c: c.set_terminator(b'x')),
]
for name, use_poll in PASSES:
    for label, term, data, hook in CASES:
        T('==', name, label)
        m = {}
        a, b = peer_pair()
        c = Chat('chat', a, m, term)
        c.hooks['collect'] = hook
        feed(b, [data, b'\n'], m, use_poll)
        T('end', c.ac_in_buffer, c.terminator, 'in map', len(m))
        c.close()
        b.close()
