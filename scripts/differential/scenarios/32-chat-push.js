// Items 79, 81 and drift 2 (test_push): push() takes bytes, bytearray and memoryview; other
// types raise TypeError; data longer than ac_out_buffer_size is queued in slices and one send
// is made; a size of 0 raises ValueError, a negative one queues nothing.
const { T, r, exc, Chat, peerPair, socket } = require('../difftrace');

const [a, b] = peerPair();
const c = new Chat('chat', a, new Map());
for (const [type, data] of [['bytes', Buffer.from('bytes')], ['bytearray', new Uint8Array(Buffer.from('bytearray'))], ['memoryview', new DataView(new Uint8Array(Buffer.from('memoryview')).buffer)]]) {
  c.push(data);
  T('pushed', type, 'queued', c.producerFifo.length);
}
T('peer got', b.recv(100));
for (const [bad, shown] of [[10, '10'], [null, 'None'], [[1], '[1]']]) {
  try { c.push(bad); } catch (e) { T('push', shown, exc(e, false)); }
}
c.acOutBufferSize = 10;
b.setblocking(true);
a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096);
c.push(Buffer.alloc(25, 'x'));
T('25 bytes in slices of 10:', `[${[...c.producerFifo].map((x) => x.length).join(', ')}]`);
c.acOutBufferSize = 65536;
c.push(Buffer.alloc(700000, 'y'));
T('700000 queued as', c.producerFifo.length, 'entries');
for (const size of [0, -3]) {
  c.discardBuffers();
  c.acOutBufferSize = size;
  try {
    c.push('hello');
    T('size', size, 'queued', c.producerFifo.length);
  } catch (e) {
    T('size', size, exc(e, false), 'queued', c.producerFifo.length);
  }
  c.push('');
  T('size', size, 'empty push queued', c.producerFifo.length);
}
c.close();
b.close();
