# Items 44, 45: dispatcher.send() returns 0 on EAGAIN and closes on EPIPE; recv() raises
# EAGAIN (BlockingIOError) instead of returning, and closes on EOF.
from difftrace import *

m = {}
a, b = peer_pair()
d = Rec('d', a, m)
try:
    d.recv(10)
except Exception as e:
    T('recv with nothing there:', exc(e))
d.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
total = 0
while True:
    n = d.send(b'x' * 65536)
    if n == 0:
        break
    total += n
T('send into a full buffer returns', n, 'after filling it', total > 0, st(d))
b.close()
T('send to a closed peer returns', d.send(b'x'), 'in map', len(m))
a2, b2 = peer_pair()
d2 = Rec('d2', a2, m)
b2.close()
T('recv at EOF returns', d2.recv(10), 'in map', len(m))
