# Items 33, 42: AF_UNIX: the listener's repr shows the path; connect() to a listening path
# completes at once, so handle_connect runs inside connect(); data flows both ways; a
# connect to a missing path raises and leaves connecting set and addr unset.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    path = tmp_path(name)
    m = {}
    srv = Rec('srv', map=m)
    srv.want_write = False
    srv.create_socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(5)
    T(repr(srv).replace(path, 'PATH'))
    c = Rec('client', map=m)
    c.want_write = False
    c.create_socket(socket.AF_UNIX, socket.SOCK_STREAM)
    T('connect()')
    c.connect(path)
    T('returned', st(c))
    run(m, use_poll, 1)
    c.socket.send(b'over unix')
    run(m, use_poll, 1)
    T('accepted addr', srv.accepted.addr)
    c.close()
    run(m, use_poll, 2)
    d = Rec('lost', map=m)
    d.create_socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        d.connect(path + '-missing')
    except Exception as e:
        T('missing path:', exc(e), st(d), 'addr', d.addr)
    asyncore.close_all(m)
    os.unlink(path)
