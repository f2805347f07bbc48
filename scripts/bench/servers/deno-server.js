// Deno's TCP echo server (Deno.listen: tokio over epoll), a non-libuv peer.
//   deno run --allow-net deno-server.js [--host 127.0.0.1] [--port 0]
// Written as Deno's docs show: one async task per connection reading into a
// 64 KiB buffer and writing every byte back before the next read (write()
// may take part of it: the loop sends the rest). TCP_NODELAY on every
// connection. Prints the bound port on stdout when listening; SIGTERM ends it.

function arg(name, def) {
  const i = Deno.args.indexOf(name);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : def;
}

const hostname = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));

async function echo(conn) {
  const buf = new Uint8Array(65536);
  try {
    conn.setNoDelay(true);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      for (let off = 0; off < n; ) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    // reset by the peer: drop the connection
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

const listener = Deno.listen({ hostname, port });
await Deno.stdout.write(new TextEncoder().encode(`${listener.addr.port}\n`));
for await (const conn of listener) echo(conn);
