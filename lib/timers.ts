/**
 * Timers for the loop: `callLater` and `callEvery`, run by `loop()` and
 * `loopAsync()` between passes. asyncore has none; this follows the
 * scheduler Giampaolo Rodolà proposed for it (bpo-1641) and shipped in
 * pyftpdlib's `ioloop.py` (`call_later`, `call_every`), with Twisted's
 * `task.Clock` as the model for a clock that tests advance by hand.
 *
 * Each map has its own scheduler ({@link Timers}, from {@link timersFor}),
 * so two loops on two maps each run their own timers. A scheduler is a
 * binary min-heap of {@link TimerHandle}s ordered by deadline (ties in
 * scheduling order), on a monotonic clock in seconds:
 *
 * - scheduling pushes in O(log n); running a due timer pops in O(log n);
 * - `cancel()` is O(1): the entry stays in the heap, marked, and is dropped
 *   when it reaches the top. Once cancelled entries are more than 512 and
 *   more than half the heap, the heap is rebuilt without them (pyftpdlib's
 *   rule), so memory stays bounded by twice the live timers;
 * - `reset()` is O(1) too: the entry keeps its place under its old (earlier)
 *   key and is moved down to its new deadline when it reaches the top. An
 *   idle timeout reset on every read costs almost nothing.
 *
 * The loop calls the scheduler explicitly (`runDue()` after each pass, and
 * {@link passTimeout} for the pass's wait); the scheduler knows nothing of
 * the loop. lib/dispatcher.ts uses this module for `Dispatcher#callLater`;
 * this module reads `socketMap`, `mustReraise` and `compactTraceback` from
 * there only when called, never while the two modules load.
 */
import { performance } from 'node:perf_hooks';
import { compactTraceback, mustReraise, socketMap, type Dispatcher, type SocketMap } from './dispatcher';

// ---- clocks ---------------------------------------------------------------------------------

/**
 * Where a scheduler reads the time: seconds, as a float, from any fixed
 * origin, never going backwards. Python: `time.monotonic`.
 */
export interface Clock {
  /** The current time in seconds. */
  now(): number;
}

/**
 * The default clock: monotonic, in seconds (`performance.now() / 1000`,
 * which is CLOCK_MONOTONIC, as the kernel's waits are). Python: `time.monotonic`.
 */
export const monotonicClock: Clock = {
  now: () => performance.now() / 1000,
};

/**
 * A clock that moves only when told to, for tests (Twisted's `task.Clock`):
 * schedule on it with `timersFor(map, { clock })`, then `advance()` it and
 * run a pass (or `runDue()`); no test has to sleep.
 *
 * @example
 * const clock = new FakeClock();
 * const timers = timersFor(map, { clock });
 * timers.callLater(5, () => fired.push('five'));
 * clock.advance(5);
 * timers.runDue(); // fired: ['five']
 */
export class FakeClock implements Clock {
  private t: number;

  /** @param start the time it shows at first, in seconds (default 0) */
  constructor(start = 0) {
    checkFinite(start, 'start');
    this.t = start;
  }

  /** The time it shows, in seconds. */
  now(): number {
    return this.t;
  }

  /** Move the time forward by `seconds` (≥ 0; a clock never goes back). Returns the new time. */
  advance(seconds: number): number {
    checkSeconds(seconds, 'advance()');
    this.t += seconds;
    return this.t;
  }
}

// ---- argument checks ---------------------------------------------------------------------------

function checkFinite(v: unknown, what: string): void {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${what} must be a number of seconds, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${what} must be finite, got ${v}`);
}

/** A delay, interval or advance: a finite number of seconds, ≥ 0. */
function checkSeconds(v: unknown, what: string): asserts v is number {
  checkFinite(v, what);
  if ((v as number) < 0) throw new RangeError(`${what} must be non-negative, got ${v as number} seconds`);
}

function checkFunction(v: unknown, what: string): void {
  if (typeof v !== 'function') throw new TypeError(`${what} must be a function, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' || typeof v === 'function') return typeof v;
  return String(v);
}

// ---- a timer ------------------------------------------------------------------------------------

/** Called with what a timer's function threw (instead of the scheduler's `handleError`). */
export type Errback = (err: unknown, timer: TimerHandle) => void;

/**
 * The options form of `callLater`/`callEvery`, in place of the bare number of seconds.
 *
 * @example
 * timers.callLater({ seconds: 2, errback: (err) => console.error('retry failed', err) }, retry);
 */
export interface TimerOptions {
  /** The delay (callLater) or the interval (callEvery), in seconds: a finite float ≥ 0. */
  seconds: number;
  /** Receives what the function throws, instead of the scheduler's `handleError`. */
  errback?: Errback | null | undefined;
}

/** {@link TimerOptions} for the module-level `callLater`/`callEvery`, which also pick the map. */
export interface MapTimerOptions extends TimerOptions {
  /** The map whose loop runs the timer; default {@link socketMap}. */
  map?: SocketMap | null | undefined;
}

const TIMER_KEYS = ['seconds', 'errback'];
const MAP_TIMER_KEYS = ['seconds', 'errback', 'map'];

/** `seconds` or `{ seconds, errback, … }`, checked; unknown keys are a TypeError listing the known ones. */
function readTimerOptions(arg: unknown, known: readonly string[], what: string): MapTimerOptions {
  if (typeof arg !== 'object' || arg === null) {
    checkSeconds(arg, `${what}: seconds`);
    return { seconds: arg };
  }
  for (const key of Object.keys(arg)) {
    if (!known.includes(key)) throw new TypeError(`${what} got an unknown option '${key}'; the options are: ${known.join(', ')}`);
  }
  const options = arg as MapTimerOptions;
  checkSeconds(options.seconds, `${what}: seconds`);
  if (options.errback !== undefined && options.errback !== null) checkFunction(options.errback, `${what}: errback`);
  return options;
}

/**
 * A scheduled call, as `callLater`/`callEvery` return it: cancel it, reset
 * its countdown, read its deadline. Python (pyftpdlib): the `_CallLater` /
 * `_CallEvery` objects; asyncio: `TimerHandle`.
 *
 * @example
 * const idle = channel.callLater(30, () => channel.close());
 * // on every read:
 * idle.reset();
 */
export class TimerHandle {
  /** The delay (callLater) or interval (callEvery), in seconds. */
  readonly seconds: number;
  /** True for a `callEvery` timer. */
  readonly repeating: boolean;
  /** The deadline, on the scheduler's clock. @internal */
  deadline = 0;
  /** Its key in the heap: the deadline when it was pushed; `reset()` moves only `deadline`. @internal */
  key = 0;
  /** Tie-break among equal keys in the heap. @internal */
  seq = 0;
  /** When it was last scheduled (or reset), as a count: its `seq` once its entry sits at its deadline. @internal */
  order = 0;
  /** Whether the heap holds an entry for it. @internal */
  inHeap = false;
  /** Whether it will still fire (not cancelled, not yet run for a callLater). @internal */
  scheduled = false;
  private isCancelled = false;
  /** @internal */
  fn: ((...args: any[]) => unknown) | null;
  /** @internal */
  args: unknown[] | null;
  /** @internal */
  readonly thisArg: unknown;
  /** @internal */
  errback: Errback | null;
  /** The set of timers of the object that owns it (a Dispatcher's), cancelled with it. @internal */
  readonly group: Set<TimerHandle> | null;

  /** @internal Made by `callLater`/`callEvery`. */
  constructor(
    readonly timers: Timers,
    seconds: number,
    repeating: boolean,
    fn: (...args: any[]) => unknown,
    args: unknown[],
    errback: Errback | null,
    thisArg: unknown,
    group: Set<TimerHandle> | null,
  ) {
    this.seconds = seconds;
    this.repeating = repeating;
    this.fn = fn;
    this.args = args;
    this.errback = errback;
    this.thisArg = thisArg;
    this.group = group;
  }

  /** When it fires next (or fired, for a callLater that ran), in seconds on its scheduler's clock. asyncio: `TimerHandle.when()`. */
  get when(): number {
    return this.deadline;
  }

  /** True once `cancel()` was called (also by the owning Dispatcher's `close()`, or after a callEvery threw with no errback). */
  get cancelled(): boolean {
    return this.isCancelled;
  }

  /** True while it is still to fire: scheduled, not cancelled, and (a callLater) not yet run. Twisted: `DelayedCall.active()`. */
  get active(): boolean {
    return this.scheduled;
  }

  /**
   * Unschedule it; safe to call more than once, and from its own function
   * (a callEvery then stops). Drops the references to the function and its
   * arguments. O(1). pyftpdlib: `cancel()`.
   */
  cancel(): void {
    if (this.isCancelled) return;
    this.isCancelled = true;
    this.fn = null;
    this.args = null;
    this.errback = null;
    this.timers.forget(this);
  }

  /**
   * Re-arm it `seconds` from now: a pending timer is pushed back, a callLater
   * that already ran is scheduled again. A cancelled timer stays cancelled:
   * reset() does nothing to it (pyftpdlib and Twisted raise instead; here a
   * handler may well reset a channel's idle timer after an earlier event of
   * the same pass closed the channel, as asyncore delivers both). O(1) for a
   * pending timer. Returns this. pyftpdlib: `reset()`.
   */
  reset(): this {
    if (!this.isCancelled) this.timers.rearm(this, this.timers.clock.now() + this.seconds);
    return this;
  }

  /** Like `<TimerHandle callEvery(0.5) tick when=12.5>`, with `cancelled` or `done` when so. */
  toString(): string {
    const kind = this.repeating ? 'callEvery' : 'callLater';
    const name = this.fn === null ? '' : ` ${this.fn.name || 'anonymous'}`;
    const state = this.isCancelled ? ' cancelled' : this.scheduled ? '' : ' done';
    return `<TimerHandle ${kind}(${this.seconds})${name} when=${this.deadline}${state}>`;
  }
}

// ---- a map's scheduler ---------------------------------------------------------------------------

/** Cancelled entries tolerated in a heap before it is rebuilt without them (pyftpdlib's 512; also more than half the heap). */
const COMPACT_MIN = 512;

/**
 * The timers of one map: the loop serving the map runs them. Get it from
 * {@link timersFor}; `callLater`/`callEvery` here are those of the module
 * for this map. pyftpdlib: `_Scheduler` (with `IOLoop.call_later`/`call_every`).
 *
 * @example
 * const timers = timersFor(myMap);
 * const tick = timers.callEvery(1, () => console.log('tick'));
 * loop({ map: myMap, count: 100 });
 */
export class Timers {
  private heap: TimerHandle[] = [];
  /** Cancelled entries still in the heap. */
  private cancelledInHeap = 0;
  /** Timers that will still fire. */
  private live = 0;
  private nextSeq = 0;
  /** The array runDue() collects due timers into, kept between calls. */
  private spare: Array<TimerHandle | undefined> = [];
  /** The batches being run: one, or more when a timer runs a nested loop on the same map. */
  private running: Array<Array<TimerHandle | undefined>> = [];
  private ownClock: Clock;

  /** @internal Made by `timersFor()`, one per map. */
  constructor(
    readonly map: SocketMap,
    clock: Clock = monotonicClock,
  ) {
    this.ownClock = clock;
  }

  /** The clock its deadlines are read on. */
  get clock(): Clock {
    return this.ownClock;
  }

  /**
   * Switch to another clock (a {@link FakeClock} in a test). Only while no
   * timer is pending: deadlines on two clocks cannot be compared.
   */
  setClock(clock: Clock): void {
    if (clock === this.ownClock) return;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') throw new TypeError(`clock must have a now() method, got ${describe(clock)}`);
    if (this.live > 0) throw new Error(`cannot change the clock of a scheduler with ${this.live} pending timer(s); cancel them first`);
    this.dropHeap();
    this.ownClock = clock;
  }

  /** How many timers will still fire (cancelled ones and callLaters that ran are not counted). */
  get pending(): number {
    return this.live;
  }

  /**
   * Call `fn(...args)` once, `seconds` from now (a float ≥ 0), after a pass
   * of the loop serving this map. Pass `{ seconds, errback }` instead of a
   * number to route what `fn` throws to `errback`. pyftpdlib: `IOLoop.call_later`.
   */
  callLater<A extends unknown[]>(seconds: number | TimerOptions, fn: (...args: A) => unknown, ...args: A): TimerHandle {
    const options = readTimerOptions(seconds, TIMER_KEYS, 'callLater()');
    checkFunction(fn, 'callLater(): fn');
    return this.schedule(options, false, fn, args, undefined, null);
  }

  /**
   * Call `fn(...args)` every `seconds` (a float ≥ 0), the first time
   * `seconds` from now. Deadlines follow a fixed grid (no drift); calls
   * missed while the loop was busy are skipped, not made up. If `fn` throws
   * and there is no errback, the error is reported and the timer stops (as
   * pyftpdlib's does); with an errback it keeps going. `callEvery(0, …)`
   * runs after every pass. pyftpdlib: `IOLoop.call_every`.
   */
  callEvery<A extends unknown[]>(seconds: number | TimerOptions, fn: (...args: A) => unknown, ...args: A): TimerHandle {
    const options = readTimerOptions(seconds, TIMER_KEYS, 'callEvery()');
    checkFunction(fn, 'callEvery(): fn');
    return this.schedule(options, true, fn, args, undefined, null);
  }

  /** Make a timer and schedule it. @internal (Dispatcher#callLater passes its `this` and its group.) */
  schedule(options: TimerOptions, repeating: boolean, fn: (...args: any[]) => unknown, args: unknown[], thisArg: unknown, group: Set<TimerHandle> | null): TimerHandle {
    const timer = new TimerHandle(this, options.seconds, repeating, fn, args, options.errback ?? null, thisArg, group);
    this.rearm(timer, this.ownClock.now() + options.seconds);
    return timer;
  }

  /**
   * The earliest deadline of a pending timer, on this scheduler's clock, or
   * null when none is pending. Drops cancelled entries from the top and moves
   * reset ones to their new place, so the answer is exact.
   */
  nextDeadline(): number | null {
    const top = this.settleTop();
    return top === undefined ? null : top.deadline;
  }

  /** Seconds until the next timer is due (0 when one is due now), or null when none is pending. pyftpdlib: what `_Scheduler.poll()` returns. */
  timeout(): number | null {
    const next = this.nextDeadline();
    return next === null ? null : Math.max(0, next - this.ownClock.now());
  }

  /**
   * Run every timer due now, in deadline order (ties in scheduling order),
   * and return how many ran. Timers that become due while these run (a
   * `callLater(0)` made by one of them) wait for the next call. The loop
   * calls this after each pass; tests with a {@link FakeClock} may call it
   * directly. What a timer throws goes to its errback, else to
   * {@link Timers.handleError}; an error of `reraisedExceptions` (ExitNow)
   * propagates, and the due timers not yet run stay due.
   */
  runDue(): number {
    if (this.heap.length === 0) return 0;
    const now = this.ownClock.now();
    const batch = this.running.length === 0 ? this.spare : [];
    this.running.push(batch);
    const n = this.collectDue(now, batch);
    let i = 0;
    let ran = 0;
    try {
      for (; i < n; i++) {
        const timer = batch[i]!;
        batch[i] = undefined;
        // cancelled, or reset to later, by a timer that ran before it in this batch
        if (timer.cancelled || timer.inHeap) continue;
        ran++;
        this.fire(timer, now);
      }
    } finally {
      // ExitNow from timer i: the due timers after it go back, still due
      for (let j = i + 1; j < n; j++) {
        const timer = batch[j];
        batch[j] = undefined;
        if (timer !== undefined && !timer.cancelled && !timer.inHeap) this.push(timer, timer.deadline);
      }
      this.running.pop();
      if (this.running.length === 0) this.compactIfMostlyCancelled();
    }
    return ran;
  }

  /**
   * Report what a timer without errback threw. The default writes one line
   * to stdout as `Dispatcher#handleError` does (`error: uncaptured exception
   * in timer <TimerHandle …> (Name:message [file|function|line] …)`); a
   * callEvery has been cancelled before this runs. Override it on a
   * scheduler to log elsewhere. An error thrown here propagates out of the loop.
   */
  handleError(err: unknown, timer: TimerHandle): void {
    const { type, value, info } = compactTraceback(err);
    process.stdout.write(`error: uncaptured exception in timer ${timer.toString()} (${type}:${value} ${info})\n`);
  }

  /** Entries in the heap, cancelled ones included (for tests of the compaction). @internal */
  get queued(): number {
    return this.heap.length;
  }

  /** Cancel every pending timer of this map. pyftpdlib: `_Scheduler.close()`. */
  cancelAll(): void {
    const queued = this.heap.slice();
    this.dropHeap();
    for (const timer of queued) timer.cancel();
    for (const batch of this.running) for (const timer of batch) timer?.cancel(); // due, not yet run
  }

  // ---- what the handles call ----

  /** Schedule `timer` (again) at `deadline`. @internal */
  rearm(timer: TimerHandle, deadline: number): void {
    if (!timer.scheduled) {
      timer.scheduled = true;
      this.live++;
      timer.group?.add(timer);
    }
    timer.deadline = deadline;
    timer.order = this.nextSeq++;
    if (!timer.inHeap) {
      this.push(timer, deadline);
    } else if (deadline < timer.key) {
      // Only a clock that went back gives an earlier deadline than the entry's key: rebuild (rare, O(n)).
      timer.key = deadline;
      this.heapify();
    }
    // else it stays under its earlier key and moves to its deadline when it reaches the top
  }

  /** `timer` was cancelled: its heap entry becomes garbage to drop later. @internal */
  forget(timer: TimerHandle): void {
    if (timer.scheduled) {
      timer.scheduled = false;
      this.live--;
    }
    timer.group?.delete(timer);
    if (timer.inHeap) {
      this.cancelledInHeap++;
      if (this.running.length === 0) this.compactIfMostlyCancelled();
    }
  }

  // ---- running one timer ----

  private fire(timer: TimerHandle, now: number): void {
    if (!timer.repeating) {
      timer.scheduled = false;
      this.live--;
      timer.group?.delete(timer);
    }
    const fn = timer.fn!;
    try {
      Reflect.apply(fn, timer.thisArg, timer.args!);
    } catch (err) {
      if (mustReraise(err)) throw err;
      const errback = timer.errback;
      if (errback !== null) {
        errback(err, timer);
      } else {
        if (timer.repeating) timer.cancel(); // a callEvery that fails with nobody to tell stops (pyftpdlib)
        this.handleError(err, timer);
      }
    } finally {
      // not reset or cancelled by its own function, nor stopped above: the next tick on the grid
      if (timer.repeating && !timer.cancelled && !timer.inHeap) {
        timer.deadline = nextTick(timer, now);
        timer.order = this.nextSeq++;
        this.push(timer, timer.deadline);
      }
    }
  }

  // ---- the heap ----

  /** Pop every timer due at `now` into `batch`, fixing the top as it goes; returns how many. */
  private collectDue(now: number, batch: Array<TimerHandle | undefined>): number {
    let n = 0;
    for (let top = this.settleTop(); top !== undefined && top.deadline <= now; top = this.settleTop()) {
      this.popTop();
      batch[n++] = top;
    }
    return n;
  }

  /** Drop cancelled entries from the top and move a reset one to its place, until the top is a live, exact entry (or none). */
  private settleTop(): TimerHandle | undefined {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0];
      if (top.cancelled) {
        this.popTop();
        this.cancelledInHeap--;
      } else if (top.key < top.deadline || top.seq !== top.order) {
        // reset since it was pushed: later (or, on the same deadline, behind what was scheduled meanwhile)
        top.key = top.deadline;
        top.seq = top.order;
        this.siftDown(0);
      } else {
        return top;
      }
    }
    return undefined;
  }

  private push(timer: TimerHandle, key: number): void {
    timer.key = key;
    timer.seq = timer.order;
    timer.inHeap = true;
    this.heap.push(timer);
    this.siftUp(this.heap.length - 1);
  }

  private popTop(): void {
    const heap = this.heap;
    heap[0].inHeap = false;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = item;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap[child + 1], heap[child])) child++;
      if (!before(heap[child], item)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = item;
  }

  /** pyftpdlib's rule: rebuild once cancelled entries are more than 512 and more than half the heap. */
  private compactIfMostlyCancelled(): void {
    if (this.cancelledInHeap <= COMPACT_MIN || this.cancelledInHeap <= this.heap.length >> 1) return;
    const heap = this.heap;
    let k = 0;
    for (let i = 0; i < heap.length; i++) {
      const timer = heap[i];
      if (timer.cancelled) timer.inHeap = false;
      else heap[k++] = timer;
    }
    heap.length = k;
    this.cancelledInHeap = 0;
    this.heapify();
  }

  private heapify(): void {
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private dropHeap(): void {
    for (const timer of this.heap) timer.inHeap = false;
    this.heap.length = 0;
    this.cancelledInHeap = 0;
  }
}

/** Heap order: earlier key first, then earlier scheduled. */
function before(a: TimerHandle, b: TimerHandle): boolean {
  return a.key < b.key || (a.key === b.key && a.seq < b.seq);
}

/** A callEvery's next deadline: the first point of its grid after `now` (a 0 interval: now, i.e. the next runDue). */
function nextTick(timer: TimerHandle, now: number): number {
  const s = timer.seconds;
  const next = timer.deadline + s;
  if (next > now || s === 0) return s === 0 ? now : next;
  return timer.deadline + s * (Math.floor((now - timer.deadline) / s) + 1);
}

// ---- per map ---------------------------------------------------------------------------------------

const byMap = new WeakMap<SocketMap, Timers>();

/** Options of {@link timersFor}. */
export interface TimersOptions {
  /** The clock for this map's timers (a {@link FakeClock} in tests); see {@link Timers.setClock}. */
  clock?: Clock | undefined;
}

/**
 * The scheduler of `map` (default {@link socketMap}), made on first use:
 * the one whose timers the loop serving `map` runs. With `{ clock }`, its
 * clock is set (only while no timer is pending).
 *
 * @example
 * const clock = new FakeClock();
 * const timers = timersFor(map, { clock });
 */
export function timersFor(map: SocketMap | null = socketMap, options?: TimersOptions): Timers {
  map ??= socketMap;
  if (!(map instanceof Map)) throw new TypeError(`map must be a Map, got ${describe(map)}`);
  let timers = byMap.get(map);
  if (timers === undefined) {
    timers = new Timers(map);
    byMap.set(map, timers);
  }
  if (options !== undefined) {
    for (const key of Object.keys(options)) if (key !== 'clock') throw new TypeError(`timersFor() got an unknown option '${key}'; the options are: clock`);
    if (options.clock !== undefined) timers.setClock(options.clock);
  }
  return timers;
}

/**
 * The scheduler of `map` if one was ever made, else undefined: what the loop
 * asks each pass, so that a map without timers costs one lookup. @internal
 */
export function timersOf(map: SocketMap): Timers | undefined {
  return byMap.get(map);
}

function mapOf(options: MapTimerOptions): Timers {
  return timersFor(options.map ?? socketMap);
}

/**
 * Call `fn(...args)` once, `seconds` (a float ≥ 0) from now, from the loop
 * serving the default map — or the map given in the options form
 * `{ seconds, map, errback }`. Returns a handle to cancel or reset it.
 * What `fn` throws goes to `errback`, else to the map's
 * `timersFor(map).handleError` (which logs it); ExitNow propagates out of
 * the loop. pyftpdlib: `IOLoop.call_later(seconds, target, *args, _errback=…)`.
 *
 * @example
 * callLater(1.5, (who) => console.log('hello', who), 'world');
 * callLater({ seconds: 5, map: myMap, errback: (err) => console.error(err) }, reconnect);
 */
export function callLater<A extends unknown[]>(seconds: number | MapTimerOptions, fn: (...args: A) => unknown, ...args: A): TimerHandle {
  const options = readTimerOptions(seconds, MAP_TIMER_KEYS, 'callLater()');
  checkFunction(fn, 'callLater(): fn');
  return mapOf(options).schedule(options, false, fn, args, undefined, null);
}

/**
 * Call `fn(...args)` every `seconds` (a float ≥ 0) from the loop serving
 * the default map (or `{ seconds, map, errback }`), the first time `seconds`
 * from now; see {@link Timers.callEvery} for the grid and error rules.
 * pyftpdlib: `IOLoop.call_every(seconds, target, *args)`.
 *
 * @example
 * const stats = callEvery(60, () => console.log(`${socketMap.size} channels`));
 * // later
 * stats.cancel();
 */
export function callEvery<A extends unknown[]>(seconds: number | MapTimerOptions, fn: (...args: A) => unknown, ...args: A): TimerHandle {
  const options = readTimerOptions(seconds, MAP_TIMER_KEYS, 'callEvery()');
  checkFunction(fn, 'callEvery(): fn');
  return mapOf(options).schedule(options, true, fn, args, undefined, null);
}

/**
 * A Dispatcher's own timer (`Dispatcher#callLater`/`#callEvery`): on the
 * channel's map, `this` the channel, errors to its `handleError` unless an
 * errback is given, kept in `group` (the channel's set, which `close()`
 * cancels) while pending. @internal
 */
export function channelTimer(
  channel: Dispatcher,
  group: Set<TimerHandle>,
  repeating: boolean,
  seconds: unknown,
  fn: (...args: any[]) => unknown,
  args: unknown[],
): TimerHandle {
  const what = repeating ? 'callEvery()' : 'callLater()';
  const options = readTimerOptions(seconds, TIMER_KEYS, what);
  checkFunction(fn, `${what}: fn`);
  const errback = options.errback ?? ((err: unknown) => channel.handleError(err));
  return timersFor(channel._map).schedule({ seconds: options.seconds, errback }, repeating, fn, args, channel, group);
}

// ---- the loop's side --------------------------------------------------------------------------------

/**
 * Seconds to the next deadline as a pass's wait: rounded up to a whole
 * millisecond (the poll and epoll passes truncate to milliseconds, which
 * would end the wait just before the deadline and cost a pass), never negative.
 */
function waitUntilNext(seconds: number): number {
  const ms = Math.ceil(seconds * 1000 - 1e-9);
  return ms <= 0 ? 0 : (ms + 1e-6) / 1000; // + 1e-6 ms: ms / 1000 * 1000 may come back as ms - 1 ulp
}

/**
 * Milliseconds until the next deadline, rounded up (0 when a timer is due),
 * or Infinity when none is pending: how long loopAsync() may let Node's
 * event loop block for this map's timers. @internal
 */
export function msToNextTimer(timers: Timers): number {
  if (timers.pending === 0) return Infinity;
  const next = timers.timeout();
  return next === null ? Infinity : Math.max(0, Math.ceil(next * 1000 - 1e-9));
}

/**
 * The wait of one pass over a map whose scheduler has pending timers: the
 * pass's `timeout`, cut at the next deadline (never waiting past it, and —
 * rounded up to the millisecond — never ending just before it). A timeout
 * the pass refuses (not a number, NaN; negative for select) is returned as
 * it is, so that the pass throws what it always throws; a negative timeout
 * where it means "no limit" (poll, epoll) and null are cut like any other.
 * The loops call it only when `timers.pending > 0`. @internal
 */
export function passTimeout(timeout: number | null, timers: Timers, negativeWaitsForever: boolean): number | null {
  const next = timers.timeout();
  if (next === null) return timeout;
  const cap = waitUntilNext(next);
  if (timeout === null || timeout === undefined) return cap;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) return timeout;
  if (timeout < 0) return negativeWaitsForever ? cap : timeout;
  return timeout <= cap ? timeout : cap;
}
