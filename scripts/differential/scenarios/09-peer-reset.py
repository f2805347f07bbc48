# Item 10: a TCP peer resets (SO_LINGER 0): recv() sees ECONNRESET and calls handle_close,
# and under poll the ERR/HUP bits call it again.
from difftrace import *
import struct

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    srv, addr = tcp_server(m)
    srv.want_write = False
    peer = socket.create_connection(addr)
    run(m, use_poll, 2)
    conn = srv.accepted
    srv.close()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    peer.close()
    run(m, use_poll, 2)
    T('in map', len(m), st(conn))
