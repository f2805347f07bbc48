"""The Python half of the differential scenarios: helpers every scenario shares.

A scenario prints one line per callback and the state it saw. difftrace.js has the
same helpers under the same names for the library's half; run.js compares the
two outputs line by line after the normalisation it documents.
"""
import errno
import os
import select
import socket
import sys
import time
import warnings

warnings.simplefilter('ignore')  # asyncore's DeprecationWarning (3.11)
import asyncore  # noqa: E402
import asynchat  # noqa: E402

PASSES = (('select', False), ('poll', True))


def r(v):
    """Python's repr(); True/False/None as Python prints them."""
    return repr(v)


def T(*parts):
    """One trace line: strings as they are, anything else as repr()."""
    print(' '.join(p if isinstance(p, str) else r(p) for p in parts))


def exc(e, message=True):
    """An exception as 'Type:message'; OSErrors as 'OSError:ECODE' whatever their subclass."""
    if isinstance(e, OSError) and e.errno is not None:
        return 'OSError:' + errno.errorcode.get(e.errno, str(e.errno))
    name = type(e).__name__
    return name + ':' + str(e) if message else name


def st(d):
    """The flags asyncore keeps in the open, as 'flags=connected+accepting' ('-' for none)."""
    on = [f for f in ('connected', 'accepting', 'connecting') if getattr(d, f)]
    return 'flags=' + ('+'.join(on) or '-')


def settle(seconds=0.01):
    """Let loopback traffic land before a pass (it is done by then; this is margin)."""
    time.sleep(seconds)


def run(map, use_poll, n=1, timeout=0.05):
    """n single passes, each after settle()."""
    for _ in range(n):
        settle()
        asyncore.loop(timeout, use_poll, map, 1)


def tmp_path(tag):
    return '/tmp/adiff-%d-%s' % (os.getpid(), tag)


class Boom(Exception):
    """The error scenarios throw from handlers (JavaScript: class Boom extends Error)."""


class Rec(asyncore.dispatcher):
    """A dispatcher that traces every handler, then does the least it can:
    handle_read recv()s up to 100 bytes, handle_close and handle_error close."""

    want_read = True
    want_write = True

    def __init__(self, name, sock=None, map=None):
        self.name = name
        asyncore.dispatcher.__init__(self, sock, map)

    def readable(self):
        return self.want_read

    def writable(self):
        return self.want_write

    def handle_connect(self):
        T(self.name, 'handle_connect', st(self))

    def handle_accepted(self, sock, addr):
        T(self.name, 'handle_accepted', st(self))
        self.accepted = Rec(self.name + '.conn', sock, self._map)
        self.accepted.want_write = False

    def handle_read(self):
        data = self.recv(100)
        T(self.name, 'handle_read', data, st(self))

    def handle_write(self):
        T(self.name, 'handle_write', st(self))

    def handle_expt(self):
        T(self.name, 'handle_expt', st(self))

    def handle_close(self):
        T(self.name, 'handle_close', st(self))
        self.close()

    def handle_error(self):
        T(self.name, 'handle_error', exc(sys.exc_info()[1]), st(self))
        self.close()


def tcp_server(map, name='srv'):
    """A listening Rec on 127.0.0.1 (an ephemeral port); returns (server, address)."""
    s = Rec(name, map=map)
    s.create_socket(socket.AF_INET, socket.SOCK_STREAM)
    s.set_reuse_addr()
    s.bind(('127.0.0.1', 0))
    s.listen(5)
    return s, s.socket.getsockname()


def peer_pair():
    """A connected socketpair: (ours, theirs); theirs is non-blocking and stays out of any map."""
    a, b = socket.socketpair()
    b.setblocking(False)
    return a, b


class Chat(asynchat.async_chat):
    """An async_chat that traces collect/found/close/error; hooks[event] runs once
    (event 'collect' or 'found') to change state from inside the callback."""

    def __init__(self, name, sock=None, map=None, terminator=b'\n'):
        self.name = name
        self.hooks = {}
        asynchat.async_chat.__init__(self, sock, map)
        if terminator != 'unset':
            self.set_terminator(terminator)

    def _hook(self, event):
        f = self.hooks.pop(event, None)
        if f:
            f(self)

    def collect_incoming_data(self, data):
        T(self.name, 'collect', data)
        self._hook('collect')

    def found_terminator(self):
        T(self.name, 'found', self.get_terminator())
        self._hook('found')

    def handle_close(self):
        T(self.name, 'handle_close', st(self))
        self.close()

    def handle_error(self):
        T(self.name, 'handle_error', exc(sys.exc_info()[1]), st(self))
        self.close()


def feed(peer, chunks, map, use_poll):
    """Send each chunk from the raw peer, with a pass after each."""
    for c in chunks:
        try:
            peer.send(c)
        except OSError as e:
            T('peer send:', exc(e))
            return
        run(map, use_poll, 1)
