# Items 36, 38, 40, 41, 43 (test_bind, test_create_socket, test_set_reuse_addr): bind() sets
# addr and listen() sets accepting before the call, so both stay set when it fails; accept()
# with nothing pending returns None; set_reuse_addr turns SO_REUSEADDR on; a new socket is
# non-blocking and not inheritable.
from difftrace import *

m = {}
srv, addr = tcp_server(m)
T('accept with nothing pending:', srv.accept())
other = Rec('other', map=m)
other.create_socket(socket.AF_INET, socket.SOCK_STREAM)
T('reuseaddr before', other.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0)
try:
    other.bind(addr)
except Exception as e:
    T('bind in use:', exc(e), 'addr set anyway', other.addr == addr)
other.set_reuse_addr()
T('reuseaddr after', other.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0)
T('blocking', other.socket.getblocking(), 'inheritable', other.socket.get_inheritable(),
  'family/type', other.family_and_type == (socket.AF_INET, socket.SOCK_STREAM))
u = Rec('udp', map=m)
u.create_socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.listen(1)
except Exception as e:
    T('listen on UDP:', exc(e), st(u))
old = srv._fileno
srv.create_socket(socket.AF_INET, socket.SOCK_STREAM)
T('create_socket twice leaves the old entry:', old in m, srv._fileno in m, m[old] is m[srv._fileno])
asyncore.close_all(m)
