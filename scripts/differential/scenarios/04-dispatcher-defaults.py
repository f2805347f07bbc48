# Items 29, 30, 32, 33, 39: a bare dispatcher's fields and predicates, and its repr.
from difftrace import *

d = asyncore.dispatcher(map={})
T('debug', d.debug, 'connected', d.connected, 'accepting', d.accepting, 'connecting', d.connecting)
T('closing', d.closing, 'addr', d.addr, 'socket', d.socket, '_fileno', d._fileno)
T('ignore_log_types', d.ignore_log_types)
T('readable', d.readable(), 'writable', d.writable())
T('repr', repr(d))
m = {}
e = asyncore.dispatcher(map=m)
T('a passed-in empty map is used', e._map is m, 'default map', asyncore.dispatcher()._map is asyncore.socket_map)
