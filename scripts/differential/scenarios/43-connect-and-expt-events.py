# Items 48, 50: with a connect refused, handle_connect_event raises the SO_ERROR as OSError
# and the state stays connecting; handle_expt_event with SO_ERROR set calls handle_close,
# with it clear calls handle_expt.
from difftrace import *

probe = socket.socket()
probe.bind(('127.0.0.1', 0))
addr = probe.getsockname()
probe.close()
m = {}
c = Rec('client', map=m)
c.create_socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(addr)
settle(0.05)
try:
    c.handle_connect_event()
except OSError as e:
    T('handle_connect_event:', exc(e), st(c))
T('SO_ERROR now', c.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
c.handle_expt_event()
d = Rec('d', map=m)
d.create_socket(socket.AF_INET, socket.SOCK_STREAM)
d.connect(addr)
settle(0.05)
d.handle_expt_event()
T('in map', len(m))
