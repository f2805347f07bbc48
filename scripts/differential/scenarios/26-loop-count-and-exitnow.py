# Items 4, 26, 27: loop(count) makes exactly count passes whether or not anything happened,
# stops early when the map empties, and ExitNow from a handler leaves loop() without
# handle_error; other errors do not.
from difftrace import *


class Counter(Rec):
    n = 0

    def handle_write(self):
        self.n += 1
        T(self.name, 'handle_write', self.n)
        if self.n == self.stop_at:
            raise asyncore.ExitNow('enough')
        if self.n == self.close_at:
            self.close()


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    c = Counter('c', a, m)
    c.want_read = False
    c.stop_at = c.close_at = None
    asyncore.loop(0.01, use_poll, m, 3)
    c.stop_at = 5
    try:
        asyncore.loop(0.01, use_poll, m, 10)
    except asyncore.ExitNow as e:
        T('ExitNow left loop():', str(e), 'in map', len(m))
    c.close_at = 7
    asyncore.loop(0.01, use_poll, m, 10)
    T('map emptied at', c.n)
    b.close()
