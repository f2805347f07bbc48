/**
 * `loopAsync()`: asyncore's loop without blocking Node's event loop.
 *
 * It runs the very passes `loop()` runs (lib/loop.ts), cut at their wait. A
 * pass under loopAsync is:
 *
 *   1. ask every channel `readable()`/`writable()` once, as the backend does;
 *   2. look without blocking (select/poll/epoll_wait with timeout 0);
 *   3. if nothing was ready and the pass may wait, return to Node's event
 *      loop until something in the pass's interest is ready, the pass's
 *      timeout has passed (an idle pass sleeps its timeout, as loop()'s
 *      does) or the loop is woken (a channel added to or removed from the
 *      map from outside its handlers, or `wakeLoop(map)`); then look once
 *      more without blocking;
 *   4. dispatch what was ready, as the backend does.
 *
 * So each pass asks once and dispatches once, and `count` counts passes as
 * loop() does (a pass ended early by a wake-up counts too).
 *
 * The wait of step 3 was chosen by measurement (scripts/bench-loop-async.js):
 * Node's event loop watches an epoll fd holding the pass's interest (for the
 * epoll backend the map's own set; for select and poll an epoll set kept per
 * map that mirrors the pass's fds) through a uv_poll_t, with a uv_timer_t
 * for the timeout. The alternative, a native thread that waits and wakes
 * Node through a threadsafe function, costs a thread handoff per wait and
 * was slower and less steady; it remains the way where there is no epoll
 * (the thread poll()s the pass's fds).
 *
 * Between passes that found work at once, Node's event loop still gets a
 * turn (timers, I/O, setImmediate) at least every `yieldEveryMs` (2 ms);
 * yielding after every such pass cost a quarter of the throughput.
 */
import { performance } from 'node:perf_hooks';
import { binding, type AsyncWaitHandle } from './native';
import { mapWatchers, socketMap, type SocketMap } from './dispatcher';
import { backendReleasers, prepareFor, releaseBackend, type LoopOptions, type PreparedPass } from './loop';
import { hasEpollBackend, interestFor, type EpollInterest } from './epoll';

/** Options of {@link loopAsync}: those of `loop()` and an AbortSignal. */
export interface LoopAsyncOptions extends LoopOptions {
  /** Stops the loop (also in the middle of a wait); the promise rejects with `signal.reason`. */
  signal?: AbortSignal | null;
}

/**
 * How step 3 waits: 'uv' (a uv_poll_t on the interest's epoll fd; Linux's
 * default), 'thread' (a native thread poll()s that epoll fd), 'thread-fds'
 * (a native thread poll()s the pass's fds; the default without epoll).
 * Settable through ASYNCORE_WAIT for measurements and tests. @internal
 */
export type WaitMode = 'uv' | 'thread' | 'thread-fds';

function defaultWaitMode(): WaitMode {
  const env = process.env.ASYNCORE_WAIT;
  if (!hasEpollBackend) return 'thread-fds';
  if (env === 'uv' || env === 'thread' || env === 'thread-fds') return env;
  return 'uv';
}

/** @internal */
export let waitMode: WaitMode = defaultWaitMode();

/** Switch how loopAsync waits (measurements and tests). @internal */
export function setWaitMode(mode: WaitMode): void {
  if (mode !== 'thread-fds' && !hasEpollBackend) throw new Error(`wait mode '${mode}' needs epoll`);
  waitMode = mode;
}

/**
 * Longest stretch of passes that found work at once before Node's event
 * loop gets a turn (ms). Timers fire at most about this late while the
 * channels are busy. @internal
 */
export let yieldEveryMs = Number(process.env.ASYNCORE_YIELD_MS ?? 2);

/** @internal */
export function setYieldEveryMs(ms: number): void {
  yieldEveryMs = ms;
}

// ---- a native waiter, as a promise ---------------------------------------------------------

/**
 * One native waiter (native/async_wait.cc) and its pending wait. In 'uv'
 * mode it is bound to one epoll fd and closed before that fd is.
 */
type WaitEnd = 'ready' | 'timeout' | 'woken';

class Waiter {
  private handle: AsyncWaitHandle | null;
  private pending: ((end: WaitEnd) => void) | null = null;

  constructor(
    readonly mode: WaitMode,
    readonly fd: number,
  ) {
    this.handle = mode === 'uv' ? binding.asyncWaitCreate('uv', fd) : binding.asyncWaitCreate('thread');
  }

  /**
   * Resolve 'ready' when the watched fd (or one of `fds`) is ready,
   * 'timeout' after `ms` (-1: no limit), 'woken' when `run.wake()` is
   * called; reject with the signal's reason when it aborts.
   */
  wait(ms: number, run: Run, fds?: Int32Array, events?: Int32Array, n?: number): Promise<WaitEnd> {
    const { signal } = run;
    return new Promise<WaitEnd>((resolve, reject) => {
      const handle = this.handle;
      if (handle === null) return resolve('ready'); // closed: the caller looks again
      const onAbort = (): void => {
        this.pending = null;
        run.wake = null;
        binding.asyncWaitCancel(handle);
        reject(signal!.reason);
      };
      this.pending = (end) => {
        this.pending = null;
        run.wake = null;
        signal?.removeEventListener('abort', onAbort);
        resolve(end);
      };
      run.wake = () => {
        binding.asyncWaitCancel(handle);
        this.pending?.('woken');
      };
      const onStatus = (status: number): void => this.pending?.(status !== 0 ? 'ready' : 'timeout');
      if (this.mode === 'uv') binding.asyncWaitStart(handle, ms, onStatus);
      else if (this.mode === 'thread') binding.asyncWaitStart(handle, ms, onStatus, Int32Array.of(this.fd), Int32Array.of(POLLIN_VALUE), 1);
      else binding.asyncWaitStart(handle, ms, onStatus, fds!, events!, n!);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stop for good; a pending wait resolves as 'ready', so its pass looks again. */
  close(): void {
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    binding.asyncWaitClose(handle);
    this.pending?.('ready');
  }
}

const POLLIN_VALUE: number = binding.constants.POLLIN;

/** The waiter bound to the set's current epoll fd (a new one after the set was rebuilt or reopened). */
function waiterOf(set: EpollInterest): Waiter {
  const box = set.fdBox;
  const current = box.attachment;
  const mode = waitMode === 'uv' ? 'uv' : 'thread'; // an epoll fd is watched by libuv or a thread
  if (current instanceof Waiter && current.fd === box.epfd && current.mode === mode) return current;
  current?.close();
  const w = new Waiter(mode, box.epfd);
  box.attachment = w;
  return w;
}

/** Waiters of the no-epoll path ('thread-fds'), one per map. */
const fdWaiters = new WeakMap<SocketMap, Waiter>();

// ---- waiting for a pass -------------------------------------------------------------------

/** Bring the map's epoll set in line with a select/poll pass's interest (only what changed). */
function mirrorInto(set: EpollInterest, p: PreparedPass): void {
  const m = p.mirror!;
  set.begin();
  for (let i = 0; i < m.count; i++) {
    const obj = m.objAt(i);
    set.update(m.fdAt(i), obj, obj.socket, m.watchMaskAt(i));
  }
  if (set.size > m.count) set.sweep();
}

/** The set whose epoll fd shows the pass's readiness. */
function setFor(p: PreparedPass): EpollInterest {
  const set = interestFor(p.map);
  if (p.mirror !== undefined) mirrorInto(set, p);
  return set;
}

/**
 * A select pass is not woken by everything epoll reports (a hang-up on a
 * write-only fd): take such fds out of the set for the rest of this pass.
 * Returns whether one was.
 */
function muteSpurious(set: EpollInterest, p: PreparedPass): boolean {
  const m = p.mirror;
  if (m === undefined) return false;
  const r = set.takeResults();
  let muted = false;
  try {
    const n = set.wait(r, 0);
    for (let j = 0; j < n; j++) {
      const fd = r.fds[j];
      for (let i = 0; i < m.count; i++) {
        if (m.fdAt(i) !== fd) continue;
        if (!m.reportsAt(i, r.events[j])) {
          set.mute(fd);
          muted = true;
        }
        break;
      }
    }
  } finally {
    set.giveBack(r);
  }
  return muted;
}

/** The pass's fds and poll masks, for a thread that poll()s them. */
function fdArrays(p: PreparedPass): [Int32Array, Int32Array, number] {
  const m = p.mirror!;
  const fds = new Int32Array(m.count);
  const events = new Int32Array(m.count);
  for (let i = 0; i < m.count; i++) {
    fds[i] = m.fdAt(i);
    events[i] = m.watchMaskAt(i);
  }
  return [fds, events, m.count];
}

/**
 * Step 3: wait until the pass finds something ready, its timeout passes, or
 * the loop is woken (the map changed); then it has looked once more.
 */
async function waitForPass(p: PreparedPass, run: Run): Promise<void> {
  const deadline = p.waitMs < 0 ? Infinity : performance.now() + p.waitMs;
  const useFds = waitMode === 'thread-fds' && p.mirror !== undefined;
  const set = useFds ? null : setFor(p);
  const arrays = useFds ? fdArrays(p) : null;
  for (;;) {
    const left = deadline === Infinity ? -1 : Math.max(0, Math.ceil(deadline - performance.now()));
    let end: WaitEnd;
    if (run.woken) {
      end = 'woken'; // the map changed since the pass asked its channels
    } else if (set !== null) {
      if (set.released) end = 'woken'; // releaseBackend() from outside: the next pass starts afresh
      else if (set.always.size > 0) end = 'ready'; // a regular file or a closed fd: ready without waiting
      else end = await waiterOf(set).wait(left, run);
    } else {
      let w = fdWaiters.get(p.map);
      if (w === undefined) fdWaiters.set(p.map, (w = new Waiter('thread-fds', -1)));
      end = await w.wait(left, run, ...arrays!);
    }
    if (p.wait(true) > 0 || end !== 'ready' || left === 0) return;
    // Woken, yet the backend sees nothing: readiness that went away, or one select does not report.
    if (set !== null) muteSpurious(set, p);
  }
}

// ---- loopAsync() ----------------------------------------------------------------------------

/** A running loopAsync: its signal, and how to end its current wait early. */
interface Run {
  readonly signal: AbortSignal | null;
  /** Set while a wait is pending: ends it as 'woken'. */
  wake: (() => void) | null;
  /** The map changed since the current pass asked its channels. */
  woken: boolean;
}

const running = new WeakMap<SocketMap, Run>();

/**
 * While a loopAsync serves `map`, a channel that joins or leaves it from
 * outside its handlers (a timer, other I/O) ends the pass's wait, so the
 * next pass sees the change at once instead of after its timeout. Dispatcher's
 * addChannel()/delChannel() call the watcher; code that edits the map directly
 * calls wakeLoop(map).
 */
function watchMap(map: SocketMap, run: Run): () => void {
  mapWatchers.set(map, () => {
    run.woken = true;
    run.wake?.();
  });
  return () => mapWatchers.delete(map);
}

/**
 * End the current wait of the loopAsync serving `map` (if it is waiting),
 * so that its next pass asks the channels again. Call it after changing a
 * channel's `readable()`/`writable()` answer from outside the loop's
 * handlers, e.g. queuing data from a timer or an HTTP request, or after
 * editing the map directly. (A Dispatcher joining or leaving the map wakes
 * it by itself.) The pass that was waiting counts
 * as a pass.
 */
export function wakeLoop(map: SocketMap = socketMap): void {
  const run = running.get(map);
  if (run === undefined) return;
  run.woken = true;
  run.wake?.();
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Run the same passes as {@link loop}, waiting for readiness without
 * blocking Node's event loop: timers, promises, other I/O and signal
 * handlers run between passes. Resolves when the map is empty or `count`
 * passes are done; rejects with whatever a pass throws (`ExitNow`
 * included) and with `signal.reason` when the signal aborts (at once if it
 * already has), leaving the map as it was. One loopAsync per map at a time.
 *
 * It keeps the process alive while it waits on channels, and not after it
 * settles.
 *
 * @example
 * const ac = new AbortController();
 * const done = loopAsync({ backend: 'epoll', timeout: 30, signal: ac.signal });
 * // … later
 * ac.abort();
 * await done.catch(() => {});
 */
export async function loopAsync(options: LoopAsyncOptions = {}): Promise<void> {
  const signal = options.signal ?? null;
  if (signal?.aborted) throw signal.reason;
  const map = options.map ?? socketMap;
  const timeout = options.timeout === undefined ? 30 : options.timeout;
  const prepare = prepareFor(options);
  if (running.has(map))
    throw new Error('loopAsync() is already running on this map; a map is served by one loop at a time (give each loop its own map)');
  let count = options.count === null || options.count === undefined ? Infinity : options.count;
  const run: Run = { signal, wake: null, woken: false };
  running.set(map, run);
  const unwatch = watchMap(map, run);
  try {
    let lastTurn = performance.now();
    while (map.size > 0 && count > 0) {
      const p = prepare(timeout, map);
      if (p === null) break;
      run.woken = false; // changes made while the pass asked its channels are this pass's own
      let waited = false;
      try {
        if (p.wait(true) === 0 && p.waitMs !== 0) {
          p.checkTimeout();
          waited = true;
          await waitForPass(p, run);
        }
        p.dispatch();
      } finally {
        p.finish();
      }
      count--;
      if (signal?.aborted) throw signal.reason;
      if (waited) {
        lastTurn = performance.now();
      } else if (performance.now() - lastTurn >= yieldEveryMs) {
        await yieldToEventLoop();
        lastTurn = performance.now();
        if (signal?.aborted) throw signal.reason;
      }
    }
    if (map.size === 0) releaseBackend(map);
  } finally {
    unwatch();
    running.delete(map);
  }
}

function releaseFdWaiter(map: SocketMap): void {
  fdWaiters.get(map)?.close();
  fdWaiters.delete(map);
}

backendReleasers.push(releaseFdWaiter);
