# Items 78, 80, 81 (test_close_when_done): close_when_done() queues None; the queue is sent
# in order and handle_close runs when the None is reached; the peer reads everything, then EOF.
# A peer that has gone instead: the sends fail and handle_close runs from send().
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    c = Chat('chat', a, m)
    c.push(b'line one\n')
    c.push_with_producer(asynchat.simple_producer(b'line two\n', 4))
    c.close_when_done()
    T('fifo', len(c.producer_fifo))
    run(m, use_poll, 6)
    T('peer got', b.recv(1000), 'then', b.recv(1000), 'in map', len(m))
    b.close()
    a, b = peer_pair()
    c = Chat('gone', a, m)
    b.close()
    c.push(b'into the void')
    c.close_when_done()
    run(m, use_poll, 2)
    T('in map', len(m))
