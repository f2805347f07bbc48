/**
 * The poll() backend: asyncore's `poll2()` pass waits here. Each wait is one
 * `poll(2)` over the pass's fds and events (one native call over reusable
 * Int32Arrays). Nothing is kept in the kernel between waits.
 *
 * Results are the kernel's revents as they are: POLLHUP, POLLERR and POLLNVAL
 * (an fd that is not open) included, in the order the pass gave the fds.
 */
import { binding } from '../native';
import { grownCapacity } from '../scratch';
import type { Dispatcher } from '../dispatcher';
import type { Poller } from './backend';

class PollPoller implements Poller {
  private fds = new Int32Array(64);
  private events = new Int32Array(64);
  private revents = new Int32Array(64);
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
    this.events[k] = events;
    this.watching = k + 1;
  }

  wait(ms: number): number {
    const { fds, revents } = this;
    const k = this.watching;
    let n = binding.pollInto(fds, this.events, revents, k, ms);
    // The ready fds, in the order the pass gave them (asyncore's poll2 dispatches in that order).
    let j = 0;
    for (let i = 0; i < k && n > 0; i++) {
      const flags = revents[i];
      if (flags === 0) continue;
      this.readyFds[j] = fds[i];
      this.readyEvents[j] = flags;
      j++;
      n--;
    }
    return j;
  }

  close(): void {
    this.watching = 0;
  }

  private grow(n: number): void {
    const cap = grownCapacity(this.fds.length, n);
    const fds = new Int32Array(cap);
    const events = new Int32Array(cap);
    fds.set(this.fds);
    events.set(this.events);
    this.fds = fds;
    this.events = events;
    this.revents = new Int32Array(cap);
    this.readyFds = new Int32Array(cap);
    this.readyEvents = new Int32Array(cap);
  }
}

/** A poll() poller. */
export function createPollPoller(): Poller {
  return new PollPoller();
}
