// Items 6, 9: an error thrown from each handler reaches handle_error on both passes, and the
// rest of that fd's handlers in the event are skipped. handle_close is reached from recv()
// inside handle_read, so its error arrives through handle_read.
const { T, st, run, PASSES, Boom, Rec, peerPair, socket, closeAll } = require('../difftrace');

class Thrower extends Rec {
  boom(where) {
    T(this.name, where, st(this));
    if (where === this.failIn) throw new Boom(`from ${where}`);
  }
  handleConnect() { this.boom('handle_connect'); }
  handleWrite() { this.boom('handle_write'); }
  handleRead() { this.recv(100); this.boom('handle_read'); }
  handleClose() { this.boom('handle_close'); this.close(); }
  handleAccepted(sock) { sock.close(); this.boom('handle_accepted'); }
}

for (const [name, usePoll] of PASSES) {
  for (const where of ['handle_connect', 'handle_write', 'handle_accepted']) {
    T('==', name, where);
    const m = new Map();
    const srv = new Thrower('srv', null, m);
    srv.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    srv.bind(['127.0.0.1', 0]);
    srv.listen(5);
    const c = new Thrower('client', null, m);
    srv.failIn = c.failIn = where;
    c.wantRead = false;
    c.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    c.connect(srv.socket.getsockname());
    run(m, usePoll, 2);
    T('in map', [...m.values()].map((d) => d.name).sort().join(' '));
    closeAll(m);
  }
  for (const where of ['handle_read', 'handle_close']) {
    T('==', name, where);
    const m = new Map();
    const [a, b] = peerPair();
    const p = new Thrower('pair', a, m);
    p.failIn = where;
    b.send('data');
    b.close();
    run(m, usePoll, 3);
    T('in map', m.size);
  }
}
