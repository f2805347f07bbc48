// Items 4, 26, 27: loop(count) makes exactly count passes whether or not anything happened,
// stops early when the map empties, and ExitNow from a handler leaves loop() without
// handle_error; other errors do not.
const { T, PASSES, Rec, peerPair, ExitNow, loop } = require('../difftrace');

class Counter extends Rec {
  handleWrite() {
    this.n++;
    T(this.name, 'handle_write', this.n);
    if (this.n === this.stopAt) throw new ExitNow('enough');
    if (this.n === this.closeAt) this.close();
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const c = new Counter('c', a, m);
  c.n = 0;
  c.wantRead = false;
  c.stopAt = c.closeAt = null;
  loop(0.01, usePoll, m, 3);
  c.stopAt = 5;
  try { loop(0.01, usePoll, m, 10); } catch (e) { if (e instanceof ExitNow) T('ExitNow left loop():', e.message, 'in map', m.size); }
  c.closeAt = 7;
  loop(0.01, usePoll, m, 10);
  T('map emptied at', c.n);
  b.close();
}
