# Items 12, 13, 20: every pass asks readable() then writable() of every dispatcher, in map
# insertion order, on both passes -- a listening socket's writable() included.
from difftrace import *


class Asked(Rec):
    def readable(self):
        T(self.name, 'readable')
        return False

    def writable(self):
        T(self.name, 'writable')
        return False


m = {}
pairs = [peer_pair() for _ in range(3)]
ds = [Asked('d%d' % i, p[0], m) for i, p in enumerate(pairs)]
lst = Asked('listener', map=m)
lst.create_socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(('127.0.0.1', 0))
lst.listen(1)
for name, use_poll in PASSES:
    T('==', name)
    asyncore.loop(0.01, use_poll, m, 2)
asyncore.close_all(m)
for p in pairs:
    p[1].close()
