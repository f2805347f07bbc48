# Item 31 (bpo-10340, test_quick_connect's path): dispatcher(sock) with a socket that is not
# connected: getpeername fails with ENOTCONN, connected turns False and addr stays None; the
# socket is registered and non-blocking anyway. With a connected one, addr is the peer.
from difftrace import *

m = {}
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
d = Rec('unconnected', s, m)
T(st(d), 'addr', d.addr, 'in map', len(m), 'blocking', d.socket.getblocking())
srv, addr = tcp_server(m)
peer = socket.create_connection(addr)
conn, caddr = srv.socket.accept()
T('accepted socket blocking', conn.getblocking())
e = Rec('accepted', conn, m)
T(st(e), 'addr is the peer', e.addr == peer.getsockname(), 'blocking', e.socket.getblocking(), repr(e))
asyncore.close_all(m)
peer.close()
