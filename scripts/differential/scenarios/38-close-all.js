// Items 2, 62 (test_closeall): close_all() calls close() (not handle_close) on a snapshot of
// the map, ignores EBADF, raises other errors unless ignore_all, and clears the map only when
// nothing propagated.
const { T, exc, st, Boom, Rec, peerPair, OSError, ExitNow, closeAll, socketMap } = require('../difftrace');
const E = require('node:os').constants.errno;

class Dummy {
  constructor(name, err = null) { this.name = name; this.err = err; }
  close() { T('close', this.name); if (this.err) throw this.err; }
  handleClose() { T('handle_close', this.name); }
}

function attempt(m, ignoreAll = false) {
  try {
    closeAll(m, ignoreAll);
    T('  returned, map size', m.size);
  } catch (e) {
    T('  raised', exc(e), 'map size', m.size);
  }
}
const map = (...ds) => new Map(ds.map((d, i) => [i + 1, d]));

attempt(map(new Dummy('a'), new Dummy('b')));
attempt(map(new Dummy('a', new OSError(E.EBADF)), new Dummy('b')));
attempt(map(new Dummy('a', new OSError(E.EPERM)), new Dummy('b')));
attempt(map(new Dummy('a', new OSError(E.EPERM)), new Dummy('b')), true);
attempt(map(new Dummy('a', new Boom('x')), new Dummy('b')));
attempt(map(new Dummy('a', new Boom('x')), new Dummy('b')), true);
attempt(map(new Dummy('a', new ExitNow('stop')), new Dummy('b')), true);
const [a, b] = peerPair();
const d = new Rec('real', a, socketMap);
closeAll();
T('default map size', socketMap.size, st(d));
b.close();
