#!/usr/bin/env node
/**
 * What one pass costs, per backend (a benchmark, not a timed test).
 *
 *   node scripts/bench-pass.js [passes]        (after `npm run build`)
 *
 * Cases:
 *   10,000 idle + 10 active   10,000 channels waiting to read with nothing to
 *                             read, 10 that are writable every pass (their
 *                             handleWrite does nothing); select cannot take
 *                             fds of 1024 or more, so it reports n/a.
 *   1,000 idle                1,000 channels waiting to read, nothing ready.
 *   500 idle + 10 active      a mix that select can take too (its fds stay below 1024).
 * Each figure is µs per pass of loop({ timeout: 0 }), the median of 5 runs.
 * "asking only" is the JavaScript part every backend shares: calling
 * readable() and writable() on every channel (asyncore's rule, O(channels)).
 */
'use strict';
const path = require('node:path');
const lib = require(path.join(__dirname, '..', 'dist', 'lib'));
const { Dispatcher, socket, loop, releaseBackend, getNofileLimit, setNofileLimit } = lib;

const passes = Number(process.argv[2] ?? 200);
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

class Active extends Dispatcher {
  constructor(sock, map) {
    super(sock, map);
    this.writes = 0;
  }
  readable() {
    return false;
  }
  handleWrite() {
    this.writes++;
  }
}

/** A map with `idle` idle channels (both ends of idle/2 socketpairs) and `active` active ones. */
function build(idle, active) {
  const map = new Map();
  const socks = [];
  for (let i = 0; i < idle / 2; i++) {
    const [a, b] = socket.socketpair();
    new Idle(a, map);
    new Idle(b, map);
    socks.push(a, b);
  }
  const actives = [];
  for (let i = 0; i < active; i++) {
    const [a, b] = socket.socketpair();
    actives.push(new Active(a, map));
    socks.push(a, b);
  }
  return { map, actives, close: () => socks.forEach((s) => s.close()) };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function perPass(map, backend) {
  loop({ map, backend, timeout: 0, count: 5 }); // register, warm up
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    loop({ map, backend, timeout: 0, count: passes });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e3 / passes);
  }
  return median(runs);
}

function askingOnly(map) {
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    let k = 0;
    for (let p = 0; p < passes; p++) for (const obj of map.values()) if (obj.readable() || (obj.writable() && !obj.accepting)) k++;
    runs.push(Number(process.hrtime.bigint() - t0) / 1e3 / passes);
    if (k < 0) console.log(k);
  }
  return median(runs);
}

const fmt = (us) => (typeof us === 'number' ? `${us.toFixed(us < 100 ? 1 : 0)} µs` : us);
const rows = [];
for (const [label, idle, active] of [
  ['10,000 idle + 10 active', 10000, 10],
  ['1,000 idle', 1000, 0],
  ['500 idle + 10 active', 500, 10],
]) {
  const { map, actives, close } = build(idle, active);
  const row = { case: label };
  for (const backend of ['select', 'poll', 'epoll']) {
    let v;
    try {
      v = fmt(perPass(map, backend));
    } catch (e) {
      v = /FD_SETSIZE|out of range/.test(String(e && e.message)) ? 'n/a (fd ≥ 1024)' : `error: ${e.message}`;
    }
    row[backend] = v;
  }
  row['asking only'] = fmt(askingOnly(map));
  if (actives.length && actives.some((a) => a.writes === 0)) throw new Error('an active channel was never dispatched');
  rows.push(row);
  close();
  for (const d of [...map.values()]) d.close();
  releaseBackend(map);
}
console.log(`µs per pass of loop({ timeout: 0 }), median of 5 runs of ${passes} passes (node ${process.version}, ${process.platform})`);
console.table(rows);
