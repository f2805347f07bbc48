# Items 76-81: an async_chat line echo server over TCP on both passes: each record is pushed
# back from found_terminator, 'quit' answers and closes when done; the client is a raw socket.
from difftrace import *


class EchoServer(Rec):
    def handle_accepted(self, sock, addr):
        T(self.name, 'handle_accepted')
        Echo('echo', sock, self._map, b'\n')


class Echo(Chat):
    def found_terminator(self):
        line = b''.join(self.incoming)
        self.incoming = []
        T(self.name, 'found', line)
        if line == b'quit':
            self.push(b'bye\n')
            self.close_when_done()
        else:
            self.push(line.upper() + b'\n')

    def collect_incoming_data(self, data):
        self.incoming.append(data)


for name, use_poll in PASSES:
    T('==', name)
    m = {}
    srv = EchoServer('srv', map=m)
    srv.want_write = False
    srv.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(('127.0.0.1', 0))
    srv.listen(5)
    cl = socket.create_connection(srv.socket.getsockname())
    cl.setblocking(False)
    run(m, use_poll, 1)
    for chunk in (b'hello\nwor', b'ld\n', b'\n', b'quit\nignored\n'):
        cl.send(chunk)
        run(m, use_poll, 2)
    got = b''
    while True:
        try:
            data = cl.recv(1000)
        except BlockingIOError:
            break
        if not data:
            got += b'<EOF>'
            break
        got += data
    T('client got', got, 'map size', len(m))
    asyncore.close_all(m)
    cl.close()
