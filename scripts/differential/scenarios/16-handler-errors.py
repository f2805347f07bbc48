# Items 6, 9: an error thrown from each handler reaches handle_error on both passes, and the
# rest of that fd's handlers in the event are skipped. handle_close is reached from recv()
# inside handle_read, so its error arrives through handle_read.
from difftrace import *


class Thrower(Rec):
    fail_in = None

    def boom(self, where):
        T(self.name, where, st(self))
        if where == self.fail_in:
            raise Boom('from ' + where)

    def handle_connect(self): self.boom('handle_connect')
    def handle_write(self): self.boom('handle_write')
    def handle_read(self):
        self.recv(100)
        self.boom('handle_read')
    def handle_close(self):
        self.boom('handle_close')
        self.close()
    def handle_accepted(self, sock, addr):
        sock.close()
        self.boom('handle_accepted')


for name, use_poll in PASSES:
    for where in ('handle_connect', 'handle_write', 'handle_accepted'):
        T('==', name, where)
        m = {}
        srv = Thrower('srv', map=m)
        srv.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.bind(('127.0.0.1', 0))
        srv.listen(5)
        c = Thrower('client', map=m)
        srv.fail_in = c.fail_in = where
        c.want_read = False
        c.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        c.connect(srv.socket.getsockname())
        run(m, use_poll, 2)
        T('in map', ' '.join(sorted(d.name for d in m.values())))
        asyncore.close_all(m)
    for where in ('handle_read', 'handle_close'):
        T('==', name, where)
        m = {}
        a, b = peer_pair()
        p = Thrower('pair', a, m)
        p.fail_in = where
        b.send(b'data')
        b.close()
        run(m, use_poll, 3)
        T('in map', len(m))
