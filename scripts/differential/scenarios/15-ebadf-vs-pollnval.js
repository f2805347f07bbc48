// Items 15, 23: a channel whose fd was closed behind its back: select raises EBADF out of
// poll()/loop(); poll reports POLLNVAL and handle_close runs, with nothing raised.
const fs = require('node:fs');
const { T, exc, run, PASSES, Rec, peerPair } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const d = new Rec('d', a, m);
  d.wantWrite = false;
  fs.closeSync(a.fileno());
  try {
    run(m, usePoll, 1);
    T('loop returned', 'in map', m.size);
  } catch (e) {
    T('loop raised', exc(e));
  }
  m.clear();
  a.detach(); // its fd number is closed already: the socket object must not close it again
  b.close();
}
