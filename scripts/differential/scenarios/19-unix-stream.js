// Items 33, 42: AF_UNIX: the listener's repr shows the path; connect() to a listening path
// completes at once, so handle_connect runs inside connect(); data flows both ways; a
// connect to a missing path raises and leaves connecting set and addr unset.
const fs = require('node:fs');
const { T, exc, st, run, PASSES, Rec, tmpPath, socket, closeAll } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const path = tmpPath(name);
  const m = new Map();
  const srv = new Rec('srv', null, m);
  srv.wantWrite = false;
  srv.createSocket(socket.AF_UNIX, socket.SOCK_STREAM);
  srv.bind(path);
  srv.listen(5);
  T(srv.toString().replace(path, 'PATH'));
  const c = new Rec('client', null, m);
  c.wantWrite = false;
  c.createSocket(socket.AF_UNIX, socket.SOCK_STREAM);
  T('connect()');
  c.connect(path);
  T('returned', st(c));
  run(m, usePoll, 1);
  c.socket.send('over unix');
  run(m, usePoll, 1);
  T('accepted addr', srv.accepted.addr);
  c.close();
  run(m, usePoll, 2);
  const d = new Rec('lost', null, m);
  d.createSocket(socket.AF_UNIX, socket.SOCK_STREAM);
  try { d.connect(`${path}-missing`); } catch (e) { T('missing path:', exc(e), st(d), 'addr', d.addr); }
  closeAll(m);
  fs.unlinkSync(path);
}
