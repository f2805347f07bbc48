#!/usr/bin/env node
/**
 * What loopAsync() costs a service while its channels are idle and the rest
 * of the process is busy (a benchmark, not a timed test):
 *
 *   node scripts/bench-idle-async.js [seconds] [backend] [channels]
 *
 * `channels` (default 10,000) idle dispatchers wait to read; a setInterval of
 * 1 ms runs beside them, so Node's event loop turns about 1,000 times a
 * second, and before each time it blocks loopAsync asks every channel
 * readable()/writable() again. Reported: the process's CPU time (user +
 * system, all threads) per second of wall time, for the interval alone and
 * for the interval beside loopAsync, and the difference per turn.
 * Needs `npm run build` (dist/lib); ASYNCORE_LIB=path/to/dist/lib measures another build.
 */
'use strict';
const path = require('node:path');
const lib = require(process.env.ASYNCORE_LIB || path.join(__dirname, '..', 'dist', 'lib'));
const { Dispatcher, socket, loopAsync, getNofileLimit, setNofileLimit } = lib;

const seconds = Number(process.argv[2] ?? 3);
const backend = process.argv[3] ?? 'epoll';
const channels = Number(process.argv[4] ?? 10000);
const { hard } = getNofileLimit();
setNofileLimit(hard === Infinity ? 1 << 20 : hard);

class Idle extends Dispatcher {
  writable() {
    return false;
  }
  handleRead() {
    throw new Error('an idle channel was dispatched');
  }
}

async function measure(withLoop) {
  const map = new Map();
  const socks = [];
  if (withLoop) {
    for (let i = 0; i < channels / 2; i++) {
      const [a, b] = socket.socketpair();
      new Idle(a, map);
      new Idle(b, map);
      socks.push(a, b);
    }
  }
  const ac = new AbortController();
  const looping = withLoop ? loopAsync({ map, backend, timeout: 30, signal: ac.signal }).catch(() => {}) : Promise.resolve();
  await new Promise((r) => setTimeout(r, 300)); // settle: the first pass registers everything
  let ticks = 0;
  const iv = setInterval(() => ticks++, 1);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  clearInterval(iv);
  ac.abort();
  await looping;
  for (const d of [...map.values()]) d.close();
  for (const s of socks) s.close();
  return { cpuPerSec: (c.user + c.system) / 1e6 / wall, ticksPerSec: ticks / wall };
}

(async () => {
  const alone = await measure(false);
  const beside = await measure(true);
  const extraUsPerTick = ((beside.cpuPerSec - alone.cpuPerSec) * 1e6) / beside.ticksPerSec;
  console.log(`${channels} idle channels, loopAsync(${backend}), 1 ms setInterval, ${seconds} s each (node ${process.version})`);
  console.table([
    { case: 'setInterval alone', 'CPU s per s': +alone.cpuPerSec.toFixed(3), 'interval ticks/s': Math.round(alone.ticksPerSec) },
    { case: 'beside loopAsync', 'CPU s per s': +beside.cpuPerSec.toFixed(3), 'interval ticks/s': Math.round(beside.ticksPerSec) },
  ]);
  console.log(`loopAsync's share: ${((beside.cpuPerSec - alone.cpuPerSec) * 100).toFixed(1)}% of a core, ${extraUsPerTick.toFixed(1)} µs per tick`);
})();
