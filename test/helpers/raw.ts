/**
 * Helpers for the raw-layer tests (test/native-*.test.ts): what an attempt
 * threw, unique AF_UNIX paths, bounded waits, and fd accounting that makes a
 * test file fail when it leaves an fd open.
 *
 * Errors thrown by the addon itself (TypeError, RangeError) are created in
 * Node's main realm, not in jest's test context, so `instanceof TypeError`
 * is false for them there: compare `name` instead (see {@link outcome}).
 */
import './native';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OSError, socket, select } from '../../lib';
import { binding } from '../../lib/native';
import { hasProcFd, unlinkQuiet } from './loop';

export { binding };
// The general helpers, shared with the asyncore tests.
export { hasProcFd, sleepSync, unlinkQuiet } from './loop';

/** 'returned', or the thrown error's class name ('TypeError', 'OSError', …). */
export function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'returned';
  } catch (err) {
    if (err instanceof OSError) return 'OSError';
    if (err !== null && typeof err === 'object' && typeof (err as Error).name === 'string') return (err as Error).name;
    return `non-error thrown: ${String(err)}`;
  }
}

/** The error `fn` throws; fails the test if it returns. */
export function thrown(fn: () => unknown): Error & { errno?: number; code?: string; syscall?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to throw, it returned');
}

/** The OSError `fn` throws (fails the test for anything else). */
export function osError(fn: () => unknown): OSError {
  const err = thrown(fn);
  if (!(err instanceof OSError)) throw new Error(`expected an OSError, got ${err?.name}: ${err?.message}`);
  return err;
}

let pathSeq = 0;
/** A fresh AF_UNIX path under os.tmpdir(); `unlinkQuiet()` it when done. */
export function tmpSockPath(tag: string): string {
  return path.join(os.tmpdir(), `asyncore-raw-${process.pid}-${tag}-${++pathSeq}.sock`);
}


/** Wait (bounded, default 5 s) until `fd` is readable; false on timeout. */
export function waitReadable(fd: number | { fileno(): number }, seconds = 5): boolean {
  return select.select([fd], [], [], seconds)[0].length === 1;
}

/** Wait (bounded, default 5 s) until `fd` is writable; false on timeout. */
export function waitWritable(fd: number | { fileno(): number }, seconds = 5): boolean {
  return select.select([], [fd], [], seconds)[1].length === 1;
}

/** The fd numbers open now, with what they point at. */
export function openFdTable(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), fs.readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      /* the fd readdir itself used: gone by now */
    }
  }
  return out;
}


/** Kinds of fd the raw tests create: the ones a leak check looks at. */
const OURS = /^(socket:|pipe:|anon_inode:\[?eventpoll)/;

/**
 * Registers beforeAll/afterAll hooks that fail the file when a socket, pipe
 * or epoll fd opened during it is still open at the end.
 */
export function checkNoFdLeaks(): void {
  if (!hasProcFd) return;
  let before = new Map<number, string>();
  beforeAll(() => {
    before = openFdTable();
  });
  afterAll(() => {
    const leaked: string[] = [];
    for (const [fd, target] of openFdTable()) {
      if (OURS.test(target) && before.get(fd) !== target) leaked.push(`${fd} -> ${target}`);
    }
    expect(leaked).toEqual([]);
  });
}

/** A tracker for sockets and raw fds a test opens: `closeAll()` in afterEach. */
export class Owned {
  private socks: socket.Socket[] = [];
  private fds: number[] = [];
  private paths: string[] = [];

  sock<T extends socket.Socket>(s: T): T {
    this.socks.push(s);
    return s;
  }

  pair(family?: number, type?: number): [socket.Socket, socket.Socket] {
    const [a, b] = socket.socketpair(family, type);
    this.socks.push(a, b);
    return [a, b];
  }

  fd(fd: number): number {
    this.fds.push(fd);
    return fd;
  }

  pipe(): [number, number] {
    const [r, w] = binding.pipe();
    this.fds.push(r, w);
    return [r, w];
  }

  path(p: string): string {
    this.paths.push(p);
    return p;
  }

  closeAll(): void {
    for (const s of this.socks) {
      try {
        s.close();
      } catch {
        /* its fd was closed behind its back by the test */
      }
    }
    for (const fd of this.fds) {
      try {
        binding.close(fd);
      } catch {
        /* closed by the test itself */
      }
    }
    for (const p of this.paths) unlinkQuiet(p);
    this.socks = [];
    this.fds = [];
    this.paths = [];
  }
}

/** A TCP listener on 127.0.0.1 (or ::1), bound to a free port. */
export function tcpListener(own: Owned, family: number = socket.AF_INET): socket.Socket {
  const l = own.sock(new socket.Socket(family, socket.SOCK_STREAM));
  l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1);
  l.bind([family === socket.AF_INET6 ? '::1' : '127.0.0.1', 0]);
  l.listen(16);
  return l;
}

/** True when AF_INET6 sockets exist and ::1 can be bound (a container may have IPv6 off on lo). */
export const ipv6Loopback: boolean = (() => {
  if (!socket.hasIpv6) return false;
  try {
    const s = new socket.Socket(socket.AF_INET6, socket.SOCK_STREAM);
    try {
      s.bind(['::1', 0]);
      return true;
    } finally {
      s.close();
    }
  } catch {
    return false;
  }
})();
