#!/usr/bin/env node
/**
 * loopAsync's cost against loop(), by ping-pong (not a timed test).
 *
 *   node scripts/bench-loop-async.js [seconds-per-case] [epoll|poll|select]
 *
 * 1. "busy": two dispatchers on one socketpair in one map, one byte bouncing
 *    between them: every pass finds the other side ready, so loopAsync never
 *    waits; it shows what running passes inside Node's event loop costs.
 * 2. "wake": the other side is a blocking echo in a worker thread, so every
 *    pass of the measured loop has to wait for the reply: it shows the cost
 *    of loopAsync's wait mechanism (ASYNCORE_WAIT: 'uv' = uv_poll_t on the
 *    epoll fd, 'thread' = a native thread poll()ing it) against loop()'s
 *    blocking epoll_wait.
 * "CPU µs" is the process's CPU time (every thread, the echo worker's too)
 * per round trip: steadier than wall-clock rates on a shared machine.
 * Needs `npm run build` (dist/lib).
 */
'use strict';
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const lib = require(path.join(__dirname, '..', 'dist', 'lib'));
const { Dispatcher, socket, loop, loopAsync } = lib;
const loopAsyncMod = require(path.join(__dirname, '..', 'dist', 'lib', 'loop-async'));

class Bouncer extends Dispatcher {
  constructor(sock, map) {
    super(sock, map);
    this.n = 0;
  }
  writable() {
    return false;
  }
  handleRead() {
    const d = this.recv(16);
    if (d.length) {
      this.n++;
      this.send(d);
    }
  }
  handleClose() {
    this.close();
  }
}

if (!isMainThread) {
  // the far end of the "wake" case: a blocking echo loop on its own map
  const map = new Map();
  const sock = new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, workerData.fd);
  new Bouncer(sock, map);
  parentPort.postMessage('ready');
  loop({ map, backend: 'epoll', timeout: 5 });
  return;
}

const seconds = Number(process.argv[2] ?? 1);
const only = process.argv[3]; // a backend name, to run just its rows

let lastCpuPerPass = 0; // process CPU time (all threads, µs) per pass of the last timed() run

async function timed(run) {
  // run(count) → Promise|void; grow count until one run lasts `seconds`
  let count = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await run(count);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    lastCpuPerPass = (c.user + c.system) / count;
    if (s >= seconds * 0.5) return count / s;
    count = Math.ceil(count * Math.min(10, (seconds / Math.max(s, 1e-3))));
  }
}

async function busy(backend, asyncMode) {
  const map = new Map();
  const [a, b] = socket.socketpair();
  const A = new Bouncer(a, map);
  const B = new Bouncer(b, map);
  A.send('x');
  const rate = await timed((count) =>
    asyncMode === null ? loop({ map, backend, timeout: 1, count }) : loopAsync({ map, backend, timeout: 1, count }),
  );
  A.close();
  B.close();
  return rate;
}

async function wake(backend, asyncMode) {
  const map = new Map();
  const [a, b] = socket.socketpair();
  const fd = b.detach ? b.detach() : b.fileno();
  const worker = new Worker(__filename, { workerData: { fd } });
  await new Promise((r) => worker.once('message', r));
  const A = new Bouncer(a, map);
  A.send('x');
  const rate = await timed((count) =>
    asyncMode === null ? loop({ map, backend, timeout: 1, count }) : loopAsync({ map, backend, timeout: 1, count }),
  );
  A.close(); // the worker's loop sees EOF, closes its end and ends
  await new Promise((r) => worker.once('exit', r));
  return rate;
}

(async () => {
  const rows = [];
  for (const backend of ['epoll', 'poll', 'select'].filter((b) => !only || b === only)) {
    for (const [label, mode] of [['loop()', null], ['loopAsync uv', 'uv'], ['loopAsync thread', 'thread']]) {
      if (mode !== null) loopAsyncMod.setWaitMode(mode);
      const b = await busy(backend, mode);
      const w = await wake(backend, mode);
      rows.push({ backend, loop: label, 'busy passes/s': Math.round(b), 'wake round trips/s': Math.round(w), 'wake CPU µs/round trip': +lastCpuPerPass.toFixed(1) });
    }
  }
  console.table(rows);
})();
