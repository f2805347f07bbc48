# Item 69: async_chat sets no terminator: the first read fails inside handle_read and reaches
# handle_error; the received bytes stay in ac_in_buffer. (Python raises AttributeError, the
# port an Error saying to call setTerminator(): only the routing is compared.)
from difftrace import *


class NoTerm(Chat):
    def handle_error(self):
        T(self.name, 'handle_error', 'buffer', self.ac_in_buffer)


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    c = NoTerm('chat', a, m, 'unset')
    feed(b, [b'abc', b'def'], m, use_poll)
    c.set_terminator(b'c')
    feed(b, [b'\n'], m, use_poll)
    c.close()
    b.close()
