/**
 * `loopAsync()`: asyncore's loop inside Node's event loop.
 *
 * It runs the passes `loop()` runs (lib/loop.ts: the same questions, the same
 * deliveries, over the same backends), but never blocks the thread: it runs
 * in "turns", one each time Node's event loop is about to wait for I/O
 * (libuv's prepare phase; native/async_wait.cc). A turn:
 *
 *   1. asks every channel `readable()`/`writable()`, as the pass does;
 *   2. looks without blocking (select/poll/epoll_wait with timeout 0);
 *   3. if something is ready, dispatches it and the pass is done; passes that
 *      find work at once follow each other for up to `yieldEveryMs` (2 ms),
 *      then Node's event loop gets a round (timers, I/O) without blocking;
 *   4. if nothing is ready, lets Node's event loop block until the pass's
 *      interest is ready, its timeout passes, or anything else wakes Node.
 *
 * Whatever woke Node, the next turn asks the channels again before Node
 * blocks again. So what JavaScript changed meanwhile (a `writable()` answer,
 * a `send()` or `push()` queued from a timer or an HTTP handler, channels
 * added or closed) is seen without a call the user has to know about, and a
 * channel closed between turns is simply not asked: no backend waits on a
 * stale fd set. A pass that waited asks more than once (each turn); a pass
 * ends when it has dispatched or its timeout has passed, and `count` counts
 * passes as loop() does.
 *
 * What Node's event loop watches in step 4 (chosen by measurement,
 * scripts/bench-loop-async.js): the epoll backend's own epoll fd; for the
 * select and poll backends an edge-triggered epoll set fed the same interest
 * (it reports each change of readiness once, so a condition select does not
 * report cannot wake Node over and over); a uv_poll_t watches it. Without
 * epoll (macOS), a native thread poll()s the pass's fds instead.
 *
 * Every run owns its state (pollers, the native waiter) and frees it when it
 * settles; nothing is planted in the dispatcher or the loop for it.
 */
// The global `performance` is an accessor (a getter call per use): the module's binding is not.
import { performance } from 'node:perf_hooks';
import { binding, type AsyncWaitHandle } from './native';
import { socketMap, type Dispatcher, type SocketMap } from './dispatcher';
import { backendOf, checkOptionKeys, epollFdOf as keptEpollFdOf, LOOP_OPTION_KEYS, PASS_STEPS, type LoopOptions, type PassSteps } from './loop';
import { BEST_BACKEND, hasEpollBackend, pollerFactory, type Backend, type Poller } from './backends';
import { epollFdIfOpen } from './backends/epoll';
import { grownCapacity } from './scratch';
import { msToNextTimer, timersFor, type Timers } from './timers';

/** Options of {@link loopAsync}: those of `loop()` and an AbortSignal. */
export interface LoopAsyncOptions extends LoopOptions {
  /** Stops the loop (also in the middle of a wait); the promise rejects with `signal.reason`. */
  signal?: AbortSignal | null | undefined;
}

const LOOP_ASYNC_OPTION_KEYS: readonly string[] = [...LOOP_OPTION_KEYS, 'signal'];

/**
 * What Node's event loop watches while a pass waits: 'uv' (a uv_poll_t on an
 * epoll fd; Linux's default), 'thread' (a native thread poll()s that epoll
 * fd), 'thread-fds' (a native thread poll()s the pass's fds; the default
 * without epoll). Settable through ASYNCORE_WAIT for measurements and tests. @internal
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

/** Switch what loopAsync runs started from now on watch (measurements and tests). @internal */
export function setWaitMode(mode: WaitMode): void {
  if (mode !== 'thread-fds' && !hasEpollBackend) throw new Error(`wait mode '${mode}' needs epoll`);
  waitMode = mode;
}

/**
 * Longest stretch of passes that found work at once before Node's event
 * loop gets a round (ms). Timers fire at most about this late while the
 * channels are busy. @internal
 */
export let yieldEveryMs = Number(process.env.ASYNCORE_YIELD_MS ?? 2);

/** @internal */
export function setYieldEveryMs(ms: number): void {
  yieldEveryMs = ms;
}

// ---- what Node's event loop watches for a select or poll pass ----------------------------

/** A poller that only records the interest, for a native thread to poll() ('thread-fds'). */
class InterestList implements Poller {
  fds = new Int32Array(64);
  events = new Int32Array(64);
  watching = 0;
  readonly readyFds = new Int32Array(0);
  readonly readyEvents = new Int32Array(0);
  readonly pollFd = -1;

  begin(): void {
    this.watching = 0;
  }

  watch(fd: number, _obj: Dispatcher, events: number): void {
    const k = this.watching;
    if (k === this.fds.length) {
      const cap = grownCapacity(k, k + 1);
      const fds = new Int32Array(cap);
      const evs = new Int32Array(cap);
      fds.set(this.fds);
      evs.set(this.events);
      this.fds = fds;
      this.events = evs;
    }
    this.fds[k] = fd;
    this.events[k] = events;
    this.watching = k + 1;
  }

  wait(): number {
    return 0; // never waited on here: the thread polls `fds`
  }

  close(): void {
    this.watching = 0;
  }
}

/**
 * The pass's own backend (whose wait and results the pass uses) and a
 * watcher fed the same interest, whose fd Node's event loop watches.
 */
class Watched implements Poller {
  constructor(
    readonly pass: Poller,
    readonly watcher: Poller,
  ) {}

  begin(): void {
    this.pass.begin();
    this.watcher.begin();
  }

  watch(fd: number, obj: Dispatcher, events: number): void {
    this.pass.watch(fd, obj, events);
    this.watcher.watch(fd, obj, events);
  }

  get watching(): number {
    return this.pass.watching;
  }

  wait(ms: number): number {
    // First take what the edge-triggered watcher has queued, then look: a change after
    // this look is queued anew and wakes Node; one before it, the look sees.
    this.watcher.wait(0);
    return this.pass.wait(ms);
  }

  get readyFds(): Int32Array {
    return this.pass.readyFds;
  }

  get readyEvents(): Int32Array {
    return this.pass.readyEvents;
  }

  get pollFd(): number {
    return this.watcher.pollFd;
  }

  close(): void {
    this.pass.close();
    this.watcher.close();
  }
}

/** The poller a run over `backend` uses, given what Node's event loop is to watch. */
function runPoller(backend: Backend, mode: WaitMode): Poller {
  const pass = pollerFactory(backend)();
  if (backend === 'epoll') return pass; // its own epoll fd shows its readiness
  if (mode === 'thread-fds') return new Watched(pass, new InterestList());
  return new Watched(pass, pollerFactory('epoll')({ edgeTriggered: true }));
}

// ---- a run -------------------------------------------------------------------------------

// Why a turn came (native/async_wait.cc).
const TURN_TIMED_OUT = 2;

const running = new WeakMap<SocketMap, Run>();

/** One loopAsync() call: its passes, its pollers and its native waiter. */
class Run {
  private readonly steps: PassSteps;
  private readonly poller: Poller;
  private readonly mode: WaitMode;
  private readonly waiter: AsyncWaitHandle;
  /** The map's timers (lib/timers.ts): run after each pass; the next deadline ends a pass's wait. */
  private readonly timers: Timers;
  private count: number;
  /** When the current pass's timeout ends (performance.now() ms), or NaN between passes. */
  private deadline = NaN;
  /** While the current pass sleeps (it found nothing to watch): the map's size when it asked; else -1. */
  private sleepingSize = -1;
  private done = false;
  private readonly onAbort = (): void => this.settle(this.signal!.reason, true);

  constructor(
    private readonly map: SocketMap,
    private readonly timeout: number | null,
    backend: Backend,
    count: number | null | undefined,
    private readonly signal: AbortSignal | null,
    private readonly resolve: () => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.steps = PASS_STEPS[backend];
    this.mode = waitMode;
    this.count = count === null || count === undefined ? Infinity : count;
    this.timers = timersFor(map);
    this.poller = runPoller(backend, this.mode);
    try {
      this.waiter = binding.asyncWaitCreate(this.mode === 'uv' ? 'uv' : 'thread');
    } catch (err) {
      this.poller.close();
      throw err;
    }
  }

  start(): void {
    running.set(this.map, this);
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    binding.asyncWaitActivate(this.waiter, this.turn);
  }

  /** The epoll fd this run watches, or -1 (tests and diagnostics). */
  get epollFd(): number {
    return epollFdIfOpen(this.poller instanceof Watched ? this.poller.watcher : this.poller);
  }

  /** Called by the native waiter before Node's event loop blocks (`why`: what ended the last block). */
  private readonly turn = (why: number): void => {
    try {
      // One clock reading per turn and one per pass (at its end, which is the next one's start).
      let now = performance.now();
      if (this.inPass && (why === TURN_TIMED_OUT || now >= this.passEnd(now))) this.endPass();
      // A pass that found nothing to watch is a sleep, as asyncore's (item 14 of
      // docs/asyncore-behaviour.md): it is asked again before its timeout only
      // when a channel joined or left the map.
      if (this.inPass && this.sleepingSize === this.map.size) return this.block(this.passEnd(now) - now, 0);
      const stretchEnd = now + yieldEveryMs;
      while (!this.done) {
        // with only timers left the pass asks nobody and sleeps until the next one (as loop())
        if ((this.map.size === 0 && this.timers.pending === 0) || this.count <= 0) return this.settle();
        const watching = this.steps.ask(this.map, this.poller);
        if (!this.inPass) this.startPass(watching, now);
        const n = watching > 0 ? this.poller.wait(0) : 0;
        if (n > 0) {
          this.steps.deliver(this.map, this.poller, n);
        } else {
          const left = this.passEnd(now) - now;
          if (left > 0) return this.block(left, watching);
        }
        this.endPass();
        if (this.signal?.aborted) return this.settle(this.signal.reason, true);
        now = performance.now();
        if (now >= stretchEnd) return; // Node's event loop gets a round, then the next turn
      }
    } catch (err) {
      this.settle(err, true);
    }
  };

  private get inPass(): boolean {
    return !Number.isNaN(this.deadline);
  }

  /** A pass begins (at `now`, performance.now() ms): its timeout, by asyncore's rule for the backend, runs from then. */
  private startPass(watching: number, now: number): void {
    const ms = this.steps.waitMs(this.timeout, watching);
    this.deadline = ms < 0 ? Infinity : now + ms;
    this.sleepingSize = watching === 0 ? this.map.size : -1;
  }

  /**
   * When the current pass stops waiting (`now`: performance.now() ms): its
   * timeout, or the map's next timer if that comes first. Asked at every turn, so a timer scheduled from
   * outside the loop (a Node timer, an HTTP handler) counts at once.
   */
  private passEnd(now: number): number {
    const toTimer = msToNextTimer(this.timers);
    return toTimer === Infinity ? this.deadline : Math.min(this.deadline, now + toTimer);
  }

  /** A pass ends: then the map's due timers run, as after each of loop()'s passes. */
  private endPass(): void {
    this.deadline = NaN;
    this.sleepingSize = -1;
    this.count--;
    this.timers.runDue();
  }

  /** Let Node's event loop block up to `ms` (Infinity: no limit) or until the pass's interest is ready. */
  private block(ms: number, watching: number): void {
    const t = ms === Infinity ? -1 : Math.max(0, Math.ceil(ms)); // never -1 (no limit) for a deadline just passed
    const p = this.poller;
    if (watching > 0 && p instanceof Watched && p.watcher instanceof InterestList) {
      const list = p.watcher;
      binding.asyncWaitBlock(this.waiter, t, -1, list.fds, list.events, list.watching);
    } else {
      binding.asyncWaitBlock(this.waiter, t, watching > 0 ? p.pollFd : -1);
    }
  }

  /** End the run: free its state (the waiter first: it may watch the poller's fd), then settle the promise. */
  private settle(err?: unknown, failed = false): void {
    if (this.done) return;
    this.done = true;
    binding.asyncWaitClose(this.waiter);
    this.poller.close();
    running.delete(this.map);
    this.signal?.removeEventListener('abort', this.onAbort);
    if (failed) this.reject(err);
    else this.resolve();
  }
}

/** The epoll fd serving `map`: a running loopAsync's, else the one `loop()` keeps, else -1 (tests and diagnostics). @internal */
export function epollFdOf(map: SocketMap): number {
  const run = running.get(map);
  return run !== undefined ? run.epollFd : keptEpollFdOf(map);
}

/**
 * Kept for compatibility; never needed. A running `loopAsync()` asks its
 * channels again before Node's event loop next waits, whatever JavaScript
 * changed (a `readable()`/`writable()` answer, data queued from a timer or an
 * HTTP request, channels added or removed), so there is nothing left for
 * this call to do.
 */
export function wakeLoop(map: SocketMap = socketMap): void {
  void map;
}

/**
 * Run the same passes as {@link loop}, waiting for readiness without
 * blocking Node's event loop: timers, promises, other I/O and signal
 * handlers run between passes, and whatever they change in the channels'
 * state is seen before Node next waits. Runs the map's due `callLater` /
 * `callEvery` timers after each pass, as loop() does. Resolves when the map
 * is empty (and none of its timers is pending) or `count` passes are done;
 * rejects with whatever a pass throws (`ExitNow` included) and with
 * `signal.reason` when the signal aborts (at once if it already has),
 * leaving the map as it was. One loopAsync per map at a time.
 *
 * The backend is the platform's best (epoll on Linux) unless `backend` or
 * `usePoll` says otherwise. An unknown option is a TypeError.
 *
 * It keeps the process alive while it runs, and not after it settles.
 *
 * @example
 * const ac = new AbortController();
 * const done = loopAsync({ timeout: 30, signal: ac.signal });
 * // … later
 * ac.abort();
 * await done.catch(() => {});
 */
export async function loopAsync(options: LoopAsyncOptions = {}): Promise<void> {
  checkOptionKeys('loopAsync', options, LOOP_ASYNC_OPTION_KEYS);
  const signal = options.signal ?? null;
  if (signal?.aborted) throw signal.reason;
  const map = options.map ?? socketMap;
  const timeout = options.timeout === undefined ? 30 : options.timeout;
  const backend = backendOf(options, BEST_BACKEND);
  if (running.has(map))
    throw new Error('loopAsync() is already running on this map; a map is served by one loop at a time (give each loop its own map)');
  return new Promise<void>((resolve, reject) => {
    new Run(map, timeout, backend, options.count, signal, resolve, reject).start();
  });
}
