#!/usr/bin/env node
/**
 * What timers cost (a benchmark, not a timed test; not part of `npm run bench`).
 *
 *   node scripts/bench-timers.js [n]            (after `npm run build`; n defaults to 100,000)
 *
 * Cases, each the median of 5 runs:
 *   schedule + cancel    n callLater()s with spread delays, then cancel() of
 *                        every one (lazy; the heap is compacted as it goes).
 *                        Beside it, the floor: allocating n plain objects of
 *                        a TimerHandle's size (on a loaded machine the
 *                        young-generation GC dominates both).
 *   schedule + run       n callLater()s, then one runDue() that runs them all
 *                        (on a FakeClock moved past the last deadline).
 *   reset                reset() of one pending timer among n, n times (an
 *                        idle timeout re-armed on every read).
 *   pass, 10,000 pending one loop({ timeout: 0 }) pass over 10 idle channels
 *                        with 10,000 timers pending (none due), vs a like
 *                        map with no timer, measured in alternation: the
 *                        whole pass in µs, for each backend. And the
 *                        scheduler's share alone (what the loop calls per
 *                        pass: passTimeout + runDue), in ns, which machine
 *                        noise does not drown.
 */
'use strict';
const path = require('node:path');
const lib = require(path.join(__dirname, '..', 'dist', 'lib'));
const { Dispatcher, FakeClock, socket, loop, timersFor, select } = lib;
const { passTimeout } = require(path.join(__dirname, '..', 'dist', 'lib', 'timers.js'));

const n = Number(process.argv[2] ?? 100_000);
const noop = () => {};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ms(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function scheduleCancel() {
  const timers = timersFor(new Map(), { clock: new FakeClock() });
  const handles = new Array(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) handles[i] = timers.callLater(1 + (i % 1000) / 7, noop);
  const scheduled = ms(t0);
  for (let i = 0; i < n; i++) handles[i].cancel();
  const total = ms(t0);
  if (timers.pending !== 0) throw new Error('timers left');
  return { scheduled, cancelled: total - scheduled, total };
}

/** The floor under "schedule": allocating n plain objects of a TimerHandle's size and keeping them (GC included). */
function allocBaseline() {
  const keep = new Array(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) keep[i] = { a: 0, b: 0, c: 0, d: 0, e: 0, f: false, g: false, h: false, i: noop, j: null, k: null, l: null, m: null, o: null, p: i };
  return ms(t0);
}

function scheduleRun() {
  const clock = new FakeClock();
  const timers = timersFor(new Map(), { clock });
  let ran = 0;
  const fn = () => ran++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) timers.callLater(1 + (i % 1000) / 7, fn);
  clock.advance(1000);
  timers.runDue();
  const total = ms(t0);
  if (ran !== n) throw new Error(`ran ${ran} of ${n}`);
  return total;
}

function resets() {
  const clock = new FakeClock();
  const timers = timersFor(new Map(), { clock });
  for (let i = 0; i < n; i++) timers.callLater(10 + (i % 1000) / 7, noop);
  const t = timers.callLater(30, noop);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    clock.advance(0.001);
    t.reset();
  }
  const total = ms(t0);
  timers.cancelAll();
  return total;
}

class Idle extends Dispatcher {
  writable() {
    return false;
  }
}

/** A map of 10 idle channels (5 socketpairs) with `pending` timers due in an hour. */
function idleMap(pending) {
  const map = new Map();
  const socks = [];
  for (let i = 0; i < 5; i++) {
    const [a, b] = socket.socketpair();
    new Idle(a, map);
    new Idle(b, map);
    socks.push(a, b);
  }
  const timers = timersFor(map);
  for (let i = 0; i < pending; i++) timers.callLater(3600 + i / 1000, noop);
  const close = () => {
    timers.cancelAll();
    for (const d of [...map.values()]) d.close();
    for (const s of socks) s.close();
    lib.releaseBackend(map);
  };
  return { map, close };
}

/** µs per pass for a map with no timer and one with 10,000 pending, measured in alternation (5 runs each). */
function passCosts(backend, passes = 2000) {
  const none = idleMap(0);
  const some = idleMap(10_000);
  try {
    const per = (map) => {
      const t0 = process.hrtime.bigint();
      loop({ map, backend, timeout: 0, count: passes });
      return (ms(t0) * 1000) / passes;
    };
    per(none.map); // warm up
    per(some.map);
    const a = [];
    const b = [];
    for (let r = 0; r < 5; r++) {
      a.push(per(none.map));
      b.push(per(some.map));
    }
    return [median(a), median(b)];
  } finally {
    none.close();
    some.close();
  }
}

/** What the loop adds to a pass for the scheduler alone (passTimeout + runDue), with `pending` timers none of which is due: ns per pass. */
function schedulerPerPass(pending, passes = 1_000_000) {
  const timers = timersFor(new Map());
  for (let i = 0; i < pending; i++) timers.callLater(3600 + i / 1000, noop);
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < passes; i++) {
      if (timers.pending > 0) passTimeout(30, timers, true);
      timers.runDue();
    }
    runs.push((ms(t0) * 1e6) / passes);
  }
  timers.cancelAll();
  return median(runs);
}

function main() {
  const sc = [];
  const sr = [];
  const rs = [];
  const al = [];
  for (let r = 0; r < 5; r++) {
    al.push(allocBaseline());
    sc.push(scheduleCancel());
    sr.push(scheduleRun());
    rs.push(resets());
  }
  const f = (x) => x.toFixed(1);
  const perOp = (totalMs) => ((totalMs * 1e6) / n).toFixed(0);
  const sched = median(sc.map((x) => x.scheduled));
  const canc = median(sc.map((x) => x.cancelled));
  const total = median(sc.map((x) => x.total));
  console.log(`timers, n = ${n.toLocaleString('en')} (median of 5)`);
  console.log(`  schedule + cancel   ${f(total)} ms  (schedule ${f(sched)} ms = ${perOp(sched)} ns each; cancel ${f(canc)} ms = ${perOp(canc)} ns each)`);
  console.log(`  (allocating n objects of that size alone: ${f(median(al))} ms)`);
  console.log(`  schedule + run      ${f(median(sr))} ms  (${perOp(median(sr))} ns per timer)`);
  console.log(`  reset among n       ${f(median(rs))} ms for ${n.toLocaleString('en')} resets  (${perOp(median(rs))} ns each)`);
  console.log(`scheduler work per pass (passTimeout + runDue), nothing due: no timers ${schedulerPerPass(0).toFixed(0)} ns, 10,000 pending ${schedulerPerPass(10_000).toFixed(0)} ns`);
  console.log('one pass, loop({ timeout: 0 }) over 10 idle channels (µs per pass, median of 5 × 2,000 passes, alternating)');
  const backends = ['select', 'poll', ...(select.hasEpoll ? ['epoll'] : [])];
  for (const backend of backends) {
    const [none, some] = passCosts(backend);
    console.log(`  ${backend.padEnd(7)} no timers ${none.toFixed(2)} µs   10,000 pending ${some.toFixed(2)} µs   (+${(some - none).toFixed(2)} µs)`);
  }
}

main();
