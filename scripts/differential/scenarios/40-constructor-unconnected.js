// Item 31 (bpo-10340, test_quick_connect's path): dispatcher(sock) with a socket that is not
// connected: getpeername fails with ENOTCONN, connected turns False and addr stays None; the
// socket is registered and non-blocking anyway. With a connected one, addr is the peer.
const { T, st, Rec, tcpServer, socket, closeAll } = require('../difftrace');
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

const m = new Map();
const s = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
const d = new Rec('unconnected', s, m);
T(st(d), 'addr', d.addr, 'in map', m.size, 'blocking', d.socket.getblocking());
const [srv, addr] = tcpServer(m);
const peer = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
peer.connect(addr);
const [conn] = srv.socket.accept();
T('accepted socket blocking', conn.getblocking());
const e = new Rec('accepted', conn, m);
T(st(e), 'addr is the peer', same(e.addr, peer.getsockname()), 'blocking', e.socket.getblocking(), e.toString());
closeAll(m);
peer.close();
