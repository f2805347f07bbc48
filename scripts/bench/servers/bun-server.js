'use strict';
// Bun's TCP echo server (Bun.listen: uSockets over epoll), a non-libuv peer.
//   bun bun-server.js [--host 127.0.0.1] [--port 0]
// Written as Bun's docs show: echo in the data handler; what write() did not
// take is kept, reading pauses until the drain handler has sent it (the same
// back-pressure as the C server). Every connection gets TCP_NODELAY.
// Note: uSockets reads up to 512 KiB per recv(2) (its shared receive buffer;
// not configurable), where the other servers read 64 KiB.
// Prints the bound port on stdout when listening; SIGTERM ends it.

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));

/** Send what is pending; true when all of it went out. */
function flush(sock) {
  const pending = sock.data;
  const n = sock.write(pending);
  if (n < 0) return false; // closed
  if (n === pending.length) {
    sock.data = null;
    return true;
  }
  sock.data = pending.subarray(n);
  return false;
}

const server = Bun.listen({
  hostname: host,
  port,
  socket: {
    open(sock) {
      sock.data = null;
      sock.setNoDelay(true);
    },
    data(sock, data) {
      if (sock.data) {
        // still sending earlier bytes (a read that raced the pause): queue behind them
        sock.data = Buffer.concat([sock.data, data]);
        return;
      }
      const n = sock.write(data);
      if (n >= 0 && n < data.length) {
        // the handler's buffer is not ours to keep: copy the rest
        sock.data = Uint8Array.prototype.slice.call(data, n);
        sock.pause();
      }
    },
    drain(sock) {
      if (sock.data && flush(sock)) sock.resume();
    },
    error(sock) {
      sock.end();
    },
  },
});
process.stdout.write(`${server.port}\n`);
