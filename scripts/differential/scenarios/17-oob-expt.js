// Items 13, 20, 50: out-of-band data: select's exceptfds and poll's POLLPRI reach
// handle_expt_event, which calls handle_expt (SO_ERROR is 0); an error thrown there goes to
// handle_error.
const { T, run, PASSES, Boom, Rec, tcpServer, socket, closeAll } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  for (const fail of [false, true]) {
    T('==', name, fail ? 'fail' : 'ok');
    const m = new Map();
    const [srv, addr] = tcpServer(m);
    srv.wantWrite = false;
    const peer = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
    peer.connect(addr);
    run(m, usePoll, 1);
    const conn = srv.accepted;
    conn.handleExpt = function () {
      T(this.name, 'handle_expt', this.socket.recv(1, socket.MSG_OOB));
      if (fail) throw new Boom('from handle_expt');
    };
    conn.wantRead = true;
    peer.send('!', socket.MSG_OOB);
    run(m, usePoll, 2);
    T('in map', m.size);
    closeAll(m);
    peer.close();
  }
}
