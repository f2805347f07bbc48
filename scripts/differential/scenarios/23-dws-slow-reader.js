// Items 58-60: dispatcher_with_send to a slow reader: send() queues everything and sends what
// the kernel takes; writable() stays true while anything is queued; handle_write sends at most
// 65536 bytes at a time until the buffer drains; every byte arrives in order.
const crypto = require('node:crypto');
const { T, PASSES, peerPair, DispatcherWithSend, OSError, socket, loop } = require('../difftrace');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const [a, b] = peerPair();
  a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192);
  const d = new DispatcherWithSend(a, m);
  d.readable = () => false;
  const data = Buffer.alloc(256 * 4096);
  for (let i = 0; i < data.length; i++) data[i] = i & 255;
  d.send(data);
  T('send returns', null);
  T('queued', d.outBuffer.length > 0, 'writable', d.writable());
  const got = [];
  let total = 0;
  let passes = 0;
  while ((d.outBuffer.length > 0 || total < data.length) && passes < 5000) {
    try {
      const chunk = b.recv(100000);
      got.push(chunk);
      total += chunk.length;
    } catch (e) {
      if (!(e instanceof OSError)) throw e;
    }
    loop(0.01, usePoll, m, 1);
    passes++;
  }
  const out = Buffer.concat(got);
  T('received', out.length, 'intact', sha(out) === sha(data));
  T('drained', d.outBuffer.length, 'writable', d.writable());
  d.close();
  b.close();
}
