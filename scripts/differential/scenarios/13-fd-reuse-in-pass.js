// Item 16 (bpo-30931): a handler closes another ready channel and a new one takes its fd
// number in the same pass: the new channel receives the stale event (select: through read();
// poll: through readwrite()), and recv() there raises EAGAIN into handle_error.
const { T, run, PASSES, Rec, peerPair, closeAll } = require('../difftrace');

let victim;
let keep;
class Closer extends Rec {
  handleRead() {
    T(this.name, 'handle_read: closes victim, opens newcomer');
    this.recv(100);
    const fd = victim._fileno;
    victim.close();
    const [x, y] = peerPair();
    keep.push(y);
    const newcomer = new Rec('newcomer', x, this._map);
    newcomer.wantWrite = false;
    T('newcomer took the fd', newcomer._fileno === fd);
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  keep = [];
  const [a1, b1] = peerPair();
  const [a2, b2] = peerPair();
  const closer = new Closer('closer', a1, m);
  victim = new Rec('victim', a2, m);
  closer.wantWrite = victim.wantWrite = false;
  b1.send('go');
  b2.send('stale');
  run(m, usePoll, 1);
  closeAll(m);
  for (const s of [...keep, b1, b2]) s.close();
}
