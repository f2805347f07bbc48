// Items 10, 45: the peer closes: recv() returns b'' and calls handle_close; under poll the
// HUP bit of the same event calls handle_close a second time (select: once).
const { T, st, run, PASSES, Rec, peerPair } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const d = new Rec('d', a, m);
  d.wantWrite = false;
  b.send('last words');
  b.close();
  run(m, usePoll, 3);
  T('in map', m.size, st(d));
}
