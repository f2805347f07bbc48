# Items 33, 51, 56: handle_error's log line when repr() itself fails (the fallback text, an
# id without 0x), and log_info/log with messages that are not strings (str(): bytes as repr, None, True).
from difftrace import *

sys.stderr = sys.stdout  # log() writes to stderr


class BadRepr(asyncore.dispatcher):
    def __repr__(self):
        raise Boom('no repr')

    def handle_write(self):
        raise Boom('write failed')


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    d = BadRepr(a, m)
    d.ignore_log_types = frozenset()
    run(m, use_poll, 1)
    T('in map', len(m))
    b.close()
d = asyncore.dispatcher(map={})
d.log_info(42)
d.log_info(None, 'EGGS')
d.log_info(b'bytes')
d.log(True)
