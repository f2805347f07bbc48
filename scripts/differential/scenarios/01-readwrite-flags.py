# Items 6, 8, 9: readwrite() on a duck-typed object: which handler each poll flag calls, in
# which order, and where each kind of exception goes.
from difftrace import *


class Obj:
    def __init__(self, raise_=None):
        self.raise_ = raise_

    def _ev(self, what):
        T('  ', what)
        if self.raise_:
            raise self.raise_

    def handle_read_event(self): self._ev('read')
    def handle_write_event(self): self._ev('write')
    def handle_expt_event(self): self._ev('expt')
    def handle_close(self): T('  ', 'close')
    def handle_error(self): T('  ', 'handle_error', exc(sys.exc_info()[1]))


F = [('IN', select.POLLIN), ('PRI', select.POLLPRI), ('OUT', select.POLLOUT), ('ERR', select.POLLERR),
     ('HUP', select.POLLHUP), ('NVAL', select.POLLNVAL),
     ('IN|OUT|PRI|HUP', select.POLLIN | select.POLLOUT | select.POLLPRI | select.POLLHUP)]
for name, flag in F:
    T('flags', name)
    asyncore.readwrite(Obj(), flag)
for label, e in [('Boom', Boom('x')), ('ECONNRESET', OSError(errno.ECONNRESET, 'reset')),
                 ('EPIPE', OSError(errno.EPIPE, 'pipe')), ('EACCES', OSError(errno.EACCES, 'denied'))]:
    T('raise', label)
    asyncore.readwrite(Obj(e), select.POLLIN | select.POLLOUT)
T('raise ExitNow')
try:
    asyncore.readwrite(Obj(asyncore.ExitNow('stop')), select.POLLIN)
except asyncore.ExitNow:
    T('  ', 'ExitNow propagated')
for fn in ('read', 'write'):
    T(fn, 'Boom')
    getattr(asyncore, fn)(Obj(Boom('y')))
    T(fn, 'OSError ECONNRESET')
    getattr(asyncore, fn)(Obj(OSError(errno.ECONNRESET, 'reset')))
    try:
        getattr(asyncore, fn)(Obj(asyncore.ExitNow('stop')))
    except asyncore.ExitNow:
        T('  ', 'ExitNow propagated')
