# Items 73, 76 (test_line_terminator1-3): byte terminators '\n', '\r\n' and 'qqq' with the
# input arriving 1, 2 and 3 bytes at a time: partial terminators are kept, never collected.
from difftrace import *

msg = b"hello world\nI'm not dead yet!\n".replace(b'\n', b'TERM')
for name, use_poll in PASSES:
    for term in (b'\n', b'\r\n', b'qqq'):
        for size in (1, 2, 3):
            T('==', name, term, size)
            m = {}
            a, b = peer_pair()
            c = Chat('chat', a, m, term)
            data = msg.replace(b'TERM', term)
            feed(b, [data[i:i + size] for i in range(0, len(data), size)], m, use_poll)
            T('left', c.ac_in_buffer)
            c.close()
            b.close()
