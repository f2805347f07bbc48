# Item 60: dispatcher_with_send.send() calls initiate_send at once, even before a connect:
# on a socket that is not connected the kernel says EPIPE/ENOTCONN and handle_close runs,
# seeing the data queued (drift 1); what handle_close leaves in out_buffer stays.
from difftrace import *


class W(asyncore.dispatcher_with_send):
    def handle_close(self):
        T('handle_close sees', self.out_buffer, st(self))
        if self.replace is not None:
            self.out_buffer = self.replace
        self.close()


for replace in (None, b'X', b''):
    m = {}
    w = W(map=m)
    w.replace = replace
    w.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    T('writable before connect', bool(w.writable()))
    w.send(b'early')
    T('after send', w.out_buffer, 'in map', len(m))
    a, b = peer_pair()
    b.close()
    w = W(a, m)
    w.replace = replace
    w.send(b'to a closed peer')
    T('after send', w.out_buffer, 'in map', len(m))
