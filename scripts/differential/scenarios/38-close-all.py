# Items 2, 62 (test_closeall): close_all() calls close() (not handle_close) on a snapshot of
# the map, ignores EBADF, raises other errors unless ignore_all, and clears the map only when
# nothing propagated.
from difftrace import *


class Dummy:
    def __init__(self, name, err=None):
        self.name, self.err = name, err

    def close(self):
        T('close', self.name)
        if self.err:
            raise self.err

    def handle_close(self):
        T('handle_close', self.name)


def attempt(m, ignore_all=False):
    try:
        asyncore.close_all(m, ignore_all)
        T('  returned, map size', len(m))
    except Exception as e:
        T('  raised', exc(e), 'map size', len(m))


attempt({1: Dummy('a'), 2: Dummy('b')})
attempt({1: Dummy('a', OSError(errno.EBADF, 'bad')), 2: Dummy('b')})
attempt({1: Dummy('a', OSError(errno.EPERM, 'perm')), 2: Dummy('b')})
attempt({1: Dummy('a', OSError(errno.EPERM, 'perm')), 2: Dummy('b')}, True)
attempt({1: Dummy('a', Boom('x')), 2: Dummy('b')})
attempt({1: Dummy('a', Boom('x')), 2: Dummy('b')}, True)
attempt({1: Dummy('a', asyncore.ExitNow('stop')), 2: Dummy('b')}, True)
a, b = peer_pair()
d = Rec('real', a, asyncore.socket_map)
asyncore.close_all()
T('default map size', len(asyncore.socket_map), st(d))
b.close()
