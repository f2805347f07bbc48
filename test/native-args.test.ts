/**
 * Every native function of the addon, called with wrong arguments: each
 * must throw a TypeError or RangeError (or, for a well-formed but closed fd,
 * an OSError EBADF), never crash, never reach a syscall with garbage.
 *
 * Two sweeps:
 *  - a typed sweep over a table of valid calls (TEMPLATES), replacing one
 *    argument at a time with each bad value and checking the exact error
 *    class the argument's kind calls for;
 *  - a generic sweep over whatever functions the addon exports (also ones
 *    added later), calling each with bad values in every position and
 *    checking only that the outcome is a return, TypeError, RangeError or
 *    OSError.
 */
import './helpers/native';
import { constants as osConstants } from 'node:os';
import { socket, OSError } from '../lib';
import { binding, checkNoFdLeaks, outcome, thrown } from './helpers/raw';

const E = osConstants.errno;
const C = binding.constants;
checkNoFdLeaks();

type Bad = [label: string, value: unknown];
/**
 * Fresh bad values for each attempt (a call may write into a typed array).
 * No value here is a valid fd: -0 is left out on purpose, since it is fd 0
 * (the worker's stdin) for every fd argument.
 */
const badValues = (): Bad[] => [
  ['undefined', undefined],
  ['null', null],
  ['string', 'str'],
  ['empty string', ''],
  ['numeric string', '3'],
  ['object', {}],
  ['array', []],
  ['function', () => 1],
  ['boolean', true],
  ['bigint', 10n],
  ['symbol', Symbol('s')],
  ['NaN', NaN],
  ['float', 1.5],
  ['negative', -1],
  ['2**31', 2 ** 31],
  ['2**32+3', 2 ** 32 + 3],
  ['2**53', 2 ** 53],
  ['1e308', 1e308],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['Number object', new Number(3)],
  ['ArrayBuffer', new ArrayBuffer(4)],
  ['Int32Array', new Int32Array(4)],
  ['Buffer', Buffer.alloc(4)],
  ['SharedArrayBuffer view', new Uint8Array(new SharedArrayBuffer(4))],
  ['DataView', new DataView(new ArrayBuffer(4))],
  ['detached view', detachedView()],
  ['SharedArrayBuffer', new SharedArrayBuffer(4)],
];

function detachedView(): Uint8Array {
  const ab = new ArrayBuffer(4);
  const v = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  return v;
}
const BAD_COUNT = badValues().length;
/** The i-th bad value, freshly made. */
const bad = (i: number): Bad => badValues()[i];
/** for (const [label, value] of each()): iterate fresh bad values. */
function* each(): Generator<Bad> {
  for (let i = 0; i < BAD_COUNT; i++) yield bad(i);
}

/**
 * What a wrong value for an argument of each kind must give. `range` is the
 * argument's accepted integer range; in-range numbers may be accepted
 * (returned / OSError) or refused for a reason other than their type.
 */
type Kind =
  | { k: 'int'; min: number; max: number; optional?: boolean }
  | { k: 'bytes' }
  | { k: 'optval' } // setsockopt value: an int32/uint32 or bytes
  | { k: 'addr' }
  | { k: 'bool' }
  | { k: 'i32' }
  | { k: 'timeout'; optional: true }
  | { k: 'str' };

const fd: Kind = { k: 'int', min: 0, max: 2 ** 31 - 1 };
const family: Kind = { k: 'int', min: 0, max: 2 ** 31 - 1 };
const optFlags: Kind = { k: 'int', min: 0, max: 2 ** 31 - 1, optional: true };
const optOffLen: Kind = { k: 'int', min: 0, max: 2 ** 31 - 1, optional: true };
const int32: Kind = { k: 'int', min: -(2 ** 31), max: 2 ** 31 - 1 };

function isBytes(v: unknown): boolean {
  return ArrayBuffer.isView(v) || v instanceof ArrayBuffer;
}

/** The outcomes allowed for `value` in an argument of `kind`. */
function expected(kind: Kind, value: unknown): string[] {
  const any = ['returned', 'OSError', 'RangeError', 'TypeError'];
  switch (kind.k) {
    case 'int': {
      if ((value === undefined || value === null) && kind.optional) return ['returned', 'OSError', 'RangeError'];
      if (typeof value !== 'number' || Number.isNaN(value) || (Number.isFinite(value) && !Number.isInteger(value))) return ['TypeError'];
      if (value < kind.min || value > kind.max) return ['RangeError'];
      return ['returned', 'OSError', 'RangeError'];
    }
    case 'bytes':
      return isBytes(value) ? any.filter((o) => o !== 'TypeError') : ['TypeError'];
    case 'optval':
      if (isBytes(value)) return ['returned', 'OSError'];
      if (typeof value !== 'number' || Number.isNaN(value) || (Number.isFinite(value) && !Number.isInteger(value))) return ['TypeError'];
      if (value < -(2 ** 31) || value > 2 ** 32 - 1) return ['RangeError'];
      return ['returned', 'OSError'];
    case 'addr':
      // An AF_INET address is [host, port]; nothing in BAD is one.
      return ['TypeError'];
    case 'bool':
      return typeof value === 'boolean' ? ['returned', 'OSError'] : ['TypeError'];
    case 'i32':
      return value instanceof Int32Array ? ['returned', 'OSError', 'RangeError'] : ['TypeError'];
    case 'timeout':
      if (value === undefined || value === null) return ['returned', 'OSError'];
      if (typeof value !== 'number' || Number.isNaN(value)) return ['TypeError'];
      return ['returned', 'OSError', 'RangeError'];
    case 'str':
      return typeof value === 'string' ? ['returned'] : ['TypeError'];
  }
}

/** Fresh resources for one call: all non-blocking, so no call can block. */
class Ctx {
  private fds: number[] = [];
  readonly a: number;
  readonly b: number;
  readonly r: number;
  readonly w: number;
  readonly udpAddr: [string, number];
  constructor() {
    [this.a, this.b] = this.track(binding.socketpair(C.AF_UNIX, C.SOCK_STREAM));
    [this.r, this.w] = this.track(binding.pipe());
    for (const x of [this.a, this.b, this.r, this.w]) binding.setBlocking(x, false);
    // Something to read, so that reads in the templates succeed.
    binding.send(this.b, Buffer.from('0123456789abcdef'));
    binding.write(this.w, Buffer.from('0123456789abcdef'));
    const u = this.udp();
    binding.bind(u, C.AF_INET, ['127.0.0.1', 0]);
    this.udpAddr = binding.getsockname(u) as [string, number];
  }
  track<T extends number | number[]>(x: T): T {
    if (typeof x === 'number') this.fds.push(x);
    else this.fds.push(...(x as number[]));
    return x;
  }
  udp(): number {
    const s = this.track(binding.socket(C.AF_INET, C.SOCK_DGRAM, 0));
    binding.setBlocking(s, false);
    return s;
  }
  tcp(): number {
    const s = this.track(binding.socket(C.AF_INET, C.SOCK_STREAM, 0));
    binding.setBlocking(s, false);
    return s;
  }
  listener(): number {
    const s = this.tcp();
    binding.bind(s, C.AF_INET, ['127.0.0.1', 0]);
    binding.listen(s, 4);
    return s;
  }
  epoll(): number {
    const ep = this.track(binding.epollCreate!());
    expect(binding.epollCtl!(ep, C.EPOLL_CTL_ADD, this.a, C.EPOLLOUT)).toBe(0);
    return ep;
  }
  dupA(): number {
    // For close(): tracked all the same, in case a bad argument keeps the
    // call from closing it (EBADF from the second close is ignored).
    return this.track(binding.dup(this.a));
  }
  /** Close what a successful call handed back (fds of socket(), accept(), …). */
  adopt(name: string, result: unknown): void {
    if (['socket', 'dup', 'epollCreate'].includes(name) && typeof result === 'number') this.fds.push(result);
    if (['socketpair', 'pipe'].includes(name) && Array.isArray(result)) this.fds.push(...(result as number[]));
    if (name === 'accept' && Array.isArray(result)) this.fds.push(result[0] as number);
  }
  close(): void {
    for (const f of this.fds) {
      try {
        binding.close(f);
      } catch {
        /* closed by the call under test */
      }
    }
  }
}

interface Template {
  kinds: Kind[];
  args: (c: Ctx) => unknown[];
  /** Index of the fd argument to try with a closed fd, and what that gives. */
  badFd?: { index: number; gives: 'throws' | 'returns EBADF' | 'returns -EBADF' }; // connect_ex: Python's positive errno; epollCtl: -errno
}

const linux = binding.platform === 'linux';
const TEMPLATES: Record<string, Template> = {
  socket: { kinds: [family, int32Range(0), optFlags], args: () => [C.AF_INET, C.SOCK_STREAM, 0] },
  socketpair: { kinds: [family, int32Range(0), optFlags], args: () => [C.AF_UNIX, C.SOCK_STREAM, 0] },
  pipe: { kinds: [], args: () => [] },
  close: { kinds: [fd], args: (c) => [c.dupA()], badFd: { index: 0, gives: 'throws' } },
  dup: { kinds: [fd], args: (c) => [c.a], badFd: { index: 0, gives: 'throws' } },
  setBlocking: { kinds: [fd, { k: 'bool' }], args: (c) => [c.a, false], badFd: { index: 0, gives: 'throws' } },
  getBlocking: { kinds: [fd], args: (c) => [c.a], badFd: { index: 0, gives: 'throws' } },
  getInheritable: { kinds: [fd], args: (c) => [c.a], badFd: { index: 0, gives: 'throws' } },
  setInheritable: { kinds: [fd, { k: 'bool' }], args: (c) => [c.a, false], badFd: { index: 0, gives: 'throws' } },
  bind: { kinds: [fd, family, { k: 'addr' }], args: (c) => [c.udp(), C.AF_INET, ['127.0.0.1', 0]], badFd: { index: 0, gives: 'throws' } },
  listen: { kinds: [fd, int32], args: (c) => [c.tcp(), 4], badFd: { index: 0, gives: 'throws' } },
  connectEx: { kinds: [fd, family, { k: 'addr' }], args: (c) => [c.udp(), C.AF_INET, c.udpAddr], badFd: { index: 0, gives: 'returns EBADF' } },
  accept: { kinds: [fd], args: (c) => [c.listener()], badFd: { index: 0, gives: 'throws' } },
  shutdown: { kinds: [fd, { k: 'int', min: 0, max: 2 }], args: (c) => [c.a, C.SHUT_WR], badFd: { index: 0, gives: 'throws' } },
  getsockname: { kinds: [fd], args: (c) => [c.a], badFd: { index: 0, gives: 'throws' } },
  getpeername: { kinds: [fd], args: (c) => [c.a], badFd: { index: 0, gives: 'throws' } },
  send: {
    kinds: [fd, { k: 'bytes' }, optOffLen, optOffLen, optFlags],
    args: (c) => [c.a, Buffer.from('abcd'), 0, 4, 0],
    badFd: { index: 0, gives: 'throws' },
  },
  sendto: {
    kinds: [fd, { k: 'bytes' }, optOffLen, optOffLen, optFlags, family, { k: 'addr' }],
    args: (c) => [c.udp(), Buffer.from('abcd'), 0, 4, 0, C.AF_INET, c.udpAddr],
    badFd: { index: 0, gives: 'throws' },
  },
  recv: { kinds: [fd, { k: 'int', min: 0, max: 2 ** 30 }, optFlags], args: (c) => [c.a, 16, 0], badFd: { index: 0, gives: 'throws' } },
  recvInto: {
    kinds: [fd, { k: 'bytes' }, optOffLen, optOffLen, optFlags],
    args: (c) => [c.a, Buffer.alloc(8), 0, 8, 0],
    badFd: { index: 0, gives: 'throws' },
  },
  recvBuffer: { kinds: [{ k: 'int', min: 1, max: 2 ** 20 }], args: () => [16] },
  recvScratch: {
    kinds: [fd, { k: 'int', min: 0, max: 2 ** 30 }, int32Range(0), int32Range(0)],
    args: (c) => [c.a, 8, 0, binding.recvBuffer(16)[1]],
    badFd: { index: 0, gives: 'throws' },
  },
  recvfrom: { kinds: [fd, { k: 'int', min: 0, max: 2 ** 20 }, optFlags], args: (c) => [c.a, 16, 0], badFd: { index: 0, gives: 'throws' } },
  read: { kinds: [fd, { k: 'int', min: 0, max: 2 ** 30 }], args: (c) => [c.r, 16], badFd: { index: 0, gives: 'throws' } },
  write: { kinds: [fd, { k: 'bytes' }, optOffLen, optOffLen], args: (c) => [c.w, Buffer.from('xy'), 0, 2], badFd: { index: 0, gives: 'throws' } },
  setsockopt: {
    kinds: [fd, int32, int32, { k: 'optval' }],
    args: (c) => [c.a, C.SOL_SOCKET, C.SO_RCVBUF, 65536],
    badFd: { index: 0, gives: 'throws' },
  },
  getsockopt: {
    kinds: [fd, int32, int32, { k: 'int', min: 1, max: 1024, optional: true }],
    args: (c) => [c.a, C.SOL_SOCKET, C.SO_TYPE, 4],
    badFd: { index: 0, gives: 'throws' },
  },
  selectInto: {
    kinds: [{ k: 'i32' }, { k: 'i32' }, { k: 'int', min: 0, max: 2 ** 31 - 1 }, { k: 'timeout', optional: true }],
    args: (c) => [new Int32Array([c.a]), new Int32Array([2]), 1, 0],
  },
  pollInto: {
    kinds: [{ k: 'i32' }, { k: 'i32' }, { k: 'i32' }, { k: 'int', min: 0, max: 2 ** 31 - 1 }, { k: 'timeout', optional: true }],
    args: (c) => [new Int32Array([c.a]), new Int32Array([C.POLLOUT]), new Int32Array(1), 1, 0],
  },
  errnoException: { kinds: [{ k: 'int', min: 0, max: 2 ** 31 - 1 }, { k: 'str' }], args: () => [E.EBADF, 'x'] },
  strerror: { kinds: [int32], args: () => [E.EBADF] },
};
if (linux) {
  TEMPLATES.epollCreate = { kinds: [], args: () => [] };
  TEMPLATES.epollCtl = {
    kinds: [fd, { k: 'int', min: 1, max: 3 }, fd, { k: 'int', min: -(2 ** 31), max: 2 ** 32 - 1 }],
    args: (c) => [c.epoll(), C.EPOLL_CTL_MOD, c.a, C.EPOLLOUT],
    badFd: { index: 0, gives: 'returns -EBADF' }, // 0 or -errno, the one non-throwing result (native/binding.h)
  };
  TEMPLATES.epollWait = {
    kinds: [fd, { k: 'i32' }, { k: 'i32' }, { k: 'int', min: 1, max: 2 ** 24 }, { k: 'timeout', optional: true }],
    args: (c) => [c.epoll(), new Int32Array(4), new Int32Array(4), 4, 0],
    badFd: { index: 0, gives: 'throws' },
  };
}

function int32Range(min: number): Kind {
  return { k: 'int', min, max: 2 ** 31 - 1 };
}

/** Run `name(...args)` in a fresh context; returns the outcome. */
function run(name: string, args: (c: Ctx) => unknown[], patch?: (a: unknown[]) => void): string {
  const c = new Ctx();
  try {
    const a = args(c);
    patch?.(a);
    return outcome(() => {
      const fn = (binding as unknown as Record<string, (...x: unknown[]) => unknown>)[name];
      c.adopt(name, fn(...a));
    });
  } finally {
    c.close();
  }
}

/** Functions tested apart (init replaces the OSError class). */
const SPECIAL = new Set(['init']);

test('every native function the addon exports has a template or is special (keeps the typed sweep complete)', () => {
  const fns = Object.keys(binding).filter((k) => typeof (binding as unknown as Record<string, unknown>)[k] === 'function');
  const known = fns.filter((k) => k in TEMPLATES || SPECIAL.has(k));
  // The socket and readiness layers must all be covered; functions other
  // layers add later are still covered by the generic sweep below.
  for (const name of ['socket', 'socketpair', 'pipe', 'close', 'dup', 'setBlocking', 'getBlocking', 'getInheritable', 'setInheritable', 'bind', 'listen', 'connectEx', 'accept', 'shutdown', 'getsockname', 'getpeername', 'send', 'sendto', 'recv', 'recvInto', 'recvBuffer', 'recvScratch', 'recvfrom', 'read', 'write', 'setsockopt', 'getsockopt', 'selectInto', 'pollInto', 'strerror', 'errnoException', 'init']) {
    expect(known).toContain(name);
  }
  if (linux) for (const name of ['epollCreate', 'epollCtl', 'epollWait']) expect(known).toContain(name);
});

test('the templates themselves are valid calls', () => {
  for (const [name, t] of Object.entries(TEMPLATES)) {
    const o = run(name, t.args);
    // accept on an empty backlog is EAGAIN; everything else succeeds.
    expect([name, o]).toEqual([name, name === 'accept' ? 'OSError' : 'returned']);
  }
});

describe('typed sweep: one wrong argument at a time', () => {
  for (const [name, t] of Object.entries(TEMPLATES)) {
    if (t.kinds.length === 0) continue;
    test(name, () => {
      const failures: string[] = [];
      t.kinds.forEach((kind, i) => {
        for (const [label, value] of each()) {
          const want = expected(kind, value);
          const got = run(name, t.args, (a) => {
            a[i] = value;
          });
          if (!want.includes(got)) failures.push(`${name} arg ${i} = ${label}: got ${got}, want ${want.join('|')}`);
        }
      });
      // Missing arguments: a call cut short after each position is a
      // TypeError unless every argument left out may be omitted.
      t.kinds.forEach((_kind, i) => {
        const omittable = t.kinds.slice(i).every((k) => expected(k, undefined).includes('returned'));
        const want = omittable ? expected(t.kinds[i], undefined) : ['TypeError'];
        const got = run(name, t.args, (a) => {
          a.length = i;
        });
        if (!want.includes(got)) failures.push(`${name} cut to ${i} args: got ${got}, want ${want.join('|')}`);
      });
      expect(failures).toEqual([]);
    });
  }
});

/** A closed fd number: free now, and nothing opens an fd before its use (all synchronous). */
function closedFd(): number {
  const [r, w] = binding.pipe();
  binding.close(r);
  binding.close(w);
  return r;
}

test('a well-formed but closed fd is OSError EBADF for every fd-taking function', () => {
  const failures: string[] = [];
  for (const [name, t] of Object.entries(TEMPLATES)) {
    if (!t.badFd) continue;
    const c = new Ctx();
    try {
      const a = t.args(c);
      const closed = closedFd();
      a[t.badFd.index] = closed;
      const fn = (binding as unknown as Record<string, (...x: unknown[]) => unknown>)[name];
      if (t.badFd.gives !== 'throws') {
        const rc = fn(...a);
        if (rc !== (t.badFd.gives === 'returns EBADF' ? E.EBADF : -E.EBADF)) failures.push(`${name}: returned ${String(rc)}`);
      } else {
        const err = thrown(() => fn(...a));
        if (!(err instanceof OSError) || err.errno !== E.EBADF) failures.push(`${name}: ${err.name} ${err.message}`);
      }
    } finally {
      c.close();
    }
  }
  expect(failures).toEqual([]);
  // The readiness calls: select refuses it, poll reports it.
  const closed = closedFd();
  expect(thrown(() => binding.selectInto(new Int32Array([closed]), new Int32Array([1]), 1, 0))).toMatchObject({ errno: E.EBADF });
  const rev = new Int32Array(1);
  expect(binding.pollInto(new Int32Array([closed]), new Int32Array([C.POLLIN]), rev, 1, 0)).toBe(1);
  expect(rev[0]).toBe(C.POLLNVAL);
});

test('malformed addresses are Type/RangeErrors for bind, connectEx and sendto', () => {
  const cases: Array<[string, number, unknown, string]> = [
    ['host not a string', C.AF_INET, [1, 80], 'TypeError'],
    ['host a symbol', C.AF_INET, [Symbol('h'), 80], 'TypeError'],
    ['host with NUL', C.AF_INET, ['127.0.0.1\0evil', 80], 'TypeError'],
    ['port a string', C.AF_INET, ['127.0.0.1', '80'], 'TypeError'],
    ['port NaN', C.AF_INET, ['127.0.0.1', NaN], 'TypeError'],
    ['port float', C.AF_INET, ['127.0.0.1', 80.5], 'TypeError'],
    ['port Infinity', C.AF_INET, ['127.0.0.1', Infinity], 'TypeError'],
    ['port negative', C.AF_INET, ['127.0.0.1', -1], 'RangeError'],
    ['port 65536', C.AF_INET, ['127.0.0.1', 65536], 'RangeError'],
    ['port 1e308', C.AF_INET, ['127.0.0.1', 1e308], 'RangeError'],
    ['port bigint', C.AF_INET, ['127.0.0.1', 80n], 'TypeError'],
    ['one element', C.AF_INET, ['127.0.0.1'], 'TypeError'],
    ['three elements for AF_INET', C.AF_INET, ['127.0.0.1', 1, 2], 'TypeError'],
    ['sparse array', C.AF_INET, new Array(2), 'TypeError'],
    ['a string for AF_INET', C.AF_INET, '127.0.0.1:80', 'TypeError'],
    ['an object for AF_INET', C.AF_INET, { host: '127.0.0.1', port: 80 }, 'TypeError'],
    ['five elements for AF_INET6', C.AF_INET6, ['::1', 1, 0, 0, 0], 'TypeError'],
    ['flowinfo too big', C.AF_INET6, ['::1', 1, 0x100000, 0], 'RangeError'],
    ['flowinfo negative', C.AF_INET6, ['::1', 1, -1, 0], 'RangeError'],
    ['flowinfo NaN', C.AF_INET6, ['::1', 1, NaN, 0], 'RangeError'],
    ['scope 2**32', C.AF_INET6, ['::1', 1, 0, 2 ** 32], 'RangeError'],
    ['scope a string', C.AF_INET6, ['::1', 1, 0, 'eth0'], 'TypeError'],
    ['AF_UNIX number', C.AF_UNIX, 42, 'TypeError'],
    ['AF_UNIX too long', C.AF_UNIX, '/tmp/' + 'y'.repeat(300), 'RangeError'],
    ['unsupported family', 12345, ['127.0.0.1', 1], 'TypeError'],
  ];
  const failures: string[] = [];
  for (const [label, fam, addr, want] of cases) {
    const type = fam === C.AF_UNIX ? C.SOCK_DGRAM : C.SOCK_DGRAM;
    const sfam = fam === 12345 ? C.AF_INET : fam === C.AF_INET6 && !socket.hasIpv6 ? C.AF_INET : fam;
    const s = binding.socket(sfam, type, 0);
    try {
      for (const [call, fn] of [
        ['bind', () => binding.bind(s, fam, addr)],
        ['connectEx', () => binding.connectEx(s, fam, addr)],
        ['sendto', () => binding.sendto(s, Buffer.from('x'), undefined, undefined, 0, fam, addr)],
      ] as Array<[string, () => unknown]>) {
        const got = outcome(fn);
        if (got !== want) failures.push(`${call} ${label}: got ${got}, want ${want}`);
      }
    } finally {
      binding.close(s);
    }
  }
  expect(failures).toEqual([]);
});

test('an address accessor that throws propagates its error; one that closes the fd gives EBADF', () => {
  const s = binding.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  try {
    const boom: unknown[] = ['127.0.0.1', 0];
    Object.defineProperty(boom, 1, {
      get() {
        throw new Error('boom');
      },
    });
    const err = thrown(() => binding.bind(s, C.AF_INET, boom));
    expect(err.message).toBe('boom');
  } finally {
    binding.close(s);
  }
  const t = binding.socket(C.AF_INET, C.SOCK_DGRAM, 0);
  const closing: unknown[] = ['127.0.0.1', 0];
  Object.defineProperty(closing, 1, {
    get() {
      binding.close(t);
      return 9;
    },
  });
  expect(outcome(() => binding.sendto(t, Buffer.from('x'), undefined, undefined, 0, C.AF_INET, closing))).toBe('OSError');
});

test('Int32Array arguments shorter than n, and n beyond them, are RangeErrors', () => {
  const [a, b] = binding.socketpair(C.AF_UNIX, C.SOCK_STREAM);
  try {
    expect(outcome(() => binding.selectInto(new Int32Array([a]), new Int32Array(0), 1, 0))).toBe('RangeError');
    expect(outcome(() => binding.selectInto(new Int32Array([a]), new Int32Array([1]), 2, 0))).toBe('RangeError');
    expect(outcome(() => binding.pollInto(new Int32Array([a]), new Int32Array([1]), new Int32Array(0), 1, 0))).toBe('RangeError');
    expect(outcome(() => binding.selectInto(new Uint32Array([a]) as unknown as Int32Array, new Int32Array([1]), 1, 0))).toBe('TypeError');
    // A detached Int32Array has no elements.
    const ab = new ArrayBuffer(8);
    const fds = new Int32Array(ab);
    structuredClone(ab, { transfer: [ab] });
    expect(outcome(() => binding.pollInto(fds, new Int32Array(2), new Int32Array(2), 1, 0))).toBe('RangeError');
    expect(binding.selectInto(fds, fds, 0, 0)).toBe(0);
    if (linux) {
      const ep = binding.epollCreate!();
      try {
        expect(outcome(() => binding.epollWait!(ep, new Int32Array(1), new Int32Array(4), 4, 0))).toBe('RangeError');
        expect(outcome(() => binding.epollWait!(ep, new Int32Array(4), new Int32Array(4), 0, 0))).toBe('RangeError');
        expect(outcome(() => binding.epollWait!(ep, new Int32Array(4), new Int32Array(4), 2 ** 25, 0))).toBe('RangeError');
      } finally {
        binding.close(ep);
      }
    }
  } finally {
    binding.close(a);
    binding.close(b);
  }
});

test('init() refuses non-functions; a non-constructor makes errors TypeErrors, not crashes; restorable', () => {
  for (const [, v] of each()) {
    if (typeof v === 'function') continue;
    expect(outcome(() => binding.init(v as Function))).toBe('TypeError');
  }
  expect(outcome(() => binding.init(undefined as unknown as Function))).toBe('TypeError');
  try {
    binding.init((() => 1) as unknown as Function); // not a constructor
    expect(outcome(() => binding.close(-0 + 2 ** 31 - 2))).toBe('TypeError');
    binding.init(
      class {
        constructor() {
          throw new Error('from the constructor');
        }
      },
    );
    expect(thrown(() => binding.close(2 ** 31 - 2)).message).toBe('from the constructor');
  } finally {
    binding.init(OSError);
  }
  expect(thrown(() => binding.close(2 ** 31 - 2))).toBeInstanceOf(OSError);
});

describe('generic sweep: every exported function, bad values in every position', () => {
  const names = Object.keys(binding)
    .filter((k) => typeof (binding as unknown as Record<string, unknown>)[k] === 'function')
    .filter((k) => !SPECIAL.has(k));

  let savedLimit: { soft: number; hard: number } | null = null;
  const b = binding as unknown as Record<string, (...a: unknown[]) => unknown>;
  beforeAll(() => {
    if (typeof b.getNofileLimit === 'function') savedLimit = b.getNofileLimit() as { soft: number; hard: number };
  });
  afterAll(() => {
    if (savedLimit && typeof b.setNofileLimit === 'function') b.setNofileLimit(savedLimit.soft, savedLimit.hard);
  });

  for (const name of names) {
    test(name, () => {
      const ok = new Set(['returned', 'TypeError', 'RangeError', 'OSError']);
      const failures: string[] = [];
      // Functions that change process limits would take a real number as
      // an order (setNofileLimit(0) leaves the worker without fds): give them
      // only values of the wrong type.
      const destructive = /^set\w*Limit$/.test(name);
      const attempt = (label: string, args: unknown[]): void => {
        if (destructive && args.some((v) => typeof v === 'number' && !Number.isNaN(v) && (v >= 0 || v === -Infinity))) return;
        const c = new Ctx();
        try {
          const got = outcome(() => c.adopt(name, b[name](...args)));
          if (!ok.has(got)) failures.push(`${name}(${label}): ${got}`);
        } finally {
          c.close();
        }
      };
      attempt('', []);
      for (const [label, v] of each()) {
        attempt(label, [v]);
        attempt(`${label} x8`, new Array(8).fill(v));
        for (let pos = 1; pos < 6; pos++) {
          // Plausible leading arguments, then the bad one.
          attempt(`0.. then ${label} at ${pos}`, [...new Array(pos).fill(2 ** 31 - 2), v]);
        }
      }
      expect(failures).toEqual([]);
    });
  }
});
