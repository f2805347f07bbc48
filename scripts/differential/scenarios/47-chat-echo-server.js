// Items 76-81: an async_chat line echo server over TCP on both passes: each record is pushed
// back from found_terminator, 'quit' answers and closes when done; the client is a raw socket.
const { T, run, PASSES, Rec, Chat, OSError, socket, closeAll } = require('../difftrace');

class EchoServer extends Rec {
  handleAccepted(sock) {
    T(this.name, 'handle_accepted');
    new Echo('echo', sock, this._map, '\n');
  }
}

class Echo extends Chat {
  foundTerminator() {
    const line = Buffer.concat(this.incoming);
    this.incoming = [];
    T(this.name, 'found', line);
    if (line.toString() === 'quit') {
      this.push('bye\n');
      this.closeWhenDone();
    } else {
      this.push(Buffer.concat([Buffer.from(line.toString().toUpperCase()), Buffer.from('\n')]));
    }
  }
  collectIncomingData(data) { this.incoming.push(data); }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const srv = new EchoServer('srv', null, m);
  srv.wantWrite = false;
  srv.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  srv.bind(['127.0.0.1', 0]);
  srv.listen(5);
  const cl = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
  cl.connect(srv.socket.getsockname());
  cl.setblocking(false);
  run(m, usePoll, 1);
  for (const chunk of ['hello\nwor', 'ld\n', '\n', 'quit\nignored\n']) {
    cl.send(chunk);
    run(m, usePoll, 2);
  }
  let got = Buffer.alloc(0);
  for (;;) {
    let data;
    try { data = cl.recv(1000); } catch (e) { if (e instanceof OSError) break; throw e; }
    if (data.length === 0) { got = Buffer.concat([got, Buffer.from('<EOF>')]); break; }
    got = Buffer.concat([got, data]);
  }
  T('client got', got, 'map size', m.size);
  closeAll(m);
  cl.close();
}
