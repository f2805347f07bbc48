# Item 46: close() clears the flags, leaves the map, keeps socket and addr, and a second
# close() is harmless; handle_close is not called by close().
from difftrace import *

m = {}
srv, addr = tcp_server(m)
srv.closing = True
srv.close()
T('after close', st(srv), 'in map', len(m), 'socket kept', srv.socket is not None, 'addr', srv.addr, 'closing', srv.closing)
srv.close()
T('second close ok', st(srv), '_fileno', srv._fileno)
a, b = peer_pair()
d = Rec('d', a, m)
d.connecting = True
d.close()
T('pair closed', st(d), 'addr', d.addr, len(m))
b.close()
