// Items 29, 30, 32, 33, 39: a bare dispatcher's fields and predicates, and its repr.
const { T, Dispatcher, socketMap } = require('../difftrace');

const d = new Dispatcher(null, new Map());
T('debug', d.debug, 'connected', d.connected, 'accepting', d.accepting, 'connecting', d.connecting);
T('closing', d.closing, 'addr', d.addr, 'socket', d.socket, '_fileno', d._fileno);
T('ignore_log_types', d.ignoreLogTypes);
T('readable', d.readable(), 'writable', d.writable());
T('repr', d.toString());
const m = new Map();
const e = new Dispatcher(null, m);
T('a passed-in empty map is used', e._map === m, 'default map', new Dispatcher()._map === socketMap);
