// Items 71-73: ac_in_buffer_size bounds each recv, so records span reads; get_terminator() is
// called once per round and may be overridden, even to change the buffer it is about to parse.
const { T, PASSES, Chat, run, peerPair } = require('../difftrace');

class Rotating extends Chat {
  getTerminator() {
    const t = [Buffer.from(';'), 2, null][this.calls % 3];
    this.calls += 1;
    T('  get_terminator ->', t);
    if (this.calls === 4) this.acInBuffer = Buffer.concat([Buffer.from('REPLACED;'), this.acInBuffer]);
    return t;
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name, 'small reads');
  const m = new Map();
  const [a, b] = peerPair();
  const c = new Chat('chat', a, m, '\r\n');
  c.acInBufferSize = 4;
  b.send('first line\r\nsecond\r\nthird');
  run(m, usePoll, 8);
  T('left', c.acInBuffer);
  c.close();
  T('==', name, 'get_terminator override');
  const [a2, b2] = peerPair();
  const r = new Rotating('rot', a2, m, 'unset');
  r.calls = 0;
  b2.send('ab;cdefgh;ij');
  run(m, usePoll, 1);
  T('left', r.acInBuffer, 'calls', r.calls);
  r.close();
  b.close();
  b2.close();
}
