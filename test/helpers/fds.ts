/**
 * fd accounting for the epoll, loopAsync and scale tests (issue #5), through
 * /proc/self/fd (Linux; elsewhere the sets are empty and the checks vacuous).
 */
import * as fs from 'node:fs';
import { binding } from '../../lib/native';

/** True while `fd` is open in this process. */
export function isFdOpen(fd: number): boolean {
  try {
    binding.getBlocking(fd); // fcntl(F_GETFL): EBADF once closed
    return true;
  } catch {
    return false;
  }
}

/** The fds open now (the one readdir used is closed by then and left out). */
export function openFds(): Set<number> {
  if (!fs.existsSync('/proc/self/fd')) return new Set();
  return new Set(fs.readdirSync('/proc/self/fd').map(Number).filter(isFdOpen));
}

/** What an fd refers to ('socket:[…]', 'anon_inode:[eventpoll]' …), or null when closed. */
export function fdTarget(fd: number): string | null {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** A dup of `fd` numbered FD_SETSIZE or more (the caller closes it), or null when the fd limit is too low. */
export function highFdDup(fd: number): number | null {
  const spare: number[] = [];
  try {
    for (;;) {
      let n: number;
      try {
        n = binding.dup(fd);
      } catch {
        return null;
      }
      if (n >= binding.FD_SETSIZE) return n;
      spare.push(n);
    }
  } finally {
    for (const n of spare) binding.close(n);
  }
}
