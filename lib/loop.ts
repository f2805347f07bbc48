/**
 * The loop: asyncore's event wrappers (`read`, `write`, `_exception`,
 * `readwrite`), its two passes (`poll` over select(), `poll2` over poll()),
 * `loop()`, which runs passes until the map is empty or `count` passes are
 * done, and `closeAll()`; in asyncore.py's order.
 *
 * A pass asks every channel `readable()` and `writable()`, waits once in the
 * kernel, then dispatches. The waiting is a backend's (lib/backends/): this
 * file takes one by name from the backends' table and only uses the contract
 * in lib/backends/backend.ts. A map keeps its pollers between passes (their
 * arrays, and for epoll the kernel set) until it is empty at the end of
 * `loop()`, `closeAll()` or `releaseBackend()`.
 *
 * "item N" is the numbered list in
 * [docs/asyncore-behaviour.md](../docs/asyncore-behaviour.md).
 */
import { constants as osConstants } from 'node:os';
import { OSError } from './errors';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI } from './select';
import { DISCONNECTED, mustReraise, socketMap, type Dispatcher, type SocketMap } from './dispatcher';
import { pollerFactory, type Backend, type Poller } from './backends';
import { epollFdIfOpen } from './backends/epoll';
import { grownCapacity } from './scratch';
import { passTimeout, timersFor, type Timers } from './timers';

export type { Backend } from './backends';

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

// ---- what a pass is made of -----------------------------------------------------

/** `list(map.items())`: the copy a pass asks, kept and reused (a pass nested in a question gets its own). */
class Snapshot {
  fds = new Int32Array(64);
  objs: Array<Dispatcher | undefined> = new Array(64);
  n = 0;
  busy = false;
}

const snapshot = new Snapshot();

/** Copy the map: channels a question adds or removes do not change who this pass asks (item 12). */
function takeSnapshot(map: SocketMap): Snapshot {
  const s = snapshot.busy ? new Snapshot() : snapshot;
  s.busy = true;
  if (s.fds.length < map.size) {
    const cap = grownCapacity(s.fds.length, map.size);
    s.fds = new Int32Array(cap);
    s.objs = new Array(cap);
  }
  let i = 0;
  for (const [fd, obj] of map) {
    s.fds[i] = fd;
    s.objs[i] = obj;
    i++;
  }
  s.n = i;
  return s;
}

function giveSnapshot(s: Snapshot): void {
  for (let i = 0; i < s.n; i++) s.objs[i] = undefined; // do not keep closed channels alive until the next pass
  s.busy = false;
}

/**
 * The select pass's questions: readers in the read set; writers, unless
 * accepting, in the write set; both in the exceptional set (item 13).
 * Returns how many fds the pass watches. @internal
 */
export function askSelect(map: SocketMap, p: Poller): number {
  const s = takeSnapshot(map);
  try {
    p.begin();
    for (let i = 0; i < s.n; i++) {
      const obj = s.objs[i]!;
      const isR = obj.readable();
      const isW = obj.writable();
      // accepting sockets should not be writable
      if (isR || isW) p.watch(s.fds[i], obj, (isR ? POLLIN : 0) | (isW && !obj.accepting ? POLLOUT : 0) | POLLPRI);
    }
  } finally {
    giveSnapshot(s);
  }
  return p.watching;
}

/** The poll2 pass's questions: readable adds POLLIN|POLLPRI, writable (not accepting) POLLOUT (item 20). @internal */
export function askPoll(map: SocketMap, p: Poller): number {
  const s = takeSnapshot(map);
  try {
    p.begin();
    for (let i = 0; i < s.n; i++) {
      const obj = s.objs[i]!;
      let flags = 0;
      if (obj.readable()) flags |= POLLIN | POLLPRI;
      // accepting sockets should not be writable
      if (obj.writable() && !obj.accepting) flags |= POLLOUT;
      if (flags !== 0) p.watch(s.fds[i], obj, flags);
    }
  } finally {
    giveSnapshot(s);
  }
  return p.watching;
}

/** The select pass's deliveries: every reader, then every writer, then every exceptional fd. @internal */
export function deliverSelect(map: SocketMap, p: Poller, n: number): void {
  deliverSet(map, p, n, POLLIN, read);
  deliverSet(map, p, n, POLLOUT, write);
  deliverSet(map, p, n, POLLPRI, exception);
}

function deliverSet(map: SocketMap, p: Poller, n: number, flag: number, deliver: (obj: Dispatcher) => void): void {
  for (let i = 0; i < n; i++) {
    if ((p.readyEvents[i] & flag) === 0) continue;
    const obj = map.get(p.readyFds[i]); // closed earlier in this pass: skipped (item 16)
    if (obj !== undefined) deliver(obj);
  }
}

/** The poll2 pass's deliveries: each ready fd's flags to `readwrite()`, in the backend's order. @internal */
export function deliverPoll(map: SocketMap, p: Poller, n: number): void {
  for (let i = 0; i < n; i++) {
    const obj = map.get(p.readyFds[i]); // closed earlier in this pass: skipped; a newcomer on the fd gets it, as in asyncore
    if (obj !== undefined) readwrite(obj, p.readyEvents[i]);
  }
}

/**
 * The select pass's timeout for the poller: seconds as given, in ms (a
 * fraction kept); null waits forever. select.select's own rule (rounded up to
 * the microsecond, CPython's select_select_impl) is applied by the addon
 * (native/readiness.cc, "timeouts"). The checks here are the pass's for
 * loopAsync(), whose select steps never hand the timeout to select(). @internal
 */
export function selectTimeoutMs(timeout: number | null): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`timeout must be a number, got ${String(timeout)}`);
  if (timeout < 0) throw new RangeError('timeout must be non-negative');
  return timeout === Infinity ? -1 : timeout * 1000;
}

/**
 * asyncore's conversion of a poll2 timeout (asyncore.poll2: `int(timeout*1000)`):
 * seconds to whole milliseconds, truncated; null or negative waits forever
 * (item 18). The other timeout rules (select.select, poll.poll, epoll.poll)
 * are named once, in native/readiness.cc. @internal
 */
export function pollTimeoutMs(timeout: number | null): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`timeout must be a number of seconds or null, got ${String(timeout)}`);
  const ms = Math.trunc(timeout * 1000);
  return ms < 0 ? -1 : ms;
}

/** `time.sleep()`'s checks on its argument (item 14); the sleep in ms. @internal */
export function sleepMs(seconds: number | null): number {
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw new TypeError(`sleep() needs a number of seconds, got ${String(seconds)}`);
  if (seconds < 0) throw new RangeError('sleep length must be non-negative');
  return seconds * 1000;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** `time.sleep(seconds)`: blocks the thread, as asyncore's idle select pass does (item 14). */
function sleep(seconds: number | null): void {
  const ms = sleepMs(seconds);
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

// ---- the pollers a map keeps --------------------------------------------------------

interface Kept {
  readonly poller: Poller;
  busy: boolean;
}

const kept: Record<Backend, WeakMap<SocketMap, Kept>> = { select: new WeakMap(), poll: new WeakMap(), epoll: new WeakMap() };

/** The map's poller for `backend`; a pass nested in a handler of another pass over the map gets one of its own. */
function takePoller(map: SocketMap, backend: Backend): Poller {
  let k = kept[backend].get(map);
  if (k === undefined) {
    k = { poller: pollerFactory(backend)(), busy: false };
    kept[backend].set(map, k);
  }
  if (k.busy) return pollerFactory(backend)();
  k.busy = true;
  return k.poller;
}

function givePoller(map: SocketMap, backend: Backend, p: Poller): void {
  const k = kept[backend].get(map);
  if (k !== undefined && k.poller === p) k.busy = false;
  else p.close(); // a nested pass's own, or released while the pass ran
}

/**
 * Free the kernel state `loop()`'s passes keep for `map`: its epoll fd.
 * `loop()` does this itself when it ends with the map empty, as does
 * `closeAll()`; call it for a map you stop serving while it still holds
 * channels. The map stays usable: the next pass creates a new set.
 * (`loopAsync()` keeps its own state and frees it when it settles.)
 *
 * @example
 * loop({ map, backend: 'epoll', count: 100 });
 * releaseBackend(map); // the map keeps its channels; its epoll fd is closed
 */
export function releaseBackend(map: SocketMap = socketMap): void {
  for (const backend of ['select', 'poll', 'epoll'] as const) {
    const k = kept[backend].get(map);
    if (k === undefined) continue;
    kept[backend].delete(map);
    k.poller.close();
  }
}

/** The epoll fd `loop()` keeps for `map`, or -1 (tests and diagnostics). @internal */
export function epollFdOf(map: SocketMap): number {
  const k = kept.epoll.get(map);
  return k === undefined ? -1 : epollFdIfOpen(k.poller);
}

// ---- the passes ---------------------------------------------------------------------

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
  map ??= socketMap; // asyncore's map=None (item 2)
  if (map.size === 0) return;
  const p = takePoller(map, 'select');
  try {
    if (askSelect(map, p) === 0) return sleep(timeout); // nothing to wait for (item 14)
    const n = p.wait(selectTimeoutMs(timeout));
    if (n > 0) deliverSelect(map, p, n);
  } finally {
    givePoller(map, 'select', p);
  }
}

/**
 * One poll() pass (asyncore's `poll2`): every ready fd is handed to
 * `readwrite()` with its revents, in registration order.
 * asyncore: `poll2(timeout=0.0, map=None)`.
 */
export function poll2(timeout: number | null = 0.0, map: SocketMap | null = socketMap): void {
  pollPass('poll', timeout, map ?? socketMap); // asyncore's map=None (item 2)
}

/** Alias of {@link poll2}, as in asyncore. asyncore: `poll3`. */
export const poll3 = poll2;

/**
 * One epoll pass: asyncore's `poll2` over the map's epoll set (Linux), kept
 * across passes. Same questions, same flags, same handler order per channel;
 * ready channels come in kernel order. @internal
 */
export function epollPass(timeout: number | null = 0.0, map: SocketMap | null = socketMap): void {
  pollPass('epoll', timeout, map ?? socketMap);
}

/** `poll2`'s body, over the poll or the epoll backend. */
function pollPass(backend: 'poll' | 'epoll', timeout: number | null, map: SocketMap): void {
  const ms = pollTimeoutMs(timeout); // asyncore: int(timeout*1000), before anything else (item 18)
  if (map.size === 0) return;
  const p = takePoller(map, backend);
  try {
    askPoll(map, p);
    const n = p.wait(ms); // with nothing watched, this sleeps `ms`, as poll(2) does
    if (n > 0) deliverPoll(map, p, n);
  } finally {
    givePoller(map, backend, p);
  }
}

// ---- loop() --------------------------------------------------------------------------

/**
 * The options of `loop()` (and `loopAsync()`): asyncore's `loop()` keyword
 * arguments, camelCased, plus `backend`. An unknown key is a TypeError.
 * asyncore: `loop(timeout=30.0, use_poll=False, map=None, count=None)`.
 *
 * @example
 * loop({ timeout: 1, backend: 'poll', count: 10 });
 */
export interface LoopOptions {
  /** Seconds each pass may wait for readiness (a float; asyncore's unit). Default 30. */
  timeout?: number | null | undefined;
  /** `true`: each pass is `poll2`; `false` (default): `poll` (select). */
  usePoll?: boolean | undefined;
  /** Overrides `usePoll`. `'epoll'` keeps one kernel interest set across passes (Linux). */
  backend?: Backend | undefined;
  /** The map to serve; default {@link socketMap}. */
  map?: SocketMap | null | undefined;
  /** Number of passes, or null/absent for "until the map is empty and no timer of it is pending" (lib/timers.ts). */
  count?: number | null | undefined;
}

/** The keys `loop()` takes. @internal */
export const LOOP_OPTION_KEYS: readonly string[] = ['timeout', 'usePoll', 'backend', 'map', 'count'];

/** Refuse a key that is not in `known` (a typo would otherwise be silently ignored). @internal */
export function checkOptionKeys(fn: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${fn}() got an unknown option '${key}'; the options are: ${known.join(', ')}`);
  }
}

/** Normalise `loop()`'s two call forms (an options object, or asyncore's positional arguments). */
function loopOptions(args: unknown[]): LoopOptions {
  const first = args[0];
  if (first !== null && typeof first === 'object') {
    checkOptionKeys('loop', first, LOOP_OPTION_KEYS);
    return first as LoopOptions;
  }
  const [timeout, usePoll, map, count] = args as [number | null | undefined, boolean?, SocketMap?, number?];
  return { timeout, usePoll, map, count };
}

/** Each backend's pass. */
type Pass = (timeout: number | null, map: SocketMap) => void;

const PASSES: Record<Backend, Pass> = { select: poll, poll: poll2, epoll: epollPass };

/**
 * One pass over each backend cut in its steps, for `loopAsync()`, which
 * waits between them in Node's event loop instead of in the kernel: the
 * questions, asyncore's timeout rule for the pass (`watching` is what the
 * questions found: a select pass with nothing to watch sleeps, item 14) and
 * the deliveries. @internal
 */
export interface PassSteps {
  ask(map: SocketMap, p: Poller): number;
  waitMs(timeout: number | null, watching: number): number;
  deliver(map: SocketMap, p: Poller, n: number): void;
}

/** @internal */
export const PASS_STEPS: Record<Backend, PassSteps> = {
  select: { ask: askSelect, waitMs: (t, watching) => (watching === 0 ? sleepMs(t) : selectTimeoutMs(t)), deliver: deliverSelect },
  poll: { ask: askPoll, waitMs: pollTimeoutMs, deliver: deliverPoll },
  epoll: { ask: askPoll, waitMs: pollTimeoutMs, deliver: deliverPoll },
};

/** The backend `options` name (asyncore: `use_poll` picks poll2), checked to exist here. @internal */
export function backendOf(options: LoopOptions, dflt: Backend): Backend {
  const backend = options.backend ?? (options.usePoll === undefined ? dflt : options.usePoll ? 'poll' : 'select');
  pollerFactory(backend); // throws for a backend this platform does not have
  return backend;
}

/**
 * Run passes until the map is empty, or `count` times (asyncore's `loop`).
 * Blocks the thread, as asyncore's does; see `loopAsync` for a loop that
 * lets Node's event loop run. Stop it from a handler by throwing {@link ExitNow}.
 *
 * Not in asyncore: after each pass it runs the map's due timers
 * (`callLater`/`callEvery`, lib/timers.ts), each pass waits no longer than
 * the next deadline, and without `count` it also goes on while timers are
 * pending (sleeping until the next one when the map has no channel). With
 * no timer pending, every pass and wait is asyncore's.
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
  const backend = backendOf(options, 'select');
  const pass = PASSES[backend];
  const timers = timersFor(map);
  const negativeWaitsForever = backend !== 'select';
  try {
    if (options.count === null || options.count === undefined) {
      while (map.size > 0 || timers.pending > 0) timedPass(pass, timeout, map, timers, negativeWaitsForever);
    } else {
      let count = options.count;
      while ((map.size > 0 || timers.pending > 0) && count > 0) {
        timedPass(pass, timeout, map, timers, negativeWaitsForever);
        count--;
      }
    }
  } finally {
    if (map.size === 0) releaseBackend(map); // no epoll fd outlives the channels it served
  }
}

/**
 * One pass of `loop()`, then the map's timers that are due. With no timer
 * pending the pass is asyncore's, with its own timeout; otherwise its wait
 * ends at the next deadline at the latest, and a map with no channel left
 * sleeps until then (lib/timers.ts).
 */
function timedPass(pass: Pass, timeout: number | null, map: SocketMap, timers: Timers, negativeWaitsForever: boolean): void {
  if (timers.pending === 0) {
    pass(timeout, map);
  } else {
    const wait = passTimeout(timeout, timers, negativeWaitsForever);
    if (map.size > 0) pass(wait, map);
    else sleep(wait);
  }
  timers.runDue();
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
