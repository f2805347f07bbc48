# Items 71-73: ac_in_buffer_size bounds each recv, so records span reads; get_terminator() is
# called once per round and may be overridden, even to change the buffer it is about to parse.
from difftrace import *


class Rotating(Chat):
    terms = [b';', 2, None]

    def get_terminator(self):
        t = self.terms[self.calls % 3]
        self.calls += 1
        T('  get_terminator ->', t)
        if self.calls == 4:
            self.ac_in_buffer = b'REPLACED;' + self.ac_in_buffer
        return t


for name, use_poll in PASSES:
    T('==', name, 'small reads')
    m = {}
    a, b = peer_pair()
    c = Chat('chat', a, m, b'\r\n')
    c.ac_in_buffer_size = 4
    b.send(b'first line\r\nsecond\r\nthird')
    run(m, use_poll, 8)
    T('left', c.ac_in_buffer)
    c.close()
    T('==', name, 'get_terminator override')
    a2, b2 = peer_pair()
    r = Rotating('rot', a2, m, 'unset')
    r.calls = 0
    b2.send(b'ab;cdefgh;ij')
    run(m, use_poll, 1)
    T('left', r.ac_in_buffer, 'calls', r.calls)
    r.close()
    b.close()
    b2.close()
