// Items 12, 13, 20: every pass asks readable() then writable() of every dispatcher, in map
// insertion order, on both passes -- a listening socket's writable() included.
const { T, PASSES, Rec, peerPair, socket, loop, closeAll } = require('../difftrace');

class Asked extends Rec {
  readable() { T(this.name, 'readable'); return false; }
  writable() { T(this.name, 'writable'); return false; }
}

const m = new Map();
const pairs = [0, 1, 2].map(() => peerPair());
pairs.forEach((p, i) => new Asked(`d${i}`, p[0], m));
const lst = new Asked('listener', null, m);
lst.createSocket(socket.AF_INET, socket.SOCK_STREAM);
lst.bind(['127.0.0.1', 0]);
lst.listen(1);
for (const [name, usePoll] of PASSES) {
  T('==', name);
  loop(0.01, usePoll, m, 2);
}
closeAll(m);
for (const p of pairs) p[1].close();
