// Item 17: a refused non-blocking connect: select reports it readable and writable, the read
// side's handle_connect_event raises ECONNREFUSED into handle_error, and the write side is
// skipped because the channel is gone; poll goes through readwrite().
const { T, st, run, PASSES, Rec, socket } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const probe = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
  probe.bind(['127.0.0.1', 0]);
  const addr = probe.getsockname();
  probe.close(); // nothing listens there now
  const c = new Rec('client', null, m);
  c.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  c.connect(addr);
  T('connecting', st(c));
  run(m, usePoll, 2);
  T('map empty', m.size === 0, st(c));
}
