// Items 6, 8, 9: readwrite() on a duck-typed object: which handler each poll flag calls, in
// which order, and where each kind of exception goes.
const { T, exc, Boom, OSError, ExitNow, readwrite, read, write, select } = require('../difftrace');
const E = require('node:os').constants.errno;

class Obj {
  constructor(raise = null) { this.raise = raise; }
  ev(what) { T('  ', what); if (this.raise) throw this.raise; }
  handleReadEvent() { this.ev('read'); }
  handleWriteEvent() { this.ev('write'); }
  handleExptEvent() { this.ev('expt'); }
  handleClose() { T('  ', 'close'); }
  handleError(err) { T('  ', 'handle_error', exc(err)); }
}

const F = [['IN', select.POLLIN], ['PRI', select.POLLPRI], ['OUT', select.POLLOUT], ['ERR', select.POLLERR],
  ['HUP', select.POLLHUP], ['NVAL', select.POLLNVAL],
  ['IN|OUT|PRI|HUP', select.POLLIN | select.POLLOUT | select.POLLPRI | select.POLLHUP]];
for (const [name, flag] of F) {
  T('flags', name);
  readwrite(new Obj(), flag);
}
for (const [label, e] of [['Boom', new Boom('x')], ['ECONNRESET', new OSError(E.ECONNRESET)],
  ['EPIPE', new OSError(E.EPIPE)], ['EACCES', new OSError(E.EACCES)]]) {
  T('raise', label);
  readwrite(new Obj(e), select.POLLIN | select.POLLOUT);
}
T('raise ExitNow');
try { readwrite(new Obj(new ExitNow('stop')), select.POLLIN); } catch (e) { if (e instanceof ExitNow) T('  ', 'ExitNow propagated'); }
for (const [fn, f] of [['read', read], ['write', write]]) {
  T(fn, 'Boom');
  f(new Obj(new Boom('y')));
  T(fn, 'OSError ECONNRESET');
  f(new Obj(new OSError(E.ECONNRESET)));
  try { f(new Obj(new ExitNow('stop'))); } catch (e) { if (e instanceof ExitNow) T('  ', 'ExitNow propagated'); }
}
