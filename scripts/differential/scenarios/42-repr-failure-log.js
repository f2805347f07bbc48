// Items 33, 51, 56: handle_error's log line when repr() itself fails (the fallback text, an
// id without 0x), and log_info/log with messages that are not strings (str(): bytes as repr, None, True).
const { T, run, PASSES, Boom, peerPair, Dispatcher } = require('../difftrace');

process.stderr.write = process.stdout.write.bind(process.stdout); // log() writes to stderr

class BadRepr extends Dispatcher {
  toString() { throw new Boom('no repr'); }
  handleWrite() { throw new Boom('write failed'); }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  const d = new BadRepr(a, m);
  d.ignoreLogTypes = new Set();
  run(m, usePoll, 1);
  T('in map', m.size);
  b.close();
}
const d = new Dispatcher(null, new Map());
d.logInfo(42);
d.logInfo(null, 'EGGS');
d.logInfo(Buffer.from('bytes'));
d.log(true);
