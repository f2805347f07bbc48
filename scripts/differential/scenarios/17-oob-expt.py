# Items 13, 20, 50: out-of-band data: select's exceptfds and poll's POLLPRI reach
# handle_expt_event, which calls handle_expt (SO_ERROR is 0); an error thrown there goes to
# handle_error.
from difftrace import *


class Oob(Rec):
    def handle_expt(self):
        T(self.name, 'handle_expt', self.socket.recv(1, socket.MSG_OOB))
        if self.fail:
            raise Boom('from handle_expt')


for name, use_poll in PASSES:
    for fail in (False, True):
        T('==', name, 'fail' if fail else 'ok')
        m = {}
        srv, addr = tcp_server(m)
        srv.want_write = False
        peer = socket.create_connection(addr)
        run(m, use_poll, 1)
        conn = srv.accepted
        conn.__class__ = Oob
        conn.fail = fail
        conn.want_read = True
        peer.send(b'!', socket.MSG_OOB)
        run(m, use_poll, 2)
        T('in map', len(m))
        asyncore.close_all(m)
        peer.close()
