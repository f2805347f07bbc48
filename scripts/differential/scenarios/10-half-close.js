// Items 10, 45: the peer shuts down its write side only: the data, then b'' and handle_close
// (a shutdown of one direction is not a HUP: handle_close runs once on both passes); the
// peer can still read what we sent before.
const { T, run, PASSES, Rec, peerPair, socket } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const d = new Rec('d', a, m);
  d.wantWrite = false;
  b.send('request');
  b.shutdown(socket.SHUT_WR);
  d.socket.send('reply');
  run(m, usePoll, 3);
  T('peer reads', b.recv(100), 'in map', m.size);
  b.close();
}
