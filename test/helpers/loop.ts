/**
 * Shared helpers for the asyncore tests: bounded loop runners (CPython's
 * loop_waiting_for_flag), temporary AF_UNIX paths, stdout/stderr capture,
 * fd accounting through /proc/self/fd, and a high (≥ FD_SETSIZE) fd.
 *
 * Everything here is bounded: no helper waits forever, and every limit is
 * generous, because the machine is shared and may be slow.
 */
import './native';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loop, socketMap, type SocketMap } from '../../lib';
import { binding } from '../../lib/native';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Block the thread for `ms` milliseconds (the tests are synchronous, as asyncore is). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

export interface WaitOptions {
  usePoll: boolean;
  map?: SocketMap;
  /** Passes to try before failing (CPython: 100). */
  tries?: number;
  /** Pause between passes, in ms (CPython: 50). */
  pauseMs?: number;
}

/**
 * CPython's `loop_waiting_for_flag`: run `loop({timeout: 0.01, count: 1})`
 * until `instance.flag` is set, pausing between passes; throw if the flag is
 * never set or the map runs empty first. Bounded by `tries × (pause + 10 ms)`.
 */
export function loopWaitingForFlag(instance: { flag: boolean }, { usePoll, map = socketMap, tries = 400, pauseMs = 10 }: WaitOptions): void {
  let count = tries;
  while (map.size > 0 && count > 0) {
    loop({ timeout: 0.01, count: 1, usePoll, map });
    if (instance.flag) return;
    count--;
    sleepSync(pauseMs);
  }
  throw new Error(`flag not set (${map.size === 0 ? 'the map ran empty' : `after ${tries} passes`})`);
}

/** Run single passes until `cond()` is true; false if it never was within `tries` passes. */
export function loopUntil(cond: () => boolean, { usePoll, map = socketMap, tries = 400, pauseMs = 5 }: WaitOptions): boolean {
  for (let i = 0; i < tries; i++) {
    if (cond()) return true;
    if (map.size > 0) loop({ timeout: 0.01, count: 1, usePoll, map });
    if (cond()) return true;
    sleepSync(pauseMs);
  }
  return cond();
}

// ---- AF_UNIX paths --------------------------------------------------------------

const unixPaths = new Set<string>();
let unixCounter = 0;

/** A fresh socket path under os.tmpdir(); `unlinkTmpPaths()` removes it. */
export function tmpUnixPath(tag = 'sock'): string {
  const p = path.join(os.tmpdir(), `asyncore-test-${process.pid}-${tag}-${++unixCounter}-${Math.random().toString(36).slice(2, 8)}`);
  unixPaths.add(p);
  return p;
}

/** A fresh regular-file path under os.tmpdir(), removed by `unlinkTmpPaths()`. */
export function tmpFilePath(tag = 'file'): string {
  return tmpUnixPath(tag);
}

/** Remove a path if it exists. */
export function unlinkQuiet(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch {
    /* not there */
  }
}

/** Unlink every path handed out by tmpUnixPath()/tmpFilePath(). */
export function unlinkTmpPaths(): void {
  for (const p of unixPaths) unlinkQuiet(p);
  unixPaths.clear();
}

// ---- output capture ---------------------------------------------------------------

export interface Captured<T> {
  stdout: string;
  stderr: string;
  result: T;
}

/**
 * Run `fn` with process.stdout.write / process.stderr.write replaced, and
 * return what was written (as CPython's captured_stdout / captured_stderr).
 * The originals are restored even if `fn` throws.
 */
export function captureOutput<T>(fn: () => T): Captured<T> {
  const out: string[] = [];
  const err: string[] = [];
  const origOut = process.stdout.write;
  const origErr = process.stderr.write;
  const grab =
    (into: string[]) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) cb();
      return true;
    };
  process.stdout.write = grab(out) as typeof process.stdout.write;
  process.stderr.write = grab(err) as typeof process.stderr.write;
  try {
    const result = fn();
    return { stdout: out.join(''), stderr: err.join(''), result };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
}

/** The non-empty lines of a captured stream. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

// ---- fd accounting ------------------------------------------------------------------

/** True where /proc/self/fd lists this process's fds (Linux). */
export const hasProcFd: boolean = fs.existsSync('/proc/self/fd');

/** The fd numbers open in this process now (the fd readdir itself used is gone by then and filtered out). */
export function openFds(): Set<number> {
  const fds = new Set<number>();
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (isFdOpen(fd)) fds.add(fd);
  }
  return fds;
}

/** How many fds this process has open (from /proc/self/fd). */
export function fdCount(): number {
  return openFds().size;
}

/** True while `fd` is an open descriptor of this process. */
export function isFdOpen(fd: number): boolean {
  try {
    binding.getBlocking(fd); // fcntl(F_GETFL): EBADF when closed
    return true;
  } catch {
    return false;
  }
}

/**
 * A dup of `fd` whose number is FD_SETSIZE (1024) or more: dup until a number
 * that high comes back, closing every intermediate dup. Returns null if the fd
 * limit does not allow it. The caller owns (and closes) the returned fd.
 */
export function highFdDup(fd: number): number | null {
  const limit = binding.FD_SETSIZE;
  const extra: number[] = [];
  try {
    for (let i = 0; i < limit + 64; i++) {
      let n: number;
      try {
        n = binding.dup(fd);
      } catch {
        return null; // EMFILE: the limit is too low for this
      }
      if (n >= limit) return n;
      extra.push(n);
    }
    return null;
  } finally {
    for (const n of extra) binding.close(n);
  }
}
