"""CPython's asyncore echo server, written the idiomatic way.

    python3 asyncore_server.py [--host 127.0.0.1] [--port 0] [--use-poll]

Prints the bound port on stdout when listening; SIGTERM ends it.
"""
import argparse
import socket
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore


class EchoHandler(asyncore.dispatcher_with_send):
    def handle_read(self):
        data = self.recv(65536)
        if data:
            self.send(data)


class EchoServer(asyncore.dispatcher):
    def __init__(self, host, port):
        super().__init__()
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.set_reuse_addr()
        self.bind((host, port))
        self.listen(4096)

    def handle_accepted(self, sock, addr):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        EchoHandler(sock)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--use-poll", action="store_true")
    args = parser.parse_args()
    server = EchoServer(args.host, args.port)
    sys.stdout.write("%d\n" % server.socket.getsockname()[1])
    sys.stdout.flush()
    asyncore.loop(timeout=30.0, use_poll=args.use_poll)


if __name__ == "__main__":
    main()
