# Items 15, 23: a channel whose fd was closed behind its back: select raises EBADF out of
# poll()/loop(); poll reports POLLNVAL and handle_close runs, with nothing raised.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    d = Rec('d', a, m)
    d.want_write = False
    os.close(a.fileno())
    try:
        run(m, use_poll, 1)
        T('loop returned', 'in map', len(m))
    except Exception as e:
        T('loop raised', exc(e))
    m.clear()
    a.detach()  # its fd number is closed already: the socket object must not close it again
    b.close()
