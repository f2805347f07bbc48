# Item 47: a UDP dispatcher is neither connected nor connecting, and still gets handle_read;
# recvfrom() gives each datagram whole, on both passes.
from difftrace import *


class Udp(Rec):
    def handle_read(self):
        data, addr = self.socket.recvfrom(100)
        T(self.name, 'handle_read', data, 'from the sender', addr == sender.getsockname(), st(self))


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    u = Udp('udp', map=m)
    u.want_write = False
    u.create_socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(('127.0.0.1', 0))
    T(repr(u), u.family_and_type == (socket.AF_INET, socket.SOCK_DGRAM))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(('127.0.0.1', 0))
    for msg in (b'one', b'two', b''):
        sender.sendto(msg, u.socket.getsockname())
    run(m, use_poll, 4)
    u.want_write = True
    run(m, use_poll, 1)
    u.close()
    sender.close()
