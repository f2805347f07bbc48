// Items 2, 11, 30: with no map argument, dispatchers register in socket_map and loop(), poll()
// and poll2() serve it; a private map is left alone.
const { T, settle, PASSES, Rec, peerPair, loop, poll, poll2, socketMap } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const [a, b] = peerPair();
  const d = new Rec('default', a);
  d.wantWrite = false;
  const [x, y] = peerPair();
  const p = new Rec('private', x, new Map());
  b.send('to default');
  y.send('to private');
  settle();
  loop(0.01, usePoll, null, 1);
  (usePoll ? poll2 : poll)(0.01);
  T('default map size', socketMap.size);
  d.close();
  p.close();
  b.close();
  y.close();
}
