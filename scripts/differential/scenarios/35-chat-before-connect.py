# Items 80, 81: before the connect completes initiate_send does nothing (not connected), so
# pushes queue up and writable() is true; once connected the queue drains one send per write
# event.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    srv, addr = tcp_server(m)
    srv.want_write = False
    c = Chat('client', map=m)
    c.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(addr)
    c.push(b'first\n')
    c.push(b'second\n')
    T('queued', len(c.producer_fifo), 'writable', bool(c.writable()), st(c))
    run(m, use_poll, 4)
    T('queued', len(c.producer_fifo), 'writable', bool(c.writable()), st(c))
    asyncore.close_all(m)
