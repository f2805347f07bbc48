# Items 74, 75 (test_numeric_terminator1-2, test_none_terminator, test_empty_line): a count
# counts down across reads and stays at 0 once it fires, so later data is collected whole;
# None, 0 and b'' collect everything; empty records fire found without collect.
from difftrace import *

for name, use_poll in PASSES:
    for term in (1, 6, 10, None, 0, b''):
        T('==', name, term)
        m = {}
        a, b = peer_pair()
        c = Chat('chat', a, m, term)
        feed(b, [b'hello ', b'world, a 31-byte line here\n', b'more'], m, use_poll)
        T('terminator now', c.terminator)
        c.close()
        b.close()
    T('==', name, 'empty records')
    m = {}
    a, b = peer_pair()
    c = Chat('chat', a, m, b'\n')
    feed(b, [b"hello world\n\nI'm not dead yet!\n", b'\n\n'], m, use_poll)
    c.close()
    b.close()
