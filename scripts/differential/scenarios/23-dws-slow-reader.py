# Items 58-60: dispatcher_with_send to a slow reader: send() queues everything and sends what
# the kernel takes; writable() stays true while anything is queued; handle_write sends at most
# 65536 bytes at a time until the buffer drains; every byte arrives in order.
from difftrace import *
import hashlib


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    d = asyncore.dispatcher_with_send(a, m)
    d.readable = lambda: False
    data = bytes(range(256)) * 4096  # 1 MiB
    T('send returns', d.send(data))
    T('queued', len(d.out_buffer) > 0, 'writable', bool(d.writable()))
    got = []
    passes = 0
    while (d.out_buffer or sum(map(len, got)) < len(data)) and passes < 5000:
        try:
            got.append(b.recv(100000))
        except BlockingIOError:
            pass
        asyncore.loop(0.01, use_poll, m, 1)
        passes += 1
    out = b''.join(got)
    T('received', len(out), 'intact', hashlib.sha256(out).hexdigest() == hashlib.sha256(data).hexdigest())
    T('drained', len(d.out_buffer), 'writable', bool(d.writable()))
    d.close()
    b.close()
