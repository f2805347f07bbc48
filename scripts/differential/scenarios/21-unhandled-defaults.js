// Items 52-54: the default handlers' warning lines, in a real run on both passes with
// 'warning' no longer ignored: connect, write, read, accepted (closes the socket), close.
const { run, PASSES, T, peerPair, Dispatcher, socket, closeAll } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const srv = new Dispatcher(null, m);
  srv.ignoreLogTypes = new Set();
  srv.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  srv.bind(['127.0.0.1', 0]);
  srv.listen(5);
  const c = new Dispatcher(null, m);
  c.ignoreLogTypes = new Set();
  c.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  c.connect(srv.socket.getsockname());
  run(m, usePoll, 2);
  const d = new Dispatcher(null, m);
  d.ignoreLogTypes = new Set();
  d.handleExpt();
  d.handleRead();
  const [a, b] = peerPair();
  const e = new Dispatcher(a, m);
  e.ignoreLogTypes = new Set();
  b.close();
  e.handleReadEvent = () => e.recv(10);
  run(m, usePoll, 1);
  closeAll(m);
}
