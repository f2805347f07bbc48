# Item 51: the default handle_error logs one 'error:' line naming the channel's repr and the
# exception (traceback frames are not compared), then calls handle_close, which logs its own
# warning once warnings are shown, and closes.
from difftrace import *


class Failing(asyncore.dispatcher):
    def handle_write(self):
        raise Boom('boom goes the handler')

    def handle_read(self):
        self.socket.recv(1, socket.MSG_PEEK)
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    f = Failing(a, m)
    run(m, use_poll, 1)
    T('in map', len(m))
    a, b2 = peer_pair()
    g = Failing(a, m)
    g.ignore_log_types = frozenset()
    g.writable = lambda: False
    b2.send(b'x')
    run(m, use_poll, 1)
    T('in map', len(m))
    b.close()
    b2.close()
