// Items 80, 81: before the connect completes initiate_send does nothing (not connected), so
// pushes queue up and writable() is true; once connected the queue drains one send per write
// event.
const { T, st, PASSES, Chat, run, tcpServer, socket, closeAll } = require('../difftrace');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [srv, addr] = tcpServer(m);
  srv.wantWrite = false;
  const c = new Chat('client', null, m);
  c.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  c.connect(addr);
  c.push('first\n');
  c.push('second\n');
  T('queued', c.producerFifo.length, 'writable', c.writable(), st(c));
  run(m, usePoll, 4);
  T('queued', c.producerFifo.length, 'writable', c.writable(), st(c));
  closeAll(m);
}
