// Item 51: the default handle_error logs one 'error:' line naming the channel's repr and the
// exception (traceback frames are not compared), then calls handle_close, which logs its own
// warning once warnings are shown, and closes.
const { T, run, PASSES, Boom, peerPair, Dispatcher, OSError, socket } = require('../difftrace');
const E = require('node:os').constants.errno;

class Failing extends Dispatcher {
  handleWrite() { throw new Boom('boom goes the handler'); }
  handleRead() {
    this.socket.recv(1, socket.MSG_PEEK);
    throw new OSError(E.EACCES);
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  let a, b, b2;
  [a, b] = peerPair();
  new Failing(a, m);
  run(m, usePoll, 1);
  T('in map', m.size);
  [a, b2] = peerPair();
  const g = new Failing(a, m);
  g.ignoreLogTypes = new Set();
  g.writable = () => false;
  b2.send('x');
  run(m, usePoll, 1);
  T('in map', m.size);
  b.close();
  b2.close();
}
