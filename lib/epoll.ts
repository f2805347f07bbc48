/**
 * The epoll backend (Linux): `loop({ backend: 'epoll' })`.
 *
 * Each map keeps one kernel interest set across passes. A pass still asks
 * every channel `readable()` and `writable()` (asyncore's rule, on the same
 * snapshot as `poll2`), but only tells the kernel about a channel whose
 * answer changed; then one `epoll_wait` returns just the ready fds, and each
 * is dispatched once through `readwrite()` with poll's flag values, in
 * kernel order. Asking stays O(channels) in JavaScript; what is saved is the
 * kernel's O(channels) scan and building the fd array every pass.
 *
 * The same set serves `loopAsync()`: Node's event loop watches its epoll fd,
 * which turns readable when any fd in it is ready.
 */
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { binding } from './native';
import { OSError } from './errors';
import { grownCapacity, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDHUP } from './select';
import { socketMap, type Dispatcher, type SocketMap } from './dispatcher';
import {
  askSnapshot,
  backendReleasers,
  extraBackends,
  extraPrepares,
  pollTimeoutMs,
  readwrite,
  release,
  runPass,
  type MirrorSource,
  type PassScratch,
  type PreparedPass,
  type PreparePass,
} from './loop';

const { ENOENT, EBADF, EEXIST, EPERM } = osConstants.errno;
const c = binding.constants;

/** True where the epoll backend exists (Linux). */
export const hasEpollBackend = typeof binding.epollCreate === 'function';

/** Most events one epoll_wait returns; more simply come next pass (the kernel rotates its ready list). */
export const MAX_EVENTS_PER_WAIT = 4096;

// On Linux EPOLLIN == POLLIN and so on; should a platform differ, translate bit by bit.
const FLAG_PAIRS: Array<[number, number]> = hasEpollBackend
  ? [
      [c.EPOLLIN, POLLIN],
      [c.EPOLLPRI, POLLPRI],
      [c.EPOLLOUT, POLLOUT],
      [c.EPOLLERR, POLLERR],
      [c.EPOLLHUP, POLLHUP],
      [c.EPOLLRDHUP, POLLRDHUP ?? 0],
    ]
  : [];
const SAME_FLAGS = FLAG_PAIRS.every(([e, p]) => e === p);

/** epoll events as the poll() flags `readwrite()` takes. */
function pollFlags(events: number): number {
  if (SAME_FLAGS) return events;
  let out = 0;
  for (const [e, p] of FLAG_PAIRS) if (events & e) out |= p;
  return out;
}

/** poll() interest as epoll events. */
function epollEvents(flags: number): number {
  if (SAME_FLAGS) return flags;
  let out = 0;
  for (const [e, p] of FLAG_PAIRS) if (flags & p) out |= e;
  return out;
}

// What the set knows about an fd number.
const NONE = 0; // nothing
const IDLE = 1; // a channel with no interest: not in the kernel set
const KERNEL = 2; // in the kernel set with regMask
const ALWAYS = 3; // epoll refuses it (EPERM: a regular file): ready for regMask every pass, as poll() says
const NVAL = 4; // not open (EBADF): POLLNVAL every pass, as poll() says; retried each pass

/** A mask no real interest has: set on a muted entry so the next pass registers it again. */
const MUTED = -1;

type Channel = Dispatcher | object;

/** Arrays epoll_wait fills; the set's own, or fresh ones for a wait nested in a handler. */
class Results {
  fds: Int32Array;
  events: Int32Array;
  tags: Int32Array;
  busy = false;
  constructor(size: number) {
    this.fds = new Int32Array(size);
    this.events = new Int32Array(size);
    this.tags = new Int32Array(size);
  }
}

/**
 * One kernel interest set and what was registered in it, by fd number. The
 * registration of an fd is redone when its answer changes, when the map
 * holds a different channel (or the channel a different socket) under that
 * number, or when the channel's socket no longer has that fd (closed, fd
 * reused). Each kernel registration carries a tag, so an event from one the
 * kernel kept behind our back (a dup of a closed fd) is recognised and the
 * set rebuilt.
 * @internal
 */
export class EpollInterest {
  /** The epoll fd and what watches it; apart, so that closing it on GC holds nothing else alive. */
  readonly fdBox: FdBox = { epfd: -1, attachment: null };
  private kind = new Uint8Array(64);
  private mask = new Int32Array(64);
  private tag = new Int32Array(64);
  private seen = new Uint32Array(64);
  private objs: Array<Channel | undefined> = new Array(64);
  private socks: unknown[] = new Array(64);
  private known = 0; // fds whose kind is not NONE
  private kernelCount = 0;
  private maxFd = -1;
  private nextTag = 0;
  private stamp = 0;
  private staleSeen = false;
  /** Whether the last `wait()` left out events of stale registrations (and rebuilt the set). */
  droppedStale = false;
  /** fds epoll refuses (ALWAYS) or that are not open (NVAL), in the order they came. */
  readonly always = new Set<number>();
  private results = new Results(64);

  /** Released (releaseBackend): the map gets a new set at its next pass; this one stays closed. */
  released = false;

  get epfd(): number {
    return this.fdBox.epfd;
  }

  private open(): number {
    const box = this.fdBox;
    if (box.epfd === -1) {
      box.epfd = binding.epollCreate!();
      binding.ownFd(box.epfd); // closed with the environment (a terminated worker) if not before
    }
    return box.epfd;
  }

  /** Start a round of `update()` calls; entries not updated in it are dropped by `sweep()`. */
  begin(): void {
    this.open();
    this.stamp = (this.stamp + 1) >>> 0 || 1;
  }

  /** How many fds the table knows; more than were updated in a round means some left the map. */
  get size(): number {
    return this.known;
  }

  get kernelSize(): number {
    return this.kernelCount;
  }

  private grow(fd: number): void {
    const cap = grownCapacity(this.kind.length, fd + 1);
    const kind = new Uint8Array(cap);
    const mask = new Int32Array(cap);
    const tag = new Int32Array(cap);
    const seen = new Uint32Array(cap);
    kind.set(this.kind);
    mask.set(this.mask);
    tag.set(this.tag);
    seen.set(this.seen);
    this.kind = kind;
    this.mask = mask;
    this.tag = tag;
    this.seen = seen;
    this.objs.length = cap;
    this.socks.length = cap;
  }

  /**
   * The interest of the channel `obj` (its socket `sock`) under `fd` is
   * `mask` (poll flags; 0 for none). Touches the kernel only on a change.
   */
  update(fd: number, obj: Channel, sock: unknown, mask: number): void {
    if (fd >= this.kind.length) this.grow(fd);
    this.seen[fd] = this.stamp;
    let kind = this.kind[fd];
    if (kind !== NONE && (this.objs[fd] !== obj || this.socks[fd] !== sock || !holdsFd(sock, fd))) {
      // Another channel (or socket) under this number: a registration of its own.
      this.forget(fd, kind);
      kind = NONE;
    }
    if (kind !== NONE && kind !== NVAL && this.mask[fd] === mask) return;
    if (kind === NONE) {
      this.known++;
      if (fd > this.maxFd) this.maxFd = fd;
      this.objs[fd] = obj;
      this.socks[fd] = sock;
    }
    this.mask[fd] = mask;
    if (mask === 0) {
      this.leaveKernel(fd, kind);
      this.kind[fd] = IDLE;
      return;
    }
    this.register(fd, kind, epollEvents(mask));
  }

  private register(fd: number, kind: number, events: number): void {
    const epfd = this.open();
    let err: number;
    if (kind === KERNEL) {
      err = binding.epollCtl!(epfd, c.EPOLL_CTL_MOD, fd, events, this.tag[fd]);
      if (err === 0) return;
      if (err !== ENOENT) return this.refused(fd, kind, err);
      // the kernel dropped it (the fd was closed under us): add it again
      this.kernelCount--;
      kind = NONE;
    }
    const tag = (this.nextTag = (this.nextTag + 1) | 0);
    err = binding.epollCtl!(epfd, c.EPOLL_CTL_ADD, fd, events, tag);
    // Already there with an old tag (a registration we had lost track of): take it over.
    if (err === EEXIST) err = binding.epollCtl!(epfd, c.EPOLL_CTL_MOD, fd, events, tag);
    if (err !== 0) return this.refused(fd, kind, err);
    this.leaveAlways(fd, kind);
    this.tag[fd] = tag;
    this.kind[fd] = KERNEL;
    this.kernelCount++;
  }

  /** epoll_ctl said no: a file epoll cannot watch, or an fd that is not open, is what poll() reports ready. */
  private refused(fd: number, kind: number, err: number): void {
    if (err !== EPERM && err !== EBADF) throw new OSError(err, 'epoll_ctl');
    if (kind === KERNEL) this.kernelCount--;
    this.kind[fd] = err === EPERM ? ALWAYS : NVAL;
    this.always.add(fd);
  }

  private leaveAlways(fd: number, kind: number): void {
    if (kind === ALWAYS || kind === NVAL) this.always.delete(fd);
  }

  private leaveKernel(fd: number, kind: number): void {
    this.leaveAlways(fd, kind);
    if (kind !== KERNEL) return;
    // ENOENT/EBADF: a closed fd has left the kernel set by itself.
    binding.epollCtl!(this.fdBox.epfd, c.EPOLL_CTL_DEL, fd, 0);
    this.kernelCount--;
  }

  private forget(fd: number, kind: number): void {
    // The channel's socket closed this fd (the usual way a channel leaves): the kernel dropped the
    // registration with the file, so an EPOLL_CTL_DEL would only fail (EBADF), or meet a newcomer
    // on the number. One syscall saved per connection; a dup's leftover registration is caught by its tag.
    if (kind === KERNEL && !holdsFd(this.socks[fd], fd)) this.kernelCount--;
    else this.leaveKernel(fd, kind);
    this.kind[fd] = NONE;
    this.objs[fd] = undefined;
    this.socks[fd] = undefined;
    this.known--;
  }

  /** Drop every fd not updated since `begin()`: its channel left the map. */
  sweep(): void {
    const { kind, seen, stamp } = this;
    for (let fd = 0; fd <= this.maxFd; fd++) if (kind[fd] !== NONE && seen[fd] !== stamp) this.forget(fd, kind[fd]);
  }

  /**
   * Take entry `fd` out of the kernel set until the next round (loopAsync:
   * an fd whose epoll wake-up the select backend would not report).
   */
  mute(fd: number): void {
    const kind = this.kind[fd];
    if (kind !== KERNEL) return;
    this.leaveKernel(fd, kind);
    this.kind[fd] = IDLE;
    this.mask[fd] = MUTED;
  }

  /** The flags poll() would report every pass for an fd epoll refused: what a regular file was asked for, or POLLNVAL. */
  alwaysFlags(fd: number): number {
    const kind = this.kind[fd];
    if (kind === ALWAYS) return this.mask[fd] & (POLLIN | POLLOUT);
    return kind === NVAL ? POLLNVAL : 0;
  }

  /** The results arrays for one wait; give them back with `giveBack()`. */
  takeResults(): Results {
    const r = this.results;
    if (r.busy) return new Results(Math.min(Math.max(this.kernelCount, 1), MAX_EVENTS_PER_WAIT));
    r.busy = true;
    return r;
  }

  giveBack(r: Results): void {
    r.busy = false;
  }

  /**
   * epoll_wait up to `ms` (-1: forever; on an empty set it just sleeps)
   * into `r`; returns how many events, stale registrations left out.
   */
  wait(r: Results, ms: number): number {
    if (this.released) return 0; // released by a handler in the middle of a pass
    const max = Math.min(Math.max(this.kernelCount, 1), MAX_EVENTS_PER_WAIT);
    if (r.fds.length < max) {
      const cap = grownCapacity(r.fds.length, max);
      r.fds = new Int32Array(cap);
      r.events = new Int32Array(cap);
      r.tags = new Int32Array(cap);
    }
    const n = binding.epollWait!(this.open(), r.fds, r.events, max, ms, r.tags);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const fd = r.fds[i];
      if (fd >= this.kind.length || this.kind[fd] !== KERNEL || this.tag[fd] !== r.tags[i]) {
        this.staleSeen = true; // a registration the kernel kept for a closed fd's dup
        continue;
      }
      if (k !== i) {
        r.fds[k] = fd;
        r.events[k] = r.events[i];
      }
      k++;
    }
    this.droppedStale = this.staleSeen;
    if (this.staleSeen) this.rebuild();
    return k;
  }

  /** A new kernel set with every registration we know, which drops any the kernel kept behind our back. */
  private rebuild(): void {
    this.staleSeen = false;
    closeBox(this.fdBox);
    const epfd = this.open();
    this.kernelCount = 0;
    for (let fd = 0; fd <= this.maxFd; fd++) {
      if (this.kind[fd] !== KERNEL) continue;
      const tag = (this.nextTag = (this.nextTag + 1) | 0);
      const err = binding.epollCtl!(epfd, c.EPOLL_CTL_ADD, fd, epollEvents(this.mask[fd]), tag);
      if (err !== 0) {
        this.refused(fd, NONE, err);
        continue;
      }
      this.tag[fd] = tag;
      this.kernelCount++;
    }
  }

  /** Close the epoll fd and forget every registration, for good. */
  close(): void {
    this.released = true;
    closeBox(this.fdBox);
    this.kind.fill(NONE);
    this.objs.fill(undefined);
    this.socks.fill(undefined);
    this.known = 0;
    this.kernelCount = 0;
    this.maxFd = -1;
    this.always.clear();
  }
}

/** The epoll fd and what is bound to it (loopAsync's waiter, closed before the fd is). @internal */
export interface FdBox {
  epfd: number;
  attachment: { close(): void } | null;
}

function closeBox(box: FdBox): void {
  const a = box.attachment;
  box.attachment = null;
  if (a !== null) a.close(); // first: it watches the fd
  const fd = box.epfd;
  box.epfd = -1;
  if (fd === -1) return;
  binding.disownFd(fd);
  binding.close(fd);
}

/** Whether `sock` (a channel's socket) still has `fd`; true when it cannot tell. */
function holdsFd(sock: unknown, fd: number): boolean {
  if (sock === null || sock === undefined) return true;
  const fileno = (sock as { fileno?: unknown }).fileno;
  return typeof fileno !== 'function' || fileno.call(sock) === fd;
}

// ---- one set per map ---------------------------------------------------------------------

const interests = new WeakMap<SocketMap, EpollInterest>();

// A map dropped without releaseBackend() still gets its epoll fd closed.
const unreleased = new FinalizationRegistry<FdBox>(closeBox);

/** The map's interest set, created on first use. @internal */
export function interestFor(map: SocketMap): EpollInterest {
  let set = interests.get(map);
  if (set === undefined) {
    set = new EpollInterest();
    interests.set(map, set);
    unreleased.register(map, set.fdBox, set);
  }
  return set;
}

/** Close the map's epoll fd, if it has one. */
function releaseInterest(map: SocketMap): void {
  const set = interests.get(map);
  if (set === undefined) return;
  interests.delete(map);
  unreleased.unregister(set);
  set.close();
}

/** The map's epoll fd, or -1 (for tests and diagnostics). @internal */
export function epollFdOf(map: SocketMap): number {
  return interests.get(map)?.epfd ?? -1;
}

// ---- the pass ---------------------------------------------------------------------------------

/** An epoll pass after its questions: the set holds the interest, `wait` fills `r`. */
class EpollPass implements PreparedPass {
  readonly mirror?: MirrorSource = undefined;
  private r: ReturnType<EpollInterest['takeResults']> | null = null;
  private ready = 0;
  private alwaysReady: number[] | null = null;
  constructor(
    readonly map: SocketMap,
    readonly set: EpollInterest,
    private readonly s: PassScratch,
    private readonly n: number,
    private readonly ms: number,
  ) {}

  /** Something epoll cannot watch is interested: it is ready at once, so the pass does not wait. */
  get waitMs(): number {
    return this.set.always.size > 0 ? 0 : this.ms;
  }

  checkTimeout(): void {
    // pollTimeoutMs() checked it when the pass began
  }

  wait(peek: boolean): number {
    if (this.r === null) this.r = this.set.takeResults();
    let ms = peek ? 0 : this.waitMs;
    const deadline = ms > 0 ? performance.now() + ms : 0;
    for (;;) {
      this.ready = this.set.wait(this.r, ms);
      // Woken only by registrations the kernel kept for closed fds: the pass has not had its wait yet.
      if (this.ready > 0 || !this.set.droppedStale || ms === 0) break;
      if (ms > 0) ms = Math.max(0, Math.ceil(deadline - performance.now()));
    }
    this.alwaysReady = this.set.always.size > 0 ? [...this.set.always] : null;
    return this.ready + (this.alwaysReady?.length ?? 0);
  }

  dispatch(): void {
    const { map } = this;
    const r = this.r!;
    for (let i = 0; i < this.ready; i++) {
      const obj = map.get(r.fds[i]); // closed earlier in this pass: skipped; a newcomer on the fd gets it, as in asyncore
      if (obj !== undefined) readwrite(obj, pollFlags(r.events[i]));
    }
    const always = this.alwaysReady;
    if (always === null) return;
    for (const fd of always) {
      const obj = map.get(fd);
      if (obj === undefined) continue;
      const flags = this.set.alwaysFlags(fd);
      if (flags !== 0) readwrite(obj, flags);
    }
  }

  finish(): void {
    if (this.r !== null) this.set.giveBack(this.r);
    this.r = null;
    release(this.s, this.n);
  }
}

/**
 * Ask every channel of the snapshot, as `poll2` does (readable: POLLIN|POLLPRI;
 * writable and not accepting: POLLOUT), and bring the kernel set up to date.
 * @internal
 */
export const prepareEpoll: PreparePass = (timeout, map) => {
  const ms = pollTimeoutMs(timeout);
  return map.size === 0 ? null : askSnapshot(map, ms, askEpoll);
};

function askEpoll(map: SocketMap, s: PassScratch, n: number, ms: number): PreparedPass {
  const set = interestFor(map);
  const { fds, objs } = s;
  set.begin();
  for (let i = 0; i < n; i++) {
    const obj = objs[i]!;
    let mask = 0;
    if (obj.readable()) mask |= POLLIN | POLLPRI;
    if (obj.writable() && !obj.accepting) mask |= POLLOUT; // accepting sockets should not be writable
    set.update(fds[i], obj, obj.socket, mask);
  }
  if (set.size > n) set.sweep(); // some fds left the map since the last pass
  return new EpollPass(map, set, s, n, ms);
}

/**
 * One epoll pass: asyncore's `poll2` with a kernel interest set kept across
 * passes. Same questions, same flags, same handler order per channel.
 */
export function epollPass(timeout: number | null = 0.0, map: SocketMap | null = socketMap): void {
  runPass(prepareEpoll, timeout, map ?? socketMap);
}

if (hasEpollBackend) {
  extraBackends.set('epoll', epollPass);
  extraPrepares.set('epoll', prepareEpoll);
  backendReleasers.push(releaseInterest);
}
