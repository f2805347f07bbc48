# Item 17: a refused non-blocking connect: select reports it readable and writable, the read
# side's handle_connect_event raises ECONNREFUSED into handle_error, and the write side is
# skipped because the channel is gone; poll goes through readwrite().
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    addr = probe.getsockname()
    probe.close()  # nothing listens there now
    c = Rec('client', map=m)
    c.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(addr)
    T('connecting', st(c))
    run(m, use_poll, 2)
    T('map empty', len(m) == 0, st(c))
