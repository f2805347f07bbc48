# Items 13, 20, 47, 49: a listening socket with the default writable() (True) is never in
# select's write list nor asked for POLLOUT, so it never gets handle_write; several pending
# connections are accepted one per read event; handle_read_event on it is handle_accept.
from difftrace import *


class Lst(Rec):
    def handle_accept(self):
        T(self.name, 'handle_accept')
        pair = self.accept()
        T('  accepted', pair is not None)
        if pair:
            pair[0].close()


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    s = Lst('lst', map=m)
    s.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    s.listen(5)
    peers = [socket.create_connection(s.socket.getsockname()) for _ in range(3)]
    run(m, use_poll, 4)
    s.handle_read_event()
    asyncore.close_all(m)
    for p in peers:
        p.close()
