/**
 * The epoll backend (Linux): `loop({ backend: 'epoll' })`, and loopAsync's
 * default. One kernel interest set is kept across passes; a pass still asks
 * every channel (asyncore's rule) but only tells the kernel about an fd whose
 * answer changed, and one `epoll_wait` returns just the ready fds.
 *
 * ## The invalidation invariant
 *
 * The table below (`kind`/`mask`/`tag`/`objs`/`socks`, by fd number) says
 * what the kernel set holds, and it may only ever be wrong in a way the next
 * `watch()` or `wait()` detects and mends:
 *
 * 1. An entry is valid for the same channel object, the same socket object,
 *    and only while that socket still holds the fd (`socket.fileno() === fd`).
 *    `watch()` checks all three every pass; on a mismatch the old entry is
 *    forgotten and the fd registered anew. So a channel closed between passes
 *    and its number reused by another channel (or the same channel's new
 *    socket) is a new registration, never the old one's.
 * 2. A channel that closed its socket left the kernel set with the file
 *    (close(2) drops the registration of a file's last fd), so forgetting it
 *    costs no `EPOLL_CTL_DEL` (which would fail with EBADF or hit a newcomer
 *    on the number). One syscall saved per connection; libuv's
 *    `uv__platform_invalidate_fd` has the same job.
 * 3. Where that is not so (the file stays open through a dup, so the kernel
 *    keeps the registration), every registration carries a tag in its event
 *    data: an event whose tag is not the entry's is a leftover; the wait drops
 *    it and rebuilds the kernel set from the table (`pollFd` then changes).
 * 4. An fd the channel's socket no longer holds, or that epoll refuses as not
 *    open (EBADF) or as our own epoll fd (EINVAL: the number was reused by the
 *    set itself), is reported as POLLNVAL every pass, as poll() reports it,
 *    so `readwrite()` closes the channel. A regular file (EPERM) is reported
 *    ready for what was asked, every pass, as poll() says.
 * 5. An entry not watched in a pass (the channel left the map, or wants
 *    nothing now) is dropped at that pass's wait: `EPOLL_CTL_DEL` if its
 *    socket is still open, nothing if it closed (2).
 *
 * test/epoll-backend.test.ts covers each case (reuse by another channel, by
 * the same channel, a dup kept open, a socket closed behind its channel, the
 * new epoll fd taking the closed number, regular files).
 */
import { constants as osConstants } from 'node:os';
// The global `performance` is an accessor (a getter call per use): the module's binding is not.
import { performance } from 'node:perf_hooks';
import { binding } from '../native';
import { throwIfErrno } from '../errors';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDHUP } from '../select';
import { grownCapacity } from '../scratch';
import type { Dispatcher } from '../dispatcher';
import type { Poller, PollerOptions } from './backend';

const { ENOENT, EBADF, EEXIST, EPERM, EINVAL } = osConstants.errno;
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

/** epoll events as poll() flags. */
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

// What the table says about an fd number.
const NONE = 0; // nothing
const KERNEL = 1; // in the kernel set with mask[fd], tag[fd]
const ALWAYS = 2; // epoll refuses it (EPERM: a regular file): ready for mask[fd] every pass, as poll() says
const NVAL = 3; // not open, or not the channel's any more: POLLNVAL every pass, as poll() says

/** Whether `sock` (a channel's socket) still holds `fd`; true when it cannot tell. */
function holdsFd(sock: unknown, fd: number): boolean {
  if (sock === null || sock === undefined) return true;
  const fileno = (sock as { fileno?: unknown }).fileno;
  return typeof fileno !== 'function' || fileno.call(sock) === fd;
}

/** The epoll fd, apart from the poller so that closing it when the poller is collected holds nothing else alive. */
interface FdBox {
  fd: number;
}

function closeBox(box: FdBox): void {
  const fd = box.fd;
  box.fd = -1;
  if (fd === -1) return;
  binding.disownFd(fd);
  binding.close(fd);
}

// A poller dropped without close() (its map was collected) still gets its epoll fd closed.
const unclosed = new FinalizationRegistry<FdBox>(closeBox);

class EpollPoller implements Poller {
  private readonly box: FdBox = { fd: -1 };
  private readonly extraEvents: number;
  private kind = new Uint8Array(64);
  private mask = new Int32Array(64);
  private tag = new Int32Array(64);
  private seen = new Uint32Array(64);
  private objs: Array<Dispatcher | undefined> = new Array(64);
  private socks: unknown[] = new Array(64);
  private known = 0; // fds whose kind is not NONE
  private kernelCount = 0;
  private maxFd = -1;
  private nextTag = 0;
  private stamp = 0;
  /** fds reported ready every pass without the kernel (ALWAYS, NVAL), in the order they came. */
  private readonly always = new Set<number>();
  private tags = new Int32Array(64);
  readyFds = new Int32Array(64);
  readyEvents = new Int32Array(64);
  watching = 0;

  constructor(options?: PollerOptions) {
    this.extraEvents = options?.edgeTriggered ? c.EPOLLET : 0;
    unclosed.register(this, this.box, this);
  }

  get pollFd(): number {
    return this.open();
  }

  /** The epoll fd, or -1 when none is open (nothing is opened to answer). */
  get openFd(): number {
    return this.box.fd;
  }

  private open(): number {
    const box = this.box;
    if (box.fd === -1) {
      box.fd = binding.epollCreate!();
      binding.ownFd(box.fd); // closed with the environment (a terminated worker) if not before
    }
    return box.fd;
  }

  begin(): void {
    this.stamp = (this.stamp + 1) >>> 0 || 1;
    this.watching = 0;
  }

  watch(fd: number, obj: Dispatcher, events: number): void {
    if (fd >= this.kind.length) this.grow(fd);
    this.seen[fd] = this.stamp;
    this.watching++;
    const sock = obj.socket;
    let kind = this.kind[fd];
    if (kind !== NONE && (this.objs[fd] !== obj || this.socks[fd] !== sock || !holdsFd(sock, fd))) {
      this.forget(fd, kind); // another channel (or socket) under this number (invariant 1)
      kind = NONE;
    }
    if (kind === KERNEL && this.mask[fd] === events) return; // unchanged: no syscall
    if (kind === ALWAYS && this.mask[fd] === events) return;
    if (kind === NONE) {
      this.known++;
      if (fd > this.maxFd) this.maxFd = fd;
      this.objs[fd] = obj;
      this.socks[fd] = sock;
    }
    this.mask[fd] = events;
    if (!holdsFd(sock, fd)) return this.refused(fd, kind, -EBADF); // closed behind its channel (invariant 4)
    this.register(fd, kind);
  }

  private register(fd: number, kind: number): void {
    const epfd = this.open();
    const events = epollEvents(this.mask[fd]) | this.extraEvents;
    // epollCtl returns 0 or -errno (native/binding.h): its failures here are answers.
    let rc: number;
    if (kind === KERNEL) {
      rc = binding.epollCtl!(epfd, c.EPOLL_CTL_MOD, fd, events, this.tag[fd]);
      if (rc === 0) return;
      if (rc !== -ENOENT) return this.refused(fd, kind, rc);
      // the kernel dropped it (the fd was closed under us): add it again
      this.kernelCount--;
      kind = NONE;
    }
    const tag = (this.nextTag = (this.nextTag + 1) | 0);
    rc = binding.epollCtl!(epfd, c.EPOLL_CTL_ADD, fd, events, tag);
    // Already there with an old tag (a registration we had lost track of): take it over.
    if (rc === -EEXIST) rc = binding.epollCtl!(epfd, c.EPOLL_CTL_MOD, fd, events, tag);
    if (rc !== 0) return this.refused(fd, kind, rc);
    if (kind === ALWAYS || kind === NVAL) this.always.delete(fd);
    this.tag[fd] = tag;
    this.kind[fd] = KERNEL;
    this.kernelCount++;
  }

  /** epoll_ctl said no (`rc` is -errno; invariant 4): a file epoll cannot watch, or an fd that is not open, is what poll() reports ready. */
  private refused(fd: number, kind: number, rc: number): void {
    const notOpen = rc === -EBADF || (rc === -EINVAL && fd === this.box.fd);
    if (rc !== -EPERM && !notOpen) throwIfErrno(rc, 'epoll_ctl');
    if (kind === KERNEL) this.kernelCount--;
    this.kind[fd] = rc === -EPERM ? ALWAYS : NVAL;
    this.always.add(fd);
  }

  /** Drop the entry for `fd` (invariants 2 and 5). */
  private forget(fd: number, kind: number): void {
    if (kind === KERNEL) {
      // A socket that closed this fd took the registration with it: no EPOLL_CTL_DEL (invariant 2).
      if (holdsFd(this.socks[fd], fd)) binding.epollCtl!(this.box.fd, c.EPOLL_CTL_DEL, fd, 0);
      this.kernelCount--;
    } else if (kind === ALWAYS || kind === NVAL) {
      this.always.delete(fd);
    }
    this.kind[fd] = NONE;
    this.objs[fd] = undefined;
    this.socks[fd] = undefined;
    this.known--;
  }

  /** Drop every entry not watched since `begin()` (invariant 5). */
  private sweep(): void {
    const { kind, seen, stamp } = this;
    for (let fd = 0; fd <= this.maxFd; fd++) if (kind[fd] !== NONE && seen[fd] !== stamp) this.forget(fd, kind[fd]);
  }

  wait(ms: number): number {
    if (this.known > this.watching) this.sweep();
    if (this.always.size > 0) ms = 0; // something is ready without the kernel: do not wait
    const deadline = ms > 0 ? performance.now() + ms : 0;
    let n: number;
    for (;;) {
      n = this.kernelWait(ms);
      if (n >= 0) break;
      // Woken only by leftovers of closed dups (invariant 3): the set was rebuilt; wait for the time left.
      if (ms > 0) ms = Math.max(0, Math.ceil(deadline - performance.now()));
      if (ms === 0) {
        n = 0;
        break;
      }
    }
    for (const fd of this.always) {
      this.ensureResults(n + 1);
      this.readyFds[n] = fd;
      this.readyEvents[n] = this.kind[fd] === ALWAYS ? this.mask[fd] & (POLLIN | POLLOUT) : POLLNVAL;
      n++;
    }
    return n;
  }

  /** One epoll_wait: the number of events, leftovers dropped; -1 if there were only leftovers (the set was rebuilt). */
  private kernelWait(ms: number): number {
    const max = Math.min(Math.max(this.kernelCount, 1), MAX_EVENTS_PER_WAIT);
    this.ensureResults(max + this.always.size);
    const { readyFds: fds, readyEvents: events, tags } = this;
    const got = binding.epollWait!(this.open(), fds, events, max, ms, tags);
    let k = 0;
    for (let i = 0; i < got; i++) {
      const fd = fds[i];
      if (fd >= this.kind.length || this.kind[fd] !== KERNEL || this.tag[fd] !== tags[i]) continue; // a leftover (invariant 3)
      fds[k] = fd;
      events[k] = pollFlags(events[i]);
      k++;
    }
    if (k === got) return k;
    this.rebuild();
    return k > 0 ? k : -1;
  }

  private ensureResults(n: number): void {
    if (this.readyFds.length >= n) return;
    const cap = grownCapacity(this.readyFds.length, n);
    const fds = new Int32Array(cap);
    const events = new Int32Array(cap);
    fds.set(this.readyFds);
    events.set(this.readyEvents);
    this.readyFds = fds;
    this.readyEvents = events;
    this.tags = new Int32Array(cap);
  }

  /** A new kernel set with every registration the table holds, which drops any the kernel kept behind our back. */
  private rebuild(): void {
    closeBox(this.box);
    this.kernelCount = 0;
    for (let fd = 0; fd <= this.maxFd; fd++) if (this.kind[fd] === KERNEL) this.register(fd, NONE);
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

  close(): void {
    unclosed.unregister(this);
    closeBox(this.box);
    this.kind.fill(NONE);
    this.objs.fill(undefined);
    this.socks.fill(undefined);
    this.known = 0;
    this.kernelCount = 0;
    this.maxFd = -1;
    this.always.clear();
    this.watching = 0;
  }
}

/** An epoll poller (Linux only: check {@link hasEpollBackend}). */
export function createEpollPoller(options?: PollerOptions): Poller {
  return new EpollPoller(options);
}

/** The poller's epoll fd if it has one open, else -1, without opening one (tests and diagnostics). @internal */
export function epollFdIfOpen(p: Poller): number {
  return p instanceof EpollPoller ? p.openFd : -1;
}
