/**
 * select(), poll() and epoll (lib/select.ts over native/readiness.cc) on
 * socketpairs and pipes. Timeouts are bounded and generous: the machine may
 * be loaded, so only "not much earlier than asked" and "not absurdly late"
 * are asserted.
 */
import './helpers/native';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import { select, socket, OSError } from '../lib';
import { throwIfErrno } from '../lib/errors';
import { binding, checkNoFdLeaks, osError, outcome, Owned, thrown } from './helpers/raw';

const E = osConstants.errno;
const own = new Owned();
afterEach(() => own.closeAll());
checkNoFdLeaks();

/** A closed fd number (nothing opens fds between this and its use: the tests are synchronous). */
function closedFd(): number {
  const [r, w] = binding.pipe();
  binding.close(r);
  binding.close(w);
  return r;
}

describe('select.select', () => {
  test('readiness on a socketpair and a pipe', () => {
    const [a, b] = own.pair();
    const [r, w] = own.pipe();
    // Nothing to read yet; both writable.
    expect(select.select([a, b, r], [a, w], [], 0)).toEqual([[], [a, w], []]);
    b.send('x');
    binding.write(w, Buffer.from('y'));
    expect(select.select([a, b, r], [], [], 1)).toEqual([[a, r], [], []]);
    expect(a.recv(1).toString()).toBe('x');
    expect(binding.read(r, 1).toString()).toBe('y');
    expect(select.select([a, r], [], [], 0)).toEqual([[], [], []]);
    // A hung-up pipe is readable (EOF).
    binding.close(w);
    expect(select.select([r], [], [], 1)[0]).toEqual([r]);
    expect(binding.read(r, 10)).toHaveLength(0);
  });

  test('results keep the input order (numbers and fileno() objects), also with duplicates', () => {
    const pairs = [own.pair(), own.pair(), own.pair(), own.pair()];
    for (const [x] of pairs) x.send('!');
    const ends = pairs.map((p) => p[1]);
    const order = [ends[2], ends[0], ends[3], ends[1]];
    expect(select.select(order, [], [], 1)[0]).toEqual(order);
    const fds = order.map((s) => s.fileno()).reverse();
    expect(select.select(fds, [], [], 1)[0]).toEqual(fds);
    const withDup = [ends[1], ends[0], ends[1]];
    expect(select.select(withDup, withDup, [], 1)).toEqual([withDup, withDup, []]);
  });

  test('the timeout is honoured (roughly) and a null-free empty wait returns', () => {
    const [a] = own.pair();
    const t0 = process.hrtime.bigint();
    expect(select.select([a], [], [], 0.2)).toEqual([[], [], []]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(180);
    expect(ms).toBeLessThan(5000);
    const t1 = process.hrtime.bigint();
    expect(select.select([], [], [], 0.05)).toEqual([[], [], []]);
    const ms2 = Number(process.hrtime.bigint() - t1) / 1e6;
    expect(ms2).toBeGreaterThanOrEqual(40);
    expect(ms2).toBeLessThan(5000);
  });

  test('an fd of FD_SETSIZE or more is a RangeError naming FD_SETSIZE and suggesting poll/epoll', () => {
    expect(select.FD_SETSIZE).toBe(1024);
    for (const fd of [5000, select.FD_SETSIZE, 2 ** 31 - 1, 2 ** 32 + 4, 2 ** 40]) {
      const err = thrown(() => select.select([fd], [], [], 0));
      expect(err.name).toBe('RangeError');
      expect(err.message).toContain('FD_SETSIZE');
      expect(err.message).toMatch(/poll/);
      expect(err.message).toMatch(/epoll/);
    }
    const neg = thrown(() => select.select([], [-1], [], 0));
    expect(neg.name).toBe('RangeError');
    // Values an Int32Array would silently turn into another fd are refused, not coerced.
    for (const bad of [1.5, NaN, '3', null, {}]) {
      expect(outcome(() => select.select([bad as unknown as number], [], [], 0))).toBe('TypeError');
    }
  });

  test('each fd is checked once, by the addon, with the number the caller gave', () => {
    // select.select() hands the fds over as a Float64Array: nothing is coerced before the check.
    expect(thrown(() => select.select([2 ** 40], [], [], 0)).message).toBe(
      `filedescriptor out of range in select(): fd 1099511627776 is not below FD_SETSIZE (${select.FD_SETSIZE}); use poll or epoll for fds this high (select.poll(), select.epoll(), or loop({ backend: 'poll' | 'epoll' }))`,
    );
    expect(thrown(() => select.select([], [], [2 ** 32 + 4], 0)).message).toContain('fd 4294967300 is not below FD_SETSIZE');
    expect(thrown(() => select.select([], [-3], [], 0)).message).toContain('fd -3 is negative');
    expect(thrown(() => select.select([1.5], [], [], 0)).message).toBe('select(): file descriptor must be an integer, got 1.5');
    expect(thrown(() => select.select([NaN], [], [], 0)).message).toBe('select(): file descriptor must be an integer, got NaN');
    // The backend's Int32Array form gets the same check and the same words.
    const err = thrown(() => binding.selectInto(new Int32Array([5000]), new Int32Array([1]), 1, 0));
    expect(err.message).toContain('fd 5000 is not below FD_SETSIZE');
    // fileno() must give a number (Python: PyObject_AsFileDescriptor).
    const odd = { fileno: () => '3' as unknown as number };
    expect(thrown(() => select.select([odd], [], [], 0))).toMatchObject({ name: 'TypeError', message: 'fileno() returned a non-integer: 3' });
    // A valid Float64Array entry is the fd it names.
    const [a] = own.pair();
    const masks = new Int32Array([2]);
    expect(binding.selectInto(new Float64Array([a.fileno()]), masks, 1, 0)).toBe(1);
    expect(masks[0]).toBe(2);
  });

  test('a closed fd is OSError EBADF', () => {
    const fd = closedFd();
    const err = osError(() => select.select([fd], [], [], 0));
    expect(err.errno).toBe(E.EBADF);
    expect(err.syscall).toBe('select');
  });

  test('bad timeouts: negative and non-numbers refused, too large a RangeError, not UB', () => {
    const [a] = own.pair();
    expect(outcome(() => select.select([a], [], [], -1))).toBe('RangeError');
    expect(outcome(() => select.select([a], [], [], NaN))).toBe('TypeError');
    expect(outcome(() => select.select([a], [], [], '1' as unknown as number))).toBe('TypeError');
    expect(outcome(() => select.select([a], [], [], 1e300))).toBe('RangeError');
    // +Infinity is "forever"; with a writable fd it returns at once.
    expect(select.select([], [a], [], Infinity)[1]).toEqual([a]);
    expect(outcome(() => select.select('x' as unknown as number[], [], [], 0))).toBe('TypeError');
  });
});

describe('select.poll', () => {
  test('readiness on a socketpair and a pipe; unregister/modify', () => {
    const [a, b] = own.pair();
    const [r, w] = own.pipe();
    const p = select.poll();
    p.register(a, select.POLLIN);
    p.register(r.valueOf(), select.POLLIN);
    p.register(w, select.POLLOUT);
    expect(p.poll(0)).toEqual([[w, select.POLLOUT]]);
    b.send('x');
    binding.write(w, Buffer.from('y'));
    expect(p.poll(1000)).toEqual([
      [a.fileno(), select.POLLIN],
      [r, select.POLLIN],
      [w, select.POLLOUT],
    ]);
    p.unregister(w);
    p.modify(a, select.POLLOUT);
    expect(p.poll(0)).toEqual([
      [a.fileno(), select.POLLOUT],
      [r, select.POLLIN],
    ]);
    expect(outcome(() => p.unregister(w))).toBe('RangeError');
    expect(osError(() => p.modify(w, select.POLLIN)).code).toBe('ENOENT');
    // Hang-up of the peer shows as POLLHUP (with POLLIN: EOF is readable).
    b.close();
    const ev = p.poll(1000).find(([fd]) => fd === a.fileno());
    expect(ev).toBeDefined();
    p.modify(a, select.POLLIN);
    const hup = p.poll(1000).find(([fd]) => fd === a.fileno())!;
    expect(hup[1] & (select.POLLHUP | select.POLLIN)).not.toBe(0);
  });

  test('a closed fd reports POLLNVAL', () => {
    const fd = closedFd();
    const p = select.poll();
    p.register(fd, select.POLLIN);
    expect(p.poll(0)).toEqual([[fd, select.POLLNVAL]]);
  });

  test('timeouts in milliseconds, honoured roughly; fractions round up', () => {
    const [a] = own.pair();
    const p = select.poll();
    p.register(a, select.POLLIN);
    const t0 = process.hrtime.bigint();
    expect(p.poll(150)).toEqual([]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(130);
    expect(ms).toBeLessThan(5000);
    // 0.4 ms must wait (about) 1 ms, not turn into poll(0): measure many.
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) p.poll(0.4);
    const ms2 = Number(process.hrtime.bigint() - t1) / 1e6;
    expect(ms2).toBeGreaterThanOrEqual(15);
    expect(outcome(() => p.poll('x' as unknown as number))).toBe('TypeError');
    expect(outcome(() => p.poll(2 ** 40))).toBe('RangeError');
  });

  test('fds beyond FD_SETSIZE are fine for poll', () => {
    const [a, b] = own.pair();
    let high = -1;
    const extra: number[] = [];
    try {
      // dup up to a number >= FD_SETSIZE (bounded by the fd limit).
      for (let i = 0; i < 1200; i++) {
        const d = binding.dup(a.fileno());
        if (d >= select.FD_SETSIZE) {
          high = d;
          break;
        }
        extra.push(d);
      }
    } catch (e) {
      if ((e as { code?: string }).code !== 'EMFILE') throw e;
    } finally {
      for (const d of extra) binding.close(d);
    }
    if (high === -1) return; // the fd limit does not allow it here
    own.fd(high);
    b.send('x');
    const p = select.poll();
    p.register(high, select.POLLIN);
    expect(p.poll(1000)).toEqual([[high, select.POLLIN]]);
    expect(outcome(() => select.select([high], [], [], 0))).toBe('RangeError');
  });

  test('register validates the fd', () => {
    const p = select.poll();
    expect(outcome(() => p.register(-1))).toBe('RangeError');
    expect(outcome(() => p.register(1.5))).toBe('TypeError');
    expect(outcome(() => p.register('3' as unknown as number))).toBe('TypeError');
    expect(outcome(() => p.register({} as unknown as number))).toBe('TypeError');
  });
});

(select.hasEpoll ? describe : describe.skip)('select.epoll', () => {
  test('readiness on a socketpair and a pipe; modify/unregister; close idempotent', () => {
    const [a, b] = own.pair();
    const [r, w] = own.pipe();
    const ep = select.epoll();
    try {
      expect(ep.closed).toBe(false);
      expect(binding.getInheritable(ep.fileno())).toBe(false);
      ep.register(a, select.EPOLLIN!);
      ep.register(r, select.EPOLLIN!);
      ep.register(w, select.EPOLLOUT!);
      expect(ep.poll(0)).toEqual([[w, select.EPOLLOUT]]);
      b.send('x');
      binding.write(w, Buffer.from('y'));
      const ev = ep.poll(1).sort((x, y) => x[0] - y[0]);
      expect(ev).toEqual(
        [
          [a.fileno(), select.EPOLLIN],
          [r, select.EPOLLIN],
          [w, select.EPOLLOUT],
        ].sort((x, y) => (x[0] as number) - (y[0] as number)),
      );
      expect(ep.poll(1, 1)).toHaveLength(1); // maxevents
      ep.unregister(w);
      ep.modify(a, select.EPOLLOUT!);
      expect(ep.poll(0).sort((x, y) => x[0] - y[0])).toEqual(
        [
          [a.fileno(), select.EPOLLOUT],
          [r, select.EPOLLIN],
        ].sort((x, y) => (x[0] as number) - (y[0] as number)),
      );
      // EPOLLET shows as an unsigned value in the mask (bit 31).
      ep.modify(a, select.EPOLLOUT! | select.EPOLLET!);
      expect(ep.poll(0).find(([fd]) => fd === a.fileno())![1]).toBe(select.EPOLLOUT);
    } finally {
      ep.close();
    }
    expect(ep.closed).toBe(true);
    ep.close();
    ep.close();
    expect(osError(() => ep.poll(0)).code).toBe('EBADF');
    expect(osError(() => ep.register(a)).code).toBe('EBADF');
  });

  test('epollCtl returns 0 or -errno; throwIfErrno makes the OSError (the one non-throwing result)', () => {
    const [a] = own.pair();
    const ep = select.epoll();
    try {
      const C = binding.constants;
      expect(binding.epollCtl!(ep.fileno(), C.EPOLL_CTL_ADD, a.fileno(), C.EPOLLIN)).toBe(0);
      const rc = binding.epollCtl!(ep.fileno(), C.EPOLL_CTL_ADD, a.fileno(), C.EPOLLIN);
      expect(rc).toBe(-E.EEXIST);
      const err = thrown(() => throwIfErrno(rc, 'epoll_ctl'));
      expect(err).toBeInstanceOf(OSError);
      expect(err).toMatchObject({ errno: E.EEXIST, code: 'EEXIST', syscall: 'epoll_ctl' });
      expect(throwIfErrno(7, 'x')).toBe(7);
    } finally {
      ep.close();
    }
  });

  test('epoll.poll: a negative timeout waits forever (returns at once when ready), as CPython', () => {
    const [a] = own.pair();
    const ep = select.epoll();
    try {
      ep.register(a, select.EPOLLOUT!);
      expect(ep.poll(-1)).toEqual([[a.fileno(), select.EPOLLOUT]]);
      expect(ep.poll(-0.5)).toEqual([[a.fileno(), select.EPOLLOUT]]);
    } finally {
      ep.close();
    }
  });

  test('register twice is EEXIST; modify/unregister of an unregistered fd is ENOENT', () => {
    const [a] = own.pair();
    const ep = select.epoll();
    try {
      ep.register(a);
      const err = osError(() => ep.register(a));
      expect(err.code).toBe('EEXIST');
      expect(err.syscall).toBe('epoll.register');
      const [c] = own.pair();
      expect(osError(() => ep.modify(c, select.EPOLLIN!)).code).toBe('ENOENT');
      expect(osError(() => ep.unregister(c)).code).toBe('ENOENT');
      expect(osError(() => ep.register(closedFd())).code).toBe('EBADF');
    } finally {
      ep.close();
    }
  });

  test('a regular file cannot be watched: EPERM', () => {
    const file = path.join(os.tmpdir(), `asyncore-raw-${process.pid}-regular.txt`);
    fs.writeFileSync(file, 'x');
    const fd = fs.openSync(file, 'r');
    const ep = select.epoll();
    try {
      const err = osError(() => ep.register(fd));
      expect(err.errno).toBe(E.EPERM);
      expect(err.code).toBe('EPERM');
    } finally {
      ep.close();
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  test('timeouts in seconds, honoured roughly; bad arguments are Type/RangeErrors', () => {
    const [a] = own.pair();
    const ep = select.epoll();
    try {
      ep.register(a, select.EPOLLIN!);
      const t0 = process.hrtime.bigint();
      expect(ep.poll(0.15)).toEqual([]);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(ms).toBeGreaterThanOrEqual(130);
      expect(ms).toBeLessThan(5000);
      expect(outcome(() => ep.poll(0, 0))).toBe('RangeError');
      expect(outcome(() => ep.poll(0, 1.5))).toBe('RangeError');
      expect(outcome(() => ep.poll('x' as unknown as number))).toBe('TypeError');
      expect(outcome(() => ep.poll(NaN))).toBe('TypeError');
      expect(outcome(() => ep.poll(1e10))).toBe('RangeError');
      // A huge maxevents is capped, not allocated.
      expect(ep.poll(0, 2 ** 30)).toEqual([]);
      expect(outcome(() => ep.register(-1))).toBe('RangeError');
      expect(outcome(() => ep.register('1' as unknown as number))).toBe('TypeError');
      expect(outcome(() => ep.modify(a, undefined as unknown as number))).toBe('TypeError');
    } finally {
      ep.close();
    }
  });

  test('an fd closed while registered: the kernel drops it (no events, no error)', () => {
    const [a, b] = socket.socketpair();
    const ep = select.epoll();
    try {
      ep.register(a, select.EPOLLIN!);
      b.send('x');
      a.close();
      b.close();
      expect(ep.poll(0)).toEqual([]);
    } finally {
      ep.close();
    }
  });
});
