/**
 * The loop: asyncore's event wrappers (`read`, `write`, `readwrite`), its two
 * passes (`poll` over select(), `poll2` over poll()) and `loop()`, which runs
 * passes until the map is empty or `count` passes are done.
 *
 * A pass asks every channel `readable()` and `writable()`, waits once in
 * native code, then dispatches. The fd and event arrays are kept per map and
 * reused between passes, so a pass allocates nothing of its own.
 */
import { constants as osConstants } from 'node:os';
import { binding } from './native';
import { OSError } from './errors';
import { grownCapacity, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from './select';
import { DISCONNECTED, mustReraise, socketMap, type Dispatcher, type SocketMap } from './dispatcher';

const { EBADF } = osConstants.errno;

// ---- event wrappers -------------------------------------------------------------

/** Deliver a read event: errors go to `obj.handleError(err)`, ExitNow propagates (item 6). asyncore: `read(obj)`. */
export function read(obj: Dispatcher): void {
  try {
    obj.handleReadEvent();
  } catch (err) {
    if (mustReraise(err)) throw err;
    obj.handleError(err);
  }
}

/** Deliver a write event: errors go to `obj.handleError(err)`, ExitNow propagates. asyncore: `write(obj)`. */
export function write(obj: Dispatcher): void {
  try {
    obj.handleWriteEvent();
  } catch (err) {
    if (mustReraise(err)) throw err;
    obj.handleError(err);
  }
}

/** Deliver an exceptional-condition event (asyncore's `_exception`). */
export function exception(obj: Dispatcher): void {
  try {
    obj.handleExptEvent();
  } catch (err) {
    if (mustReraise(err)) throw err;
    obj.handleError(err);
  }
}

/**
 * Deliver poll() flags, in asyncore's fixed order, inside one try: read,
 * write, priority, then close for HUP/ERR/NVAL (item 8). A disconnect errno
 * closes the channel quietly; other errors go to `handleError` (item 9).
 * asyncore: `readwrite(obj, flags)`.
 */
export function readwrite(obj: Dispatcher, flags: number): void {
  try {
    if (flags & POLLIN) obj.handleReadEvent();
    if (flags & POLLOUT) obj.handleWriteEvent();
    if (flags & POLLPRI) obj.handleExptEvent();
    if (flags & (POLLHUP | POLLERR | POLLNVAL)) obj.handleClose();
  } catch (err) {
    if (err instanceof OSError) {
      if (DISCONNECTED.has(err.errno)) obj.handleClose();
      else obj.handleError(err);
    } else if (mustReraise(err)) {
      throw err;
    } else {
      obj.handleError(err);
    }
  }
}

// ---- per-map scratch space ------------------------------------------------------

/** Arrays one pass fills and the native wait reads; kept per map, grown by doubling. @internal */
export interface PassScratch {
  fds: Int32Array;
  events: Int32Array;
  revents: Int32Array;
  objs: Array<Dispatcher | undefined>;
  busy: boolean;
}

const scratchByMap = new WeakMap<SocketMap, PassScratch>();

function newScratch(size = 64): PassScratch {
  return { fds: new Int32Array(size), events: new Int32Array(size), revents: new Int32Array(size), objs: new Array(size), busy: false };
}

/** The map's scratch space; a pass nested inside a handler of the same map gets its own. */
function acquire(map: SocketMap): PassScratch {
  let s = scratchByMap.get(map);
  if (s === undefined) {
    s = newScratch();
    scratchByMap.set(map, s);
  }
  if (s.busy) return newScratch(map.size || 1);
  s.busy = true;
  return s;
}

/** @internal */
export function release(s: PassScratch, n: number): void {
  clearObjs(s.objs, n); // do not keep closed channels alive until the next pass
  s.busy = false;
}

/** `objs.fill(undefined, 0, n)`, as a loop: fill() is a call into the runtime, twice every pass. */
function clearObjs(objs: Array<Dispatcher | undefined>, n: number): void {
  for (let i = 0; i < n; i++) objs[i] = undefined;
}

/** Copy the map into the scratch arrays: the pass works on this snapshot (item 12). */
function snapshot(map: SocketMap, s: PassScratch): number {
  const n = map.size;
  if (s.fds.length < n) {
    const cap = grownCapacity(s.fds.length, n);
    s.fds = new Int32Array(cap);
    s.events = new Int32Array(cap);
    s.revents = new Int32Array(cap);
    s.objs = new Array(cap);
  }
  let i = 0;
  for (const [fd, obj] of map) {
    s.fds[i] = fd;
    s.objs[i] = obj;
    i++;
  }
  return n;
}

/**
 * The start every backend's pass shares: take the map's scratch, copy the map
 * into it (item 12), and let `ask` put the questions to the `n` channels and
 * build the pass, which gives the scratch back when it finishes; if asking
 * throws, it is given back here. @internal
 */
export function askSnapshot<T>(
  map: SocketMap,
  arg: T,
  ask: (map: SocketMap, s: PassScratch, n: number, arg: T) => PreparedPass,
): PreparedPass {
  const s = acquire(map);
  let n = 0;
  try {
    n = snapshot(map, s);
    return ask(map, s, n, arg);
  } catch (err) {
    release(s, n);
    throw err;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** `time.sleep()`'s checks on its argument (item 14). */
function checkSleep(seconds: number | null): void {
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw new TypeError(`sleep() needs a number of seconds, got ${String(seconds)}`);
  if (seconds < 0) throw new RangeError('sleep length must be non-negative');
}

/** `time.sleep(seconds)`: blocks the thread, as asyncore's idle select pass does (item 14). */
function sleep(seconds: number | null): void {
  checkSleep(seconds);
  if ((seconds as number) > 0) Atomics.wait(sleepCell, 0, 0, (seconds as number) * 1000);
}

// ---- a pass, cut at its wait -------------------------------------------------------------

/**
 * One pass after it has asked every channel `readable()`/`writable()`, before
 * it waits. `loop()` runs `wait(false)` then `dispatch()`; `loopAsync()` runs
 * `wait(true)` (a look that does not block), waits elsewhere when nothing is
 * ready, looks again and dispatches: one question round and one dispatch per
 * pass either way. @internal
 */
export interface PreparedPass {
  readonly map: SocketMap;
  /** The longest wait this pass allows, in ms: -1 for none, 0 when the pass must not wait at all. */
  readonly waitMs: number;
  /** Throw what the blocking wait would throw about its timeout (checked before waiting elsewhere). */
  checkTimeout(): void;
  /** Wait in the kernel up to the pass's timeout, or only look (`peek`), and keep what is ready; returns how many fds are. */
  wait(peek: boolean): number;
  /** Deliver what `wait` kept, as the backend does. */
  dispatch(): void;
  /** Give back the pass's arrays; called once, after `dispatch` or a throw. */
  finish(): void;
  /** The fds the pass waits on, so that an epoll set can mirror them (select and poll passes). */
  readonly mirror?: MirrorSource;
}

/** The interest of a select or poll pass, one entry per fd it waits on. @internal */
export interface MirrorSource {
  readonly count: number;
  fdAt(i: number): number;
  objAt(i: number): Dispatcher;
  /** The poll flags (POLLIN/POLLPRI/POLLOUT) whose readiness wakes this pass for entry i. */
  watchMaskAt(i: number): number;
  /** Whether the backend's own wait reports entry i when epoll says `events` (select does not see every epoll wake-up). */
  reportsAt(i: number, events: number): boolean;
}

/** Ask the channels of `map` and return the pass, or null for an empty map (no pass at all). @internal */
export type PreparePass = (timeout: number | null, map: SocketMap) => PreparedPass | null;

/** A whole blocking pass: ask, wait, dispatch. @internal */
export function runPass(prepare: PreparePass, timeout: number | null, map: SocketMap): void {
  const p = prepare(timeout, map);
  if (p === null) return;
  try {
    if (p.wait(false) > 0) p.dispatch();
  } finally {
    p.finish();
  }
}

// ---- the select() pass ---------------------------------------------------------------

const SEL_R = 1;
const SEL_W = 2;
const SEL_X = 4;

/**
 * What the select and poll passes share: the snapshot's first `k` entries
 * (the fds the pass waits on) in the map's scratch arrays, given back once.
 */
abstract class ScratchPass implements PreparedPass, MirrorSource {
  protected ready = 0;
  abstract readonly waitMs: number;
  constructor(
    readonly map: SocketMap,
    protected readonly s: PassScratch,
    protected readonly n: number,
    protected readonly k: number,
  ) {}

  abstract checkTimeout(): void;
  abstract wait(peek: boolean): number;
  abstract dispatch(): void;
  abstract watchMaskAt(i: number): number;
  abstract reportsAt(i: number, events: number): boolean;

  get mirror(): MirrorSource | undefined {
    return this;
  }

  get count(): number {
    return this.k;
  }

  finish(): void {
    release(this.s, this.n);
  }

  fdAt(i: number): number {
    return this.s.fds[i];
  }

  objAt(i: number): Dispatcher {
    return this.s.objs[i]!;
  }
}

/** The select() pass after its questions: fds[0..k) with their SEL_* masks in `events`. */
class SelectPass extends ScratchPass {
  readonly waitMs: number;
  constructor(
    map: SocketMap,
    s: PassScratch,
    n: number,
    k: number,
    private readonly timeout: number | null,
  ) {
    super(map, s, n, k);
    this.waitMs = typeof timeout === 'number' && timeout >= 0 ? Math.ceil(timeout * 1000) : -1;
  }

  checkTimeout(): void {
    const t = this.timeout;
    if (this.k === 0) return checkSleep(t);
    if (t === null || t === undefined) return;
    if (typeof t !== 'number' || Number.isNaN(t)) throw new TypeError(`timeout must be a number, got ${String(t)}`);
    if (t < 0) throw new RangeError('timeout must be non-negative');
  }

  wait(peek: boolean): number {
    const { fds, events, revents } = this.s;
    if (this.k === 0) {
      // nothing to wait for: sleep (item 14)
      if (!peek) sleep(this.timeout);
      return 0;
    }
    revents.set(events.subarray(0, this.k)); // the masks stay for another look
    this.ready = binding.selectInto(fds, revents, this.k, peek ? 0 : this.timeout);
    return this.ready;
  }

  dispatch(): void {
    if (this.ready === 0) return;
    const { fds, revents } = this.s;
    dispatchSelected(this.map, fds, revents, this.k, SEL_R, read);
    dispatchSelected(this.map, fds, revents, this.k, SEL_W, write);
    dispatchSelected(this.map, fds, revents, this.k, SEL_X, exception);
  }

  watchMaskAt(i: number): number {
    const m = this.s.events[i];
    return (m & SEL_R ? POLLIN : 0) | (m & SEL_W ? POLLOUT : 0) | POLLPRI;
  }

  reportsAt(i: number, events: number): boolean {
    // The kernel's select() sets: read sees IN/HUP/ERR, write sees OUT/ERR, except sees PRI.
    const m = this.s.events[i];
    return (
      (m & SEL_R && events & (POLLIN | POLLHUP | POLLERR)) !== 0 ||
      (m & SEL_W && events & (POLLOUT | POLLERR)) !== 0 ||
      (events & POLLPRI) !== 0
    );
  }
}

/** Ask every channel of the snapshot; readers, writers and (both) exceptional fds go in the select sets (item 13). */
export const prepareSelect: PreparePass = (timeout, map) => (map.size === 0 ? null : askSnapshot(map, timeout, askSelect));

function askSelect(map: SocketMap, s: PassScratch, n: number, timeout: number | null): PreparedPass {
  const { fds, events, objs } = s;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const obj = objs[i]!;
    const isR = obj.readable();
    const isW = obj.writable();
    if (!isR && !isW) continue;
    fds[k] = fds[i];
    objs[k] = obj;
    // accepting sockets should not be writable; but both go in the exceptional set (item 13)
    events[k] = (isR ? SEL_R : 0) | (isW && !obj.accepting ? SEL_W : 0) | SEL_X;
    k++;
  }
  return new SelectPass(map, s, n, k, timeout);
}

/**
 * One select() pass (asyncore's `poll`): readers, then writers, then
 * exceptional fds. With no interested channel it sleeps for `timeout`.
 * An fd of FD_SETSIZE or more throws a RangeError (use the poll or epoll backend).
 * asyncore: `poll(timeout=0.0, map=None)`.
 *
 * @example
 * poll(0.1, myMap); // one pass, waiting at most 0.1 s
 */
export function poll(timeout: number | null = 0.0, map: SocketMap | null = socketMap): void {
  runPass(prepareSelect, timeout, map ?? socketMap); // asyncore's map=None (item 2)
}

function dispatchSelected(map: SocketMap, fds: Int32Array, ready: Int32Array, k: number, bit: number, deliver: (obj: Dispatcher) => void): void {
  for (let i = 0; i < k; i++) {
    if ((ready[i] & bit) === 0) continue;
    const obj = map.get(fds[i]); // closed earlier in this pass: skipped (item 16)
    if (obj !== undefined) deliver(obj);
  }
}

// ---- the poll() pass -------------------------------------------------------------------

/** asyncore's conversion of a poll2 timeout: seconds to whole milliseconds, truncated; null or negative waits forever (item 18). @internal */
export function pollTimeoutMs(timeout: number | null): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`timeout must be a number of seconds or null, got ${String(timeout)}`);
  const ms = Math.trunc(timeout * 1000);
  return ms < 0 ? -1 : ms;
}

/** The poll() pass after its questions: fds[0..k) with their POLL* masks in `events`. */
class PollPass extends ScratchPass {
  constructor(
    map: SocketMap,
    s: PassScratch,
    n: number,
    k: number,
    readonly waitMs: number,
  ) {
    super(map, s, n, k);
  }

  checkTimeout(): void {
    // pollTimeoutMs() checked it when the pass began
  }

  wait(peek: boolean): number {
    const { fds, events, revents } = this.s;
    this.ready = binding.pollInto(fds, events, revents, this.k, peek ? 0 : this.waitMs);
    return this.ready;
  }

  dispatch(): void {
    const { fds, revents } = this.s;
    let ready = this.ready;
    for (let i = 0; i < this.k && ready > 0; i++) {
      const flags = revents[i];
      if (flags === 0) continue;
      ready--;
      const obj = this.map.get(fds[i]);
      if (obj !== undefined) readwrite(obj, flags);
    }
  }

  watchMaskAt(i: number): number {
    return this.s.events[i];
  }

  reportsAt(): boolean {
    return true; // poll() and epoll see the same conditions
  }
}

/** Ask every channel of the snapshot: readable adds POLLIN|POLLPRI, writable (not accepting) POLLOUT (item 20). */
export const preparePoll: PreparePass = (timeout, map) => {
  const ms = pollTimeoutMs(timeout);
  return map.size === 0 ? null : askSnapshot(map, ms, askPoll);
};

function askPoll(map: SocketMap, s: PassScratch, n: number, ms: number): PreparedPass {
  const { fds, events, objs } = s;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const obj = objs[i]!;
    let flags = 0;
    if (obj.readable()) flags |= POLLIN | POLLPRI;
    if (obj.writable() && !obj.accepting) flags |= POLLOUT; // accepting sockets should not be writable
    if (flags === 0) continue;
    fds[k] = fds[i];
    objs[k] = obj;
    events[k] = flags;
    k++;
  }
  return new PollPass(map, s, n, k, ms);
}

/**
 * One poll() pass (asyncore's `poll2`): every ready fd is handed to
 * `readwrite()` with its revents, in registration order.
 * asyncore: `poll2(timeout=0.0, map=None)`.
 */
export function poll2(timeout: number | null = 0.0, map: SocketMap | null = socketMap): void {
  runPass(preparePoll, timeout, map ?? socketMap); // asyncore's map=None (item 2)
}

/** Alias of {@link poll2}, as in asyncore. asyncore: `poll3`. */
export const poll3 = poll2;

// ---- loop() ------------------------------------------------------------------------------

/** Which readiness call each pass uses: `'select'` (asyncore's default), `'poll'` (`use_poll=True`) or `'epoll'` (Linux; not in asyncore). */
export type Backend = 'select' | 'poll' | 'epoll';

/**
 * The options of `loop()` (and `loopAsync()`): asyncore's `loop()` keyword
 * arguments, camelCased, plus `backend`. asyncore: `loop(timeout=30.0, use_poll=False, map=None, count=None)`.
 *
 * @example
 * loop({ timeout: 1, backend: 'poll', count: 10 });
 */
export interface LoopOptions {
  /** Seconds each pass may wait for readiness (a float; asyncore's unit). Default 30. */
  timeout?: number | null;
  /** `true`: each pass is `poll2`; `false` (default): `poll` (select). */
  usePoll?: boolean;
  /** Overrides `usePoll`. `'epoll'` keeps one kernel interest set across passes (Linux). */
  backend?: Backend;
  /** The map to serve; default {@link socketMap}. */
  map?: SocketMap | null;
  /** Number of passes, or null/absent for "until the map is empty". */
  count?: number | null;
}

type Pass = (timeout: number | null, map: SocketMap) => void;

/** Backends other modules add (the epoll pass lives in its own file). @internal */
export const extraBackends = new Map<Backend, Pass>();
/** The same backends' passes cut at their wait, for loopAsync. @internal */
export const extraPrepares = new Map<Backend, PreparePass>();

/** Loads the backends that live in their own files (lib/epoll.ts registers itself on Linux). */
function loadExtraBackends(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (extraBackends.size === 0) require('./epoll');
}

function backendName(options: LoopOptions): Backend {
  return options.backend ?? (options.usePoll ? 'poll' : 'select');
}

function noSuchBackend(backend: Backend): Error {
  const available = ['select', 'poll', ...extraBackends.keys()].map((b) => `'${b}'`).join(', ');
  if (backend === 'epoll') return new Error(`the epoll backend is not supported on this platform (${process.platform}); available backends: ${available}`);
  return new RangeError(`unknown backend ${JSON.stringify(backend)}; available backends: ${available}`);
}

/** The pass function for a backend name. @internal */
export function passFor(options: LoopOptions): Pass {
  const backend = backendName(options);
  if (backend === 'select') return poll;
  if (backend === 'poll') return poll2;
  loadExtraBackends();
  const extra = extraBackends.get(backend);
  if (extra !== undefined) return extra;
  throw noSuchBackend(backend);
}

/** The backend's pass cut at its wait (loopAsync runs passes this way). @internal */
export function prepareFor(options: LoopOptions): PreparePass {
  const backend = backendName(options);
  if (backend === 'select') return prepareSelect;
  if (backend === 'poll') return preparePoll;
  loadExtraBackends();
  const extra = extraPrepares.get(backend);
  if (extra !== undefined) return extra;
  throw noSuchBackend(backend);
}

/**
 * What frees a backend's kernel state for a map (the epoll fd), set by the
 * module that keeps it. @internal
 */
export const backendReleasers: Array<(map: SocketMap) => void> = [];

/**
 * Free the kernel state the epoll backend (and `loopAsync`) keep for `map`:
 * its epoll fd. `loop()` and `loopAsync()` do this themselves when they end
 * with the map empty; call it for a map you stop serving while it still
 * holds channels. The map stays usable: the next pass creates a new set.
 */
export function releaseBackend(map: SocketMap = socketMap): void {
  for (const release of backendReleasers) release(map);
}

/** Normalise `loop()`'s two call forms (an options object, or asyncore's positional arguments). @internal */
export function loopOptions(args: unknown[]): LoopOptions {
  const first = args[0];
  if (first !== null && typeof first === 'object') return first as LoopOptions;
  const [timeout, usePoll, map, count] = args as [number | null | undefined, boolean?, SocketMap?, number?];
  return { timeout: timeout === undefined ? 30 : timeout, usePoll, map, count };
}

/**
 * Run passes until the map is empty, or `count` times (asyncore's `loop`).
 * Blocks the thread, as asyncore's does; see `loopAsync` for a loop that
 * lets Node's event loop run. Stop it from a handler by throwing {@link ExitNow}.
 * asyncore: `loop(timeout=30.0, use_poll=False, map=None, count=None)`.
 *
 * @example
 * loop({ timeout: 1, count: 10, backend: 'poll' });
 * loop(0.01, true, myMap, 300);   // asyncore's positional form also works
 */
export function loop(options?: LoopOptions): void;
export function loop(timeout?: number | null, usePoll?: boolean, map?: SocketMap | null, count?: number | null): void;
export function loop(...args: unknown[]): void {
  const options = loopOptions(args);
  const map = options.map ?? socketMap;
  const timeout = options.timeout === undefined ? 30 : options.timeout;
  const pass = passFor(options);
  try {
    if (options.count === null || options.count === undefined) {
      while (map.size > 0) pass(timeout, map);
    } else {
      let count = options.count;
      while (map.size > 0 && count > 0) {
        pass(timeout, map);
        count--;
      }
    }
  } finally {
    if (map.size === 0) releaseBackend(map); // no epoll fd outlives the channels it served
  }
}

/**
 * Close every channel in the map and empty it (asyncore's `close_all`).
 * Calls `close()`, not `handleClose()`. EBADF is ignored; other errors
 * propagate unless `ignoreAll`; ExitNow always propagates (item 62).
 * asyncore: `close_all(map=None, ignore_all=False)`.
 */
export function closeAll(map: SocketMap | null = socketMap, ignoreAll = false): void {
  map ??= socketMap; // asyncore's map=None (item 2)
  for (const x of [...map.values()]) {
    try {
      x.close();
    } catch (err) {
      if (err instanceof OSError) {
        if (err.errno === EBADF) continue;
        if (!ignoreAll) throw err;
      } else if (mustReraise(err) || !ignoreAll) {
        throw err;
      }
    }
  }
  map.clear();
  releaseBackend(map); // and the epoll set that served it
}

