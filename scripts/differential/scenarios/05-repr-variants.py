# Item 33 and drift 4: repr() of a dispatcher in each state, and of every address shape:
# host:port, the bind address before listen(), AF_UNIX paths (quotes and escapes chosen as
# Python's repr does), IPv6 tuples, a socketpair peer ('').
from difftrace import *


class S(asyncore.dispatcher):
    pass


m = {}
s = S(map=m)
s.create_socket(socket.AF_INET, socket.SOCK_STREAM)
T(repr(s))
s.listen(1)
T('listen without bind:', repr(s))
s.close()
s = S(map=m)
s.create_socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0))
T('bound:', repr(s))
s.listen(1)
T('listening:', repr(s))
s.close()
T('closed:', repr(s))
a, b = peer_pair()
p = S(a, m)
T('socketpair:', repr(p))
p.close()
b.close()
for addr in ['/tmp/sock', "/tmp/it's", '/tmp/say "hi"', '/tmp/both\'"', '/tmp/tab\there\n',
             '/tmp/caf\u00e9\u200b\x7f', ('::1', 8080, 0, 0), ('127.0.0.1', 8080), ('h', 'p'),
             ('one',), 5]:
    d = S(map={})
    d.addr = addr
    d.connected = True
    T(repr(d))
