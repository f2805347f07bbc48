/**
 * Readiness calls, shaped like Python's `select` module: `select()`,
 * `poll()` objects and (Linux) `epoll()` objects, with the platform's
 * POLL* and EPOLL* constants. Each wait is one native call over reusable
 * typed arrays; a signal during a wait (EINTR) is retried with the time left.
 */
import { constants as osConstants } from 'node:os';
import { binding } from './native';
import { OSError, throwIfErrno } from './errors';
import { IntArrays } from './scratch';

const c = binding.constants;
const { ENOENT, EBADF } = osConstants.errno;

/** There is data to read. Python: `select.POLLIN`. */
export const POLLIN: number = c.POLLIN;
/** There is urgent (out-of-band) data to read. Python: `select.POLLPRI`. */
export const POLLPRI: number = c.POLLPRI;
/** Writing will not block. Python: `select.POLLOUT`. */
export const POLLOUT: number = c.POLLOUT;
/** Error condition (output only). Python: `select.POLLERR`. */
export const POLLERR: number = c.POLLERR;
/** Hung up (output only). Python: `select.POLLHUP`. */
export const POLLHUP: number = c.POLLHUP;
/** Invalid request: the fd is not open (output only). Python: `select.POLLNVAL`. */
export const POLLNVAL: number = c.POLLNVAL;
/** The peer shut down its writing half. Linux only: `undefined` on macOS, where Python lacks it too. Python: `select.POLLRDHUP`. */
export const POLLRDHUP: number = c.POLLRDHUP;
/**
 * epoll: readable. Python: `select.EPOLLIN`.
 *
 * The `EPOLL*` constants are typed `number` so that they combine under `strict`
 * (`select.EPOLLIN | select.EPOLLOUT`); they exist on Linux only and are
 * `undefined` on macOS, as `epoll()` is (test {@link hasEpoll}).
 */
export const EPOLLIN: number = c.EPOLLIN;
/** epoll: urgent data to read (Linux only; `undefined` on macOS). Python: `select.EPOLLPRI`. */
export const EPOLLPRI: number = c.EPOLLPRI;
/** epoll: writable (Linux only; `undefined` on macOS). Python: `select.EPOLLOUT`. */
export const EPOLLOUT: number = c.EPOLLOUT;
/** epoll: error condition, always reported (Linux only; `undefined` on macOS). Python: `select.EPOLLERR`. */
export const EPOLLERR: number = c.EPOLLERR;
/** epoll: hung up, always reported (Linux only; `undefined` on macOS). Python: `select.EPOLLHUP`. */
export const EPOLLHUP: number = c.EPOLLHUP;
/** epoll: the peer shut down its writing half (Linux only; `undefined` on macOS). Python: `select.EPOLLRDHUP`. */
export const EPOLLRDHUP: number = c.EPOLLRDHUP;
/** epoll: edge-triggered registration (Linux only; `undefined` on macOS). Python: `select.EPOLLET`. */
export const EPOLLET: number = c.EPOLLET;
/** epoll: report one event, then disable the fd until `modify()` (Linux only; `undefined` on macOS). Python: `select.EPOLLONESHOT`. */
export const EPOLLONESHOT: number = c.EPOLLONESHOT;
/**
 * select()'s limit: fds must be below this (1024 on Linux). The select
 * backend of `loop()` (asyncore's default) inherits it; use
 * `loop({ backend: 'poll' })` or `'epoll'` for more connections.
 * Python: the C constant behind `select.select()`'s "filedescriptor out of range".
 */
export const FD_SETSIZE: number = binding.FD_SETSIZE;
/** True where `epoll()` exists (Linux). Python: `hasattr(select, 'epoll')`. */
export const hasEpoll: boolean = typeof binding.epollCreate === 'function';

/**
 * Anything with a file descriptor: a number or an object with `fileno()`
 * (a `socket.Socket`, a `FileWrapper`, …). Python: the "file-like objects" `select` accepts.
 */
export type FileLike = number | {
  /** The file descriptor. */
  fileno(): number
};

/**
 * The number a file-like names. Only its type is checked here (Python's
 * PyObject_AsFileDescriptor); whether the number is a usable fd is the
 * addon's question, asked once, in the call it is given to.
 */
function fdOf(f: FileLike): number {
  if (typeof f === 'number') return f;
  if (f !== null && typeof f === 'object' && typeof (f as { fileno?: unknown }).fileno === 'function') {
    const fd: unknown = f.fileno();
    if (typeof fd !== 'number') throw new TypeError(`fileno() returned a non-integer: ${String(fd)}`);
    return fd;
  }
  throw new TypeError('argument must be an int, or have a fileno() method');
}

const SEL_R = 1;
const SEL_W = 2;
const SEL_X = 4;
// The fds go to the addon as a Float64Array, which keeps every number as the
// caller gave it (an Int32Array would turn 1.5 into 1 and 2**32 + 4 into 4
// before the addon could refuse them); the addon checks each one.
let selectFds = new Float64Array(64);
let selectMasks = new Int32Array(64);

/**
 * `select.select(r, w, x, timeout)`: which fds are ready. `timeout` in seconds
 * (`null`/absent blocks). Results keep the input order. A negative fd, or one
 * of FD_SETSIZE or more, throws a RangeError that suggests poll/epoll.
 *
 * Python: `select.select(rlist, wlist, xlist, timeout=None)`.
 *
 * @example
 * const [readable] = select.select([sock], [], [], 0.5); // wait up to half a second
 */
export function select<T extends FileLike>(r: T[], w: T[], x: T[], timeout: number | null = null): [T[], T[], T[]] {
  if (!Array.isArray(r) || !Array.isArray(w) || !Array.isArray(x)) throw new TypeError('select() arguments 1-3 must be arrays');
  // One slot per distinct fd, with the union of the lists it is in.
  const slot = new Map<number, number>();
  const fds: number[] = [];
  const masks: number[] = [];
  const add = (list: T[], bit: number): void => {
    for (const f of list) {
      const fd = fdOf(f);
      let i = slot.get(fd);
      if (i === undefined) {
        i = fds.length;
        slot.set(fd, i);
        fds.push(fd);
        masks.push(0);
      }
      masks[i] |= bit;
    }
  };
  add(r, SEL_R);
  add(w, SEL_W);
  add(x, SEL_X);
  if (selectFds.length < fds.length) {
    selectFds = new Float64Array(fds.length);
    selectMasks = new Int32Array(fds.length);
  }
  const out = selectMasks;
  selectFds.set(fds);
  out.set(masks);
  binding.selectInto(selectFds, out, fds.length, timeout); // fds and timeout checked there, by select.select's rules
  const pick = (list: T[], bit: number): T[] => list.filter((f) => (out[slot.get(fdOf(f))!] & bit) !== 0);
  return [pick(r, SEL_R), pick(w, SEL_W), pick(x, SEL_X)];
}

/**
 * A `poll()` object (Python's `select.poll`). Timeouts are in milliseconds,
 * as Python's: the one place the unit is not seconds.
 */
export class Poll {
  private readonly masks = new Map<number, number>();
  private readonly arrays = new IntArrays();

  /** Watch `fd` for `eventmask` (default POLLIN|POLLPRI|POLLOUT); registering again modifies. Python: `poll.register(fd, eventmask)`. */
  register(fd: FileLike, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const n = fdOf(fd);
    checkFd(n);
    this.masks.set(n, eventmask & 0xffff);
  }

  /** Change the mask of a registered fd; OSError ENOENT if it is not registered. Python: `poll.modify(fd, eventmask)`. */
  modify(fd: FileLike, eventmask: number): void {
    const n = fdOf(fd);
    if (!this.masks.has(n)) throw new OSError(ENOENT, 'poll.modify');
    this.masks.set(n, eventmask & 0xffff);
  }

  /** Stop watching `fd`; throws a RangeError (Python's KeyError) if it is not registered. Python: `poll.unregister(fd)`. */
  unregister(fd: FileLike): void {
    const n = fdOf(fd);
    if (!this.masks.delete(n)) throw new RangeError(`fd ${n} is not registered`);
  }

  /**
   * Wait up to `timeout` ms (`null`/absent/negative: forever); `[fd, revents]`
   * pairs in registration order. Python: `poll.poll(timeout)`.
   *
   * @example
   * for (const [fd, revents] of poller.poll(1000)) if (revents & select.POLLIN) console.log(fd, 'readable');
   */
  poll(timeout: number | null = null): Array<[number, number]> {
    const n = this.masks.size;
    const a = this.arrays;
    a.ensure(n);
    let i = 0;
    for (const [fd, mask] of this.masks) {
      a.a[i] = fd;
      a.b[i] = mask;
      i++;
    }
    const ready = binding.pollInto(a.a, a.b, a.c, n, timeout); // checked and rounded there, by poll.poll's rule
    const out: Array<[number, number]> = [];
    for (let j = 0; j < n && out.length < ready; j++) if (a.c[j] !== 0) out.push([a.a[j], a.c[j]]);
    return out;
  }
}

function checkFd(fd: number): void {
  if (!Number.isInteger(fd)) throw new TypeError(`fd must be an integer, got ${fd}`);
  if (fd < 0 || fd > 0x7fffffff) throw new RangeError(`fd must be between 0 and 2147483647, got ${fd}`);
}

/**
 * A new `poll()` object. Python: `select.poll()`.
 *
 * @example
 * const poller = select.poll();
 * poller.register(sock, select.POLLIN);
 */
export function poll(): Poll {
  return new Poll();
}

/** The most events one `Epoll.poll()` returns, whatever `maxevents` asks for. */
const EPOLL_MAX_EVENTS_PER_CALL = 65536;

/**
 * An `epoll` object (Linux; Python's `select.epoll`). Timeouts are in seconds.
 * Level-triggered unless `EPOLLET` is given. Create one with {@link epoll}.
 */
export class Epoll {
  private epfd: number;
  private arrays = new IntArrays();

  constructor() {
    if (!binding.epollCreate) throw new Error(`epoll is not supported on this platform (${process.platform}); use select.poll() or select.select()`);
    this.epfd = binding.epollCreate();
  }

  /** True once `close()` ran. Python: `epoll.closed`. */
  get closed(): boolean {
    return this.epfd === -1;
  }

  /** The epoll fd itself; OSError EBADF once closed. Python: `epoll.fileno()`. */
  fileno(): number {
    if (this.epfd === -1) throw new OSError(EBADF, 'epoll.fileno');
    return this.epfd;
  }

  private ctl(op: number, fd: FileLike, mask: number, name: string): void {
    const n = fdOf(fd);
    throwIfErrno(binding.epollCtl!(this.fileno(), op, n, mask), name);
  }

  /** Watch `fd` (default EPOLLIN|EPOLLPRI|EPOLLOUT); OSError EEXIST if it already is. Python: `epoll.register(fd, eventmask)`. */
  register(fd: FileLike, eventmask: number = EPOLLIN! | EPOLLPRI! | EPOLLOUT!): void {
    this.ctl(c.EPOLL_CTL_ADD, fd, eventmask, 'epoll.register');
  }

  /** Change the events of a registered fd; OSError ENOENT if it is not registered. Python: `epoll.modify(fd, eventmask)`. */
  modify(fd: FileLike, eventmask: number): void {
    this.ctl(c.EPOLL_CTL_MOD, fd, eventmask, 'epoll.modify');
  }

  /** Stop watching `fd`; OSError ENOENT if it is not registered. Python: `epoll.unregister(fd)`. */
  unregister(fd: FileLike): void {
    this.ctl(c.EPOLL_CTL_DEL, fd, 0, 'epoll.unregister');
  }

  /**
   * Wait up to `timeout` seconds (`null`/absent/negative: forever) for at most
   * `maxevents` events: `[fd, events]` pairs. Python: `epoll.poll(timeout=None, maxevents=-1)`.
   *
   * @example
   * const events = ep.poll(1.5); // seconds, unlike Poll.poll()
   */
  poll(timeout: number | null = null, maxevents = -1): Array<[number, number]> {
    const asked = maxevents === -1 || maxevents === undefined ? FD_SETSIZE - 1 : maxevents;
    if (!Number.isInteger(asked) || asked < 1) throw new RangeError(`maxevents must be greater than 0, got ${maxevents}`);
    // epoll_wait() may return fewer events than asked; the rest stay queued
    // in the kernel for the next call. Capping the count keeps the result
    // arrays small (maxevents = 1e9 must not allocate 12 GB).
    const max = Math.min(asked, EPOLL_MAX_EVENTS_PER_CALL);
    const a = this.arrays;
    a.ensure(max);
    const n = binding.epollWaitSeconds!(this.fileno(), a.a, a.b, max, timeout); // checked and converted there, by epoll.poll's rule
    const out: Array<[number, number]> = new Array(n);
    for (let i = 0; i < n; i++) out[i] = [a.a[i], a.b[i] >>> 0];
    return out;
  }

  /** Close the epoll fd; safe to call twice. Python: `epoll.close()`. */
  close(): void {
    const fd = this.epfd;
    if (fd === -1) return;
    this.epfd = -1;
    binding.close(fd);
  }
}

/**
 * A new `epoll()` object; throws on platforms without epoll. Python: `select.epoll()`.
 *
 * @example
 * const ep = select.epoll();
 * ep.register(sock, select.EPOLLIN!);
 */
export function epoll(): Epoll {
  return new Epoll();
}

