# Items 10, 45: the peer shuts down its write side only: the data, then b'' and handle_close
# (a shutdown of one direction is not a HUP: handle_close runs once on both passes); the
# peer can still read what we sent before.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    d = Rec('d', a, m)
    d.want_write = False
    b.send(b'request')
    b.shutdown(socket.SHUT_WR)
    d.socket.send(b'reply')
    run(m, use_poll, 3)
    T('peer reads', b.recv(100), 'in map', len(m))
    b.close()
