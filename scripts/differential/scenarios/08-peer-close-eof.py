# Items 10, 45: the peer closes: recv() returns b'' and calls handle_close; under poll the
# HUP bit of the same event calls handle_close a second time (select: once).
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    d = Rec('d', a, m)
    d.want_write = False
    b.send(b'last words')
    b.close()
    run(m, use_poll, 3)
    T('in map', len(m), st(d))
