// Items 13, 20, 47, 49: a listening socket with the default writable() (True) is never in
// select's write list nor asked for POLLOUT, so it never gets handle_write; several pending
// connections are accepted one per read event; handle_read_event on it is handle_accept.
const { T, run, PASSES, Rec, socket, closeAll } = require('../difftrace');

class Lst extends Rec {
  handleAccept() {
    T(this.name, 'handle_accept');
    const pair = this.accept();
    T('  accepted', pair !== null);
    if (pair) pair[0].close();
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const s = new Lst('lst', null, m);
  s.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  s.bind(['127.0.0.1', 0]);
  s.listen(5);
  const peers = [0, 1, 2].map(() => {
    const p = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
    p.connect(s.socket.getsockname());
    return p;
  });
  run(m, usePoll, 4);
  s.handleReadEvent();
  closeAll(m);
  for (const p of peers) p.close();
}
