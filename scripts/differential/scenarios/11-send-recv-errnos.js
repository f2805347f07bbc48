// Items 44, 45: dispatcher.send() returns 0 on EAGAIN and closes on EPIPE; recv() raises
// EAGAIN (BlockingIOError) instead of returning, and closes on EOF.
const { T, exc, st, Rec, peerPair, socket } = require('../difftrace');

const m = new Map();
const [a, b] = peerPair();
const d = new Rec('d', a, m);
try { d.recv(10); } catch (e) { T('recv with nothing there:', exc(e)); }
d.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096);
let total = 0;
let n;
for (;;) {
  n = d.send(Buffer.alloc(65536, 'x'));
  if (n === 0) break;
  total += n;
}
T('send into a full buffer returns', n, 'after filling it', total > 0, st(d));
b.close();
T('send to a closed peer returns', d.send('x'), 'in map', m.size);
const [a2, b2] = peerPair();
const d2 = new Rec('d2', a2, m);
b2.close();
T('recv at EOF returns', d2.recv(10), 'in map', m.size);
