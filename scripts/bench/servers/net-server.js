'use strict';
// node:net (libuv) echo server: the anchor of the benchmark.
//   node net-server.js [--host 127.0.0.1] [--port 0]
// Prints the bound port on stdout when listening; SIGTERM ends it.
const net = require('node:net');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));

const server = net.createServer({ noDelay: true }, (sock) => {
  sock.on('error', () => sock.destroy());
  sock.pipe(sock); // echo, with back-pressure
});
server.on('error', (err) => {
  console.error(`net-server: ${err.message}`);
  process.exit(1);
});
server.listen({ host, port, backlog: 4096 }, () => {
  process.stdout.write(`${server.address().port}\n`);
});
