# Items 45, 72, 78 (test_blockingioerror): a spurious read (EAGAIN) returns quietly without
# handle_error (bpo-16133); at EOF recv() calls handle_close (no log line: async_chat's
# handle_close just closes) and a partial terminator stays in ac_in_buffer.
from difftrace import *

for name, use_poll in PASSES:
    T('==', name)
    m = {}
    a, b = peer_pair()
    c = Chat('chat', a, m, b'\r\n')
    c.handle_read()
    T('spurious read: in map', len(m))
    b.send(b'record\r\npartial\r')
    b.close()
    run(m, use_poll, 2)
    T('left', c.ac_in_buffer, 'in map', len(m))
    a, b = peer_pair()
    d = asynchat.async_chat(a, m)
    d.ignore_log_types = frozenset()
    d.set_terminator(None)
    d.collect_incoming_data = lambda data: T('collect', data)
    b.close()
    run(m, use_poll, 1)
    T('default handle_close: in map', len(m))
