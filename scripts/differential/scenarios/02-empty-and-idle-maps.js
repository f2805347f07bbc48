// Items 11, 14, 19, 21, 26: poll()/poll2()/loop() on an empty map return at once; on a map of
// idle dispatchers (neither readable nor writable) both passes still wait for the timeout,
// and loop(count) asks every dispatcher once per pass.
const { T, exc, PASSES, peerPair, Dispatcher, poll, poll2, loop } = require('../difftrace');

class Idle extends Dispatcher {
  readable() { T('  readable'); return false; }
  writable() { T('  writable'); return false; }
}

function timed(label, fn) {
  const t = performance.now();
  fn();
  T(label, performance.now() - t >= 150 ? 'waited' : 'at once');
}

const empty = new Map();
timed('poll empty', () => poll(0.3, empty));
timed('poll2 empty', () => poll2(0.3, empty));
timed('loop empty', () => loop(0.3, false, empty, 5));
const m = new Map();
const [a, b] = peerPair();
const d = new Idle(a, m);
for (const [name, usePoll] of PASSES) {
  timed(`${name} idle`, () => loop(0.2, usePoll, m, 1));
  timed(`${name} count=0`, () => loop(0.2, usePoll, m, 0));
  timed(`${name} count=-1`, () => loop(0.2, usePoll, m, -1));
  T(name, 'count=3');
  loop(0.01, usePoll, m, 3);
}
T('poll timeout=None on an idle map:');
try { poll(null, m); } catch (e) { T('  ', exc(e, false)); }
d.close();
b.close();
