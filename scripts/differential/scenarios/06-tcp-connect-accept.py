# Items 42, 47, 48, 49, 53: a TCP connect and accept on both passes: handle_connect runs
# while connected is still False, the listener gets handle_accepted, the accepted channel
# is connected, and each side's flags afterwards.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    srv, addr = tcp_server(m)
    srv.want_write = False
    c = Rec('client', map=m)
    c.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(addr)
    T('after connect()', st(c), c.addr == addr)
    run(m, use_poll, 3)
    T('server', st(srv), 'client', st(c), 'accepted', st(srv.accepted))
    T('accepted addr is the client', srv.accepted.addr == c.socket.getsockname())
    asyncore.close_all(m)
