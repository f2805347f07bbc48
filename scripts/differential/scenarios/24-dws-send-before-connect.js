// Item 60: dispatcher_with_send.send() calls initiate_send at once, even before a connect:
// on a socket that is not connected the kernel says EPIPE/ENOTCONN and handle_close runs,
// seeing the data queued (drift 1); what handle_close leaves in out_buffer stays.
const { T, st, peerPair, DispatcherWithSend, socket } = require('../difftrace');

class W extends DispatcherWithSend {
  handleClose() {
    T('handle_close sees', this.outBuffer, st(this));
    if (this.replace !== null) this.outBuffer = this.replace;
    this.close();
  }
}

for (const replace of [null, Buffer.from('X'), Buffer.alloc(0)]) {
  const m = new Map();
  let w = new W(null, m);
  w.replace = replace;
  w.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  T('writable before connect', w.writable());
  w.send('early');
  T('after send', w.outBuffer, 'in map', m.size);
  const [a, b] = peerPair();
  b.close();
  w = new W(a, m);
  w.replace = replace;
  w.send('to a closed peer');
  T('after send', w.outBuffer, 'in map', m.size);
}
