// Items 42, 47, 48, 49, 53: a TCP connect and accept on both passes: handle_connect runs
// while connected is still False, the listener gets handle_accepted, the accepted channel
// is connected, and each side's flags afterwards.
const { T, st, run, PASSES, Rec, tcpServer, socket, closeAll } = require('../difftrace');
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [srv, addr] = tcpServer(m);
  srv.wantWrite = false;
  const c = new Rec('client', null, m);
  c.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  c.connect(addr);
  T('after connect()', st(c), same(c.addr, addr));
  run(m, usePoll, 3);
  T('server', st(srv), 'client', st(c), 'accepted', st(srv.accepted));
  T('accepted addr is the client', same(srv.accepted.addr, c.socket.getsockname()));
  closeAll(m);
}
