# Items 80, 81, 83 (test_simple_producer, test_string_producer): initiate_send makes one send
# per call: producers are asked for more() and their output goes in front of them, an
# exhausted producer is dropped, bytes in the FIFO are sliced, and an empty entry is dropped
# with a zero-length send.
from difftrace import *


class Counting:
    def __init__(self, n):
        self.n = n

    def more(self):
        self.n -= 1
        T('  more() ->', self.n)
        return b'p%d;' % self.n if self.n > 0 else b''


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    c = Chat('chat', a, m)
    c.want = 0
    c.push_with_producer(asynchat.simple_producer(b'simple producer data', buffer_size=8))
    T('fifo', len(c.producer_fifo))
    c.push_with_producer(b'bytes as a producer')
    c.push_with_producer(Counting(3))
    c.push(b'')
    c.push(b'end')
    run(m, use_poll, 12)
    T('peer got', b.recv(1000), 'fifo', len(c.producer_fifo), 'writable', bool(c.writable()))
    p = asynchat.simple_producer(b'abcdefghij', 4)
    T('simple_producer', p.more(), p.more(), p.more(), p.more())
    c.close()
    b.close()
