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
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from './select';
import { DISCONNECTED, mustReraise, socketMap, type Dispatcher, type SocketMap } from './dispatcher';

const { EBADF } = osConstants.errno;

// ---- event wrappers -------------------------------------------------------------

/** Deliver a read event: errors go to `obj.handleError(err)`, ExitNow propagates (item 6). */
export function read(obj: Dispatcher): void {
  try {
    obj.handleReadEvent();
  } catch (err) {
    if (mustReraise(err)) throw err;
    obj.handleError(err);
  }
}

/** Deliver a write event: errors go to `obj.handleError(err)`, ExitNow propagates. */
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

/** Arrays one pass fills and the native wait reads; kept per map, grown by doubling. */
interface PassScratch {
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

function release(s: PassScratch, n: number): void {
  s.objs.fill(undefined, 0, n); // do not keep closed channels alive until the next pass
  s.busy = false;
}

/** Copy the map into the scratch arrays: the pass works on this snapshot (item 12). */
function snapshot(map: SocketMap, s: PassScratch): number {
  const n = map.size;
  if (s.fds.length < n) {
    let cap = s.fds.length;
    while (cap < n) cap *= 2;
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

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** `time.sleep(seconds)`: blocks the thread, as asyncore's idle select pass does (item 14). */
function sleep(seconds: number | null): void {
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw new TypeError(`sleep() needs a number of seconds, got ${String(seconds)}`);
  if (seconds < 0) throw new RangeError('sleep length must be non-negative');
  if (seconds > 0) Atomics.wait(sleepCell, 0, 0, seconds * 1000);
}

// ---- the select() pass ---------------------------------------------------------------

const SEL_R = 1;
const SEL_W = 2;
const SEL_X = 4;

/**
 * One select() pass (asyncore's `poll`): readers, then writers, then
 * exceptional fds. With no interested channel it sleeps for `timeout`.
 * An fd of FD_SETSIZE or more throws a RangeError (use the poll or epoll backend).
 */
export function poll(timeout: number | null = 0.0, map: SocketMap = socketMap): void {
  if (map.size === 0) return;
  const s = acquire(map);
  let n = 0;
  try {
    n = snapshot(map, s);
    const { fds, events } = s;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const obj = s.objs[i]!;
      const isR = obj.readable();
      const isW = obj.writable();
      if (!isR && !isW) continue;
      fds[k] = fds[i];
      // accepting sockets should not be writable; but both go in the exceptional set (item 13)
      events[k] = (isR ? SEL_R : 0) | (isW && !obj.accepting ? SEL_W : 0) | SEL_X;
      k++;
    }
    if (k === 0) {
      sleep(timeout);
      return;
    }
    if (binding.selectInto(fds, events, k, timeout) === 0) return;
    dispatchSelected(map, fds, events, k, SEL_R, read);
    dispatchSelected(map, fds, events, k, SEL_W, write);
    dispatchSelected(map, fds, events, k, SEL_X, exception);
  } finally {
    release(s, n);
  }
}

function dispatchSelected(map: SocketMap, fds: Int32Array, ready: Int32Array, k: number, bit: number, deliver: (obj: Dispatcher) => void): void {
  for (let i = 0; i < k; i++) {
    if ((ready[i] & bit) === 0) continue;
    const obj = map.get(fds[i]); // closed earlier in this pass: skipped (item 16)
    if (obj !== undefined) deliver(obj);
  }
}

// ---- the poll() pass -------------------------------------------------------------------

/** asyncore's conversion of a poll2 timeout: seconds to whole milliseconds, truncated; null or negative waits forever (item 18). */
function pollTimeoutMs(timeout: number | null): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`timeout must be a number of seconds or null, got ${String(timeout)}`);
  const ms = Math.trunc(timeout * 1000);
  return ms < 0 ? -1 : ms;
}

/**
 * One poll() pass (asyncore's `poll2`): every ready fd is handed to
 * `readwrite()` with its revents, in registration order.
 */
export function poll2(timeout: number | null = 0.0, map: SocketMap = socketMap): void {
  const ms = pollTimeoutMs(timeout);
  if (map.size === 0) return;
  const s = acquire(map);
  let n = 0;
  try {
    n = snapshot(map, s);
    const { fds, events, revents } = s;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const obj = s.objs[i]!;
      let flags = 0;
      if (obj.readable()) flags |= POLLIN | POLLPRI;
      if (obj.writable() && !obj.accepting) flags |= POLLOUT; // accepting sockets should not be writable
      if (flags === 0) continue;
      fds[k] = fds[i];
      events[k] = flags;
      k++;
    }
    let ready = binding.pollInto(fds, events, revents, k, ms);
    for (let i = 0; i < k && ready > 0; i++) {
      const flags = revents[i];
      if (flags === 0) continue;
      ready--;
      const obj = map.get(fds[i]);
      if (obj !== undefined) readwrite(obj, flags);
    }
  } finally {
    release(s, n);
  }
}

/** Alias of {@link poll2}, as in asyncore. */
export const poll3 = poll2;

// ---- loop() ------------------------------------------------------------------------------

/** Which readiness call each pass uses. */
export type Backend = 'select' | 'poll' | 'epoll';

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

/** The pass function for a backend name. @internal */
export function passFor(options: LoopOptions): Pass {
  const backend = options.backend ?? (options.usePoll ? 'poll' : 'select');
  if (backend === 'select') return poll;
  if (backend === 'poll') return poll2;
  const extra = extraBackends.get(backend);
  if (extra !== undefined) return extra;
  const available = ['select', 'poll', ...extraBackends.keys()].map((b) => `'${b}'`).join(', ');
  if (backend === 'epoll') throw new Error(`the epoll backend is not supported on this platform (${process.platform}); available backends: ${available}`);
  throw new RangeError(`unknown backend ${JSON.stringify(backend)}; available backends: ${available}`);
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
  if (options.count === null || options.count === undefined) {
    while (map.size > 0) pass(timeout, map);
  } else {
    let count = options.count;
    while (map.size > 0 && count > 0) {
      pass(timeout, map);
      count--;
    }
  }
}

/**
 * Close every channel in the map and empty it (asyncore's `close_all`).
 * Calls `close()`, not `handleClose()`. EBADF is ignored; other errors
 * propagate unless `ignoreAll`; ExitNow always propagates (item 62).
 */
export function closeAll(map: SocketMap = socketMap, ignoreAll = false): void {
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
}


