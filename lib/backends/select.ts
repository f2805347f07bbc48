/**
 * The select() backend: asyncore's `poll()` pass waits here. Each wait is one
 * `select(2)` over the pass's fds (one native call; the three sets are built
 * in C++ from one mask per fd). Nothing is kept in the kernel between waits.
 *
 * Interest and results are poll()'s flags: POLLIN is the read set, POLLOUT
 * the write set, POLLPRI the exceptional set. An fd of FD_SETSIZE or more is
 * a RangeError from the addon that names the poll and epoll backends.
 */
import { binding } from '../native';
import { POLLIN, POLLOUT, POLLPRI } from '../select';
import { grownCapacity } from '../scratch';
import type { Dispatcher } from '../dispatcher';
import type { Poller } from './backend';

// The addon's per-fd mask for select(): which of the three sets the fd is in.
const SEL_R = 1;
const SEL_W = 2;
const SEL_X = 4;

class SelectPoller implements Poller {
  private fds = new Int32Array(64);
  private interest = new Int32Array(64); // SEL_* masks of the pass
  private masks = new Int32Array(64); // what selectInto() is given and fills in
  readyFds = new Int32Array(64);
  readyEvents = new Int32Array(64);
  watching = 0;
  readonly pollFd = -1;

  begin(): void {
    this.watching = 0;
  }

  watch(fd: number, _obj: Dispatcher, events: number): void {
    const k = this.watching;
    if (k === this.fds.length) this.grow(k + 1);
    this.fds[k] = fd;
    this.interest[k] = (events & POLLIN ? SEL_R : 0) | (events & POLLOUT ? SEL_W : 0) | (events & POLLPRI ? SEL_X : 0);
    this.watching = k + 1;
  }

  wait(ms: number): number {
    const { fds, masks } = this;
    const k = this.watching;
    masks.set(this.interest.subarray(0, k)); // the interest stays for another wait
    const n = binding.selectInto(fds, masks, k, ms < 0 ? null : ms / 1000);
    if (n === 0) return 0;
    // The ready fds, in the order the pass gave them (asyncore dispatches each set in that order).
    let j = 0;
    for (let i = 0; i < k; i++) {
      const m = masks[i];
      if (m === 0) continue;
      this.readyFds[j] = fds[i];
      this.readyEvents[j] = (m & SEL_R ? POLLIN : 0) | (m & SEL_W ? POLLOUT : 0) | (m & SEL_X ? POLLPRI : 0);
      j++;
    }
    return j;
  }

  close(): void {
    this.watching = 0;
  }

  private grow(n: number): void {
    const cap = grownCapacity(this.fds.length, n);
    const fds = new Int32Array(cap);
    const interest = new Int32Array(cap);
    fds.set(this.fds);
    interest.set(this.interest);
    this.fds = fds;
    this.interest = interest;
    this.masks = new Int32Array(cap);
    this.readyFds = new Int32Array(cap);
    this.readyEvents = new Int32Array(cap);
  }
}

/** A select() poller. */
export function createSelectPoller(): Poller {
  return new SelectPoller();
}
