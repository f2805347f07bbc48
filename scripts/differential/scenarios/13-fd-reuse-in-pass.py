# Item 16 (bpo-30931): a handler closes another ready channel and a new one takes its fd
# number in the same pass: the new channel receives the stale event (select: through read();
# poll: through readwrite()), and recv() there raises EAGAIN into handle_error.
from difftrace import *


class Closer(Rec):
    def handle_read(self):
        T(self.name, 'handle_read: closes victim, opens newcomer')
        self.recv(100)
        fd = victim._fileno
        victim.close()
        x, y = peer_pair()
        keep.append(y)
        newcomer = Rec('newcomer', x, self._map)
        newcomer.want_write = False
        T('newcomer took the fd', newcomer._fileno == fd)


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    keep = []
    a1, b1 = peer_pair()
    a2, b2 = peer_pair()
    closer = Closer('closer', a1, m)
    victim = Rec('victim', a2, m)
    closer.want_write = victim.want_write = False
    b1.send(b'go')
    b2.send(b'stale')
    run(m, use_poll, 1)
    asyncore.close_all(m)
    for s in keep + [b1, b2]:
        s.close()
