// Item 46: close() clears the flags, leaves the map, keeps socket and addr, and a second
// close() is harmless; handle_close is not called by close().
const { T, st, Rec, peerPair, tcpServer } = require('../difftrace');

const m = new Map();
const [srv] = tcpServer(m);
srv.closing = true;
srv.close();
T('after close', st(srv), 'in map', m.size, 'socket kept', srv.socket !== null, 'addr', srv.addr, 'closing', srv.closing);
srv.close();
T('second close ok', st(srv), '_fileno', srv._fileno);
const [a, b] = peerPair();
const d = new Rec('d', a, m);
d.connecting = true;
d.close();
T('pair closed', st(d), 'addr', d.addr, m.size);
b.close();
