// Items 16, 22: select dispatches every reader, then every writer; poll dispatches per fd
// (read then write for the same fd), in registration order. A channel closed earlier in the
// pass is skipped.
const { T, run, PASSES, Rec, peerPair, closeAll } = require('../difftrace');

let c;
class Both extends Rec {
  handleRead() {
    T(this.name, 'read', this.recv(10));
    if (this.name === 'b') {
      T('b closes c');
      c.close();
    }
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const peers = [];
  const ds = [];
  for (const n of 'abc') {
    const [x, y] = peerPair();
    y.send(`to ${n}`);
    peers.push(y);
    ds.push(new Both(n, x, m));
  }
  c = ds[2];
  run(m, usePoll, 1);
  closeAll(m);
  for (const y of peers) y.close();
}
