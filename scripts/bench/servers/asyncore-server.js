'use strict';
// This library's echo server, written the asyncore way (as one would in
// Python): a listening Dispatcher whose handleAccepted() creates an echo
// handler; the handler is a DispatcherWithSend (asyncore's
// dispatcher_with_send) whose handleRead() sends back what it receives.
//
//   node asyncore-server.js [--host 127.0.0.1] [--port 0]
//                           [--backend select|poll|epoll] [--async]
//
// --async serves with loopAsync() instead of the blocking loop().
// Prints the bound port on stdout when listening; SIGTERM ends it.
const path = require('node:path');

const lib = require(process.env.ASYNCORE_LIB || path.join(__dirname, '..', '..', '..', 'dist', 'lib', 'index.js'));
const { Dispatcher, DispatcherWithSend, loop, loopAsync, socket } = lib;

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));
const backend = arg('--backend', 'epoll');
const useAsync = process.argv.includes('--async');

class EchoHandler extends DispatcherWithSend {
  handleRead() {
    const data = this.recv(65536);
    if (data.length) this.send(data);
  }
}

class EchoServer extends Dispatcher {
  constructor(host, port) {
    super();
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.setReuseAddr();
    this.bind([host, port]);
    this.listen(4096);
  }

  handleAccepted(sock, _addr) {
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
    new EchoHandler(sock);
  }
}

const server = new EchoServer(host, port);
// One pass that cannot wait (nothing has connected yet) before the port is
// announced, so that a backend this build lacks fails here, at start-up.
loop({ backend, timeout: 0, count: 1 });
process.stdout.write(`${server.socket.getsockname()[1]}\n`);

if (useAsync) {
  loopAsync({ backend, timeout: 30 }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  loop({ backend, timeout: 30 });
}
