# Items 79, 81 and drift 2 (test_push): push() takes bytes, bytearray and memoryview; other
# types raise TypeError; data longer than ac_out_buffer_size is queued in slices and one send
# is made; a size of 0 raises ValueError, a negative one queues nothing.
from difftrace import *

a, b = peer_pair()
c = Chat('chat', a, {})
for data in (b'bytes', bytearray(b'bytearray'), memoryview(b'memoryview')):
    c.push(data)
    T('pushed', type(data).__name__, 'queued', len(c.producer_fifo))
T('peer got', b.recv(100))
for bad in (10, None, [1]):
    try:
        c.push(bad)
    except Exception as e:
        T('push', r(bad), exc(e, False))
c.ac_out_buffer_size = 10
b.setblocking(True)
a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
c.push(b'x' * 25)
T('25 bytes in slices of 10:', [len(x) for x in c.producer_fifo])
c.ac_out_buffer_size = 65536
big = b'y' * 700000
c.push(big)
T('700000 queued as', len(c.producer_fifo), 'entries')
for size in (0, -3):
    c.discard_buffers()
    c.ac_out_buffer_size = size
    try:
        c.push(b'hello')
        T('size', size, 'queued', len(c.producer_fifo))
    except Exception as e:
        T('size', size, exc(e, False), 'queued', len(c.producer_fifo))
    c.push(b'')
    T('size', size, 'empty push queued', len(c.producer_fifo))
c.close()
b.close()
