/**
 * The backend contract: what each readiness mechanism (select, poll, epoll)
 * gives the passes of `loop()` (lib/loop.ts) and `loopAsync()`
 * (lib/loop-async.ts). It is declared here once, as libuv's
 * `src/unix/internal.h` declares `uv__io_poll()` for every backend file; each
 * backend fulfils it in its own file, and the passes pick one from the static
 * table in `./index.ts`, never by naming it.
 *
 * A pass uses a poller in three steps: `begin()`, then `watch()` once for
 * every channel that wants something (in map order), then `wait()`; after
 * that `readyFds`/`readyEvents` hold what is ready. Interest and results use
 * poll()'s flags, whatever the backend: POLLIN (read), POLLOUT (write) and
 * POLLPRI (exceptional condition) are asked for; results carry those, plus
 * POLLHUP, POLLERR and POLLNVAL where the backend reports them (select does
 * not: its three sets come back as POLLIN, POLLOUT and POLLPRI).
 *
 * Invalidation: a poller keeps no interest across passes that a pass can see.
 * `begin()` forgets the previous pass's interest, so a channel closed between
 * passes (its fd closed, perhaps reused) is simply gone at the next pass. A
 * backend that keeps kernel state across passes (epoll) states at the top of
 * its file how it keeps that state true to the fds it was given.
 */
import type { Dispatcher } from '../dispatcher';

/** The readiness call a pass waits in: `'select'` (asyncore's default), `'poll'` (`use_poll=True`) or `'epoll'` (Linux; not in asyncore). */
export type Backend = 'select' | 'poll' | 'epoll';

/** One backend's state for one map (or one loopAsync run): the interest of the current pass and what its wait found. */
export interface Poller {
  /** Start a pass: the interest the previous pass declared is forgotten. */
  begin(): void;
  /**
   * The pass wants `events` (POLLIN, POLLOUT, POLLPRI; never 0) from `fd`,
   * held by the channel `obj`. Called at most once per fd between `begin()` and `wait()`.
   */
  watch(fd: number, obj: Dispatcher, events: number): void;
  /** How many fds the current pass watches (0: nothing to wait for). */
  readonly watching: number;
  /**
   * Wait up to `ms` milliseconds (-1: no limit; 0: only look; fractions are
   * kept where the kernel call takes them) until something watched is ready.
   * Returns how many fds are; their numbers and events are then in
   * `readyFds[0..n)` and `readyEvents[0..n)`, in the backend's order.
   */
  wait(ms: number): number;
  readonly readyFds: Int32Array;
  readonly readyEvents: Int32Array;
  /**
   * An fd that polls readable while something watched may be ready, for
   * Node's event loop to watch (`loopAsync`); -1 where the backend has none
   * (select, poll). It may change after a `wait()`.
   */
  readonly pollFd: number;
  /** Give back what the poller holds in the kernel; it is not used again. */
  close(): void;
}

/** How a poller is made; `edgeTriggered` asks for a watch-only set that reports each change of readiness once (epoll only). */
export interface PollerOptions {
  edgeTriggered?: boolean | undefined;
}

export type PollerFactory = (options?: PollerOptions) => Poller;

