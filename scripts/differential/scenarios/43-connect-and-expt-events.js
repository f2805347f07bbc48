// Items 48, 50: with a connect refused, handle_connect_event raises the SO_ERROR as OSError
// and the state stays connecting; handle_expt_event with SO_ERROR set calls handle_close,
// with it clear calls handle_expt.
const { T, exc, st, settle, Rec, OSError, socket } = require('../difftrace');

const probe = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
probe.bind(['127.0.0.1', 0]);
const addr = probe.getsockname();
probe.close();
const m = new Map();
const c = new Rec('client', null, m);
c.createSocket(socket.AF_INET, socket.SOCK_STREAM);
c.connect(addr);
settle(0.05);
try { c.handleConnectEvent(); } catch (e) { if (e instanceof OSError) T('handle_connect_event:', exc(e), st(c)); }
T('SO_ERROR now', c.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR));
c.handleExptEvent();
const d = new Rec('d', null, m);
d.createSocket(socket.AF_INET, socket.SOCK_STREAM);
d.connect(addr);
settle(0.05);
d.handleExptEvent();
T('in map', m.size);
