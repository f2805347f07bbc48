# Items 52-54: the default handlers' warning lines, in a real run on both passes with
# 'warning' no longer ignored: connect, write, read, accepted (closes the socket), close.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    srv = asyncore.dispatcher(map=m)
    srv.ignore_log_types = frozenset()
    srv.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(5)
    c = asyncore.dispatcher(map=m)
    c.ignore_log_types = frozenset()
    c.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(srv.socket.getsockname())
    run(m, use_poll, 2)
    d = asyncore.dispatcher(map=m)
    d.ignore_log_types = frozenset()
    d.handle_expt()
    d.handle_read()
    a, b = peer_pair()
    e = asyncore.dispatcher(a, m)
    e.ignore_log_types = frozenset()
    b.close()
    e.handle_read_event = lambda: e.recv(10)
    run(m, use_poll, 1)
    asyncore.close_all(m)
