// Item 10: a TCP peer resets (SO_LINGER 0): recv() sees ECONNRESET and calls handle_close,
// and under poll the ERR/HUP bits call it again.
const { T, st, run, PASSES, tcpServer, socket } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [srv, addr] = tcpServer(m);
  srv.wantWrite = false;
  const peer = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
  peer.connect(addr);
  run(m, usePoll, 2);
  const conn = srv.accepted;
  srv.close();
  peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, new Int32Array([1, 0]));
  peer.close();
  run(m, usePoll, 2);
  T('in map', m.size, st(conn));
}
