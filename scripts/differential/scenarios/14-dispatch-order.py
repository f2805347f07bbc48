# Items 16, 22: select dispatches every reader, then every writer; poll dispatches per fd
# (read then write for the same fd), in registration order. A channel closed earlier in the
# pass is skipped.
from difftrace import *


class Both(Rec):
    def handle_read(self):
        T(self.name, 'read', self.recv(10))
        if self.name == 'b':
            T('b closes c')
            c.close()


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    peers = []
    ds = []
    for n in 'abc':
        x, y = peer_pair()
        y.send(b'to ' + n.encode())
        peers.append(y)
        ds.append(Both(n, x, m))
    c = ds[2]
    run(m, use_poll, 1)
    asyncore.close_all(m)
    for y in peers:
        y.close()
