// Items 36, 38, 40, 41, 43 (test_bind, test_create_socket, test_set_reuse_addr): bind() sets
// addr and listen() sets accepting before the call, so both stay set when it fails; accept()
// with nothing pending returns None; set_reuse_addr turns SO_REUSEADDR on; a new socket is
// non-blocking and not inheritable.
const { T, exc, st, Rec, tcpServer, socket, closeAll } = require('../difftrace');
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

const m = new Map();
const [srv, addr] = tcpServer(m);
T('accept with nothing pending:', srv.accept());
const other = new Rec('other', null, m);
other.createSocket(socket.AF_INET, socket.SOCK_STREAM);
T('reuseaddr before', other.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) !== 0);
try { other.bind(addr); } catch (e) { T('bind in use:', exc(e), 'addr set anyway', same(other.addr, addr)); }
other.setReuseAddr();
T('reuseaddr after', other.socket.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) !== 0);
T('blocking', other.socket.getblocking(), 'inheritable', other.socket.getInheritable(),
  'family/type', same(other.familyAndType, [socket.AF_INET, socket.SOCK_STREAM]));
const u = new Rec('udp', null, m);
u.createSocket(socket.AF_INET, socket.SOCK_DGRAM);
try { u.listen(1); } catch (e) { T('listen on UDP:', exc(e), st(u)); }
const old = srv._fileno;
srv.createSocket(socket.AF_INET, socket.SOCK_STREAM);
T('create_socket twice leaves the old entry:', m.has(old), m.has(srv._fileno), m.get(old) === m.get(srv._fileno));
closeAll(m);
