# Items 11, 14, 19, 21, 26: poll()/poll2()/loop() on an empty map return at once; on a map of
# idle dispatchers (neither readable nor writable) both passes still wait for the timeout,
# and loop(count) asks every dispatcher once per pass.
from difftrace import *


class Idle(asyncore.dispatcher):
    def readable(self):
        T('  readable')
        return False

    def writable(self):
        T('  writable')
        return False


def timed(label, fn):
    t = time.monotonic()
    fn()
    T(label, 'waited' if time.monotonic() - t >= 0.15 else 'at once')


empty = {}
timed('poll empty', lambda: asyncore.poll(0.3, empty))
timed('poll2 empty', lambda: asyncore.poll2(0.3, empty))
timed('loop empty', lambda: asyncore.loop(0.3, False, empty, 5))
m = {}
a, b = peer_pair()
d = Idle(a, m)
for name, use_poll in PASSES:
    timed('%s idle' % name, lambda: asyncore.loop(0.2, use_poll, m, 1))
    timed('%s count=0' % name, lambda: asyncore.loop(0.2, use_poll, m, 0))
    timed('%s count=-1' % name, lambda: asyncore.loop(0.2, use_poll, m, -1))
    T(name, 'count=3')
    asyncore.loop(0.01, use_poll, m, 3)
T('poll timeout=None on an idle map:')
try:
    asyncore.poll(None, m)
except Exception as e:
    T('  ', exc(e, False))
d.close()
b.close()
