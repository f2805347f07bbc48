#!/usr/bin/env node
'use strict';
/*
 * The library's own cost per operation, in one process, for instruction
 * counts (valgrind --tool=callgrind) that do not depend on the machine's
 * noise. Not a timed test and not `npm run bench`.
 *
 *   node scripts/bench/hotpath.js CASE N [--backend epoll|poll|select] [--async]
 *
 * The server side is the benchmark's echo server (a listening Dispatcher whose
 * handleAccepted() makes a DispatcherWithSend echoing recv(65536)); the client
 * side is blocking raw sockets of this library, driven in the same thread, so
 * one iteration is:
 *   pingpong  write 64 B, one pass (loop count 1), read the 64 B echo
 *   stream    write 64 KiB, passes until it is echoed, read it back
 *   churn     connect + write 64 B, passes until accepted and echoed, read,
 *             close, one pass (the server sees EOF and closes)
 * Every echoed byte is compared. With --async the passes run through
 * loopAsync({ count }) instead of loop({ count }).
 *
 * Instructions per iteration, without start-up and JIT warm-up: run N1 and
 * N2 iterations and take (Ir(N2) - Ir(N1)) / (N2 - N1), e.g.
 *
 *   for n in 2000 4000; do valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
 *     node scripts/bench/hotpath.js stream $n; done
 *   callgrind_annotate /tmp/cg.4000 | head    # and /tmp/cg.2000: subtract the totals
 *
 * Without valgrind it prints the process CPU time per iteration, and with
 * --trace-gc (node --trace-gc ...) the collections it caused.
 */
const path = require('node:path');
const { Buffer } = require('node:buffer');

const lib = require(process.env.ASYNCORE_LIB || path.join(__dirname, '..', '..', 'dist', 'lib', 'index.js'));
const { Dispatcher, DispatcherWithSend, loop, loopAsync, socket } = lib;

const [caseName, nArg] = process.argv.slice(2);
const iterations = Number(nArg);
const opt = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : def;
};
const backend = opt('--backend', 'epoll');
const useAsync = process.argv.includes('--async');
if (!['pingpong', 'stream', 'churn'].includes(caseName) || !(iterations > 0)) {
  process.stderr.write('usage: node scripts/bench/hotpath.js pingpong|stream|churn N [--backend B] [--async]\n');
  process.exit(2);
}

const map = new Map();

class EchoHandler extends DispatcherWithSend {
  handleRead() {
    const data = this.recv(65536);
    if (data.length) this.send(data);
  }
}

class EchoServer extends Dispatcher {
  constructor() {
    super(null, map);
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.setReuseAddr();
    this.bind(['127.0.0.1', 0]);
    this.listen(128);
  }
  handleAccepted(sock) {
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
    new EchoHandler(sock, map);
  }
}

const server = new EchoServer();
const port = server.socket.getsockname()[1];

async function pass(count) {
  if (useAsync) await loopAsync({ map, backend, timeout: 1, count });
  else loop({ map, backend, timeout: 1, count });
}

function connectClient() {
  const c = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
  c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
  c.connect(['127.0.0.1', port]);
  return c;
}

/** Read exactly want.length bytes on a non-blocking client, running passes while they are not all there. */
async function readBack(c, want) {
  const got = Buffer.allocUnsafe(want.length);
  let n = 0;
  for (let spins = 0; n < want.length; spins++) {
    let k = 0;
    try {
      k = c.recvInto(got.subarray(n));
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
    if (k === 0 && spins > 1000000) throw new Error('no echo');
    n += k;
    if (n < want.length) await pass(1);
  }
  if (!got.equals(want)) throw new Error('echo mismatch');
}

async function main() {
  const msg64 = Buffer.alloc(64, 0x61);
  const msg64k = Buffer.alloc(65536);
  for (let i = 0; i < msg64k.length; i++) msg64k[i] = (i * 7919) & 0xff;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (caseName === 'churn') {
    for (let i = 0; i < iterations; i++) {
      const c = connectClient();
      c.send(msg64);
      c.setblocking(false);
      await readBack(c, msg64);
      c.close();
      await pass(1); // EOF: the handler closes
    }
  } else {
    const c = connectClient();
    await pass(1); // accepted
    c.setblocking(false);
    const msg = caseName === 'stream' ? msg64k : msg64;
    for (let i = 0; i < iterations; i++) {
      let sent = 0;
      while (sent < msg.length) {
        sent += c.send(msg.subarray(sent));
        if (sent < msg.length) await pass(1);
      }
      await pass(1);
      await readBack(c, msg);
    }
    c.close();
    await pass(2);
  }
  const cpu = process.cpuUsage(c0);
  const wall = Number(process.hrtime.bigint() - t0) / 1e3;
  server.close();
  process.stdout.write(`${caseName} ×${iterations} (${backend}${useAsync ? ', loopAsync' : ''}): ` +
    `${((cpu.user + cpu.system) / iterations).toFixed(2)} µs CPU, ${(wall / iterations).toFixed(2)} µs wall per iteration; map left: ${map.size}\n`);
}

// exported for tools that run it in-process (e.g. under the inspector's heap sampler)
module.exports = main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
