# Items 2, 11, 30: with no map argument, dispatchers register in socket_map and loop(), poll()
# and poll2() serve it; a private map is left alone.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    a, b = peer_pair()
    d = Rec('default', a)
    d.want_write = False
    x, y = peer_pair()
    p = Rec('private', x, {})
    b.send(b'to default')
    y.send(b'to private')
    settle()
    asyncore.loop(0.01, use_poll, None, 1)
    (asyncore.poll2 if use_poll else asyncore.poll)(0.01)
    T('default map size', len(asyncore.socket_map))
    d.close()
    p.close()
    b.close()
    y.close()
