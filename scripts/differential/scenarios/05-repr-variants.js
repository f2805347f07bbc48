// Item 33 and drift 4: repr() of a dispatcher in each state, and of every address shape:
// host:port, the bind address before listen(), AF_UNIX paths (quotes and escapes chosen as
// Python's repr does), IPv6 tuples, a socketpair peer ('').
const { T, peerPair, Dispatcher, socket } = require('../difftrace');

class S extends Dispatcher {}

const m = new Map();
let s = new S(null, m);
s.createSocket(socket.AF_INET, socket.SOCK_STREAM);
T(s.toString());
s.listen(1);
T('listen without bind:', s.toString());
s.close();
s = new S(null, m);
s.createSocket(socket.AF_INET, socket.SOCK_STREAM);
s.bind(['127.0.0.1', 0]);
T('bound:', s.toString());
s.listen(1);
T('listening:', s.toString());
s.close();
T('closed:', s.toString());
const [a, b] = peerPair();
const p = new S(a, m);
T('socketpair:', p.toString());
p.close();
b.close();
for (const addr of ['/tmp/sock', "/tmp/it's", '/tmp/say "hi"', '/tmp/both\'"', '/tmp/tab\there\n',
  '/tmp/caf\u00e9\u200b\x7f', ['::1', 8080, 0, 0], ['127.0.0.1', 8080], ['h', 'p'], ['one'], 5]) {
  const d = new S(null, new Map());
  d.addr = addr;
  d.connected = true;
  T(d.toString());
}
