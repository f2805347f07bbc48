/**
 * asyncore behaviour that CPython's test suite never checks, but that the
 * checklist names (the "Gaps" list of test_asyncore-cases.md) and that a
 * faithful port must reproduce: how the select pass (poll) and the poll pass
 * (poll2) differ, loop()'s count/timeout rules, timeouts, bad and high fds,
 * the fd-reuse race, EINTR, dispatch order, and fd hygiene.
 */
import './helpers/native';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { Dispatcher, OSError, closeAll, loop, poll, poll2, poll3, socket, socketMap, select, type SocketMap } from '../lib';
import { binding } from '../lib/native';
import { captureOutput, fdCount, hasProcFd, highFdDup, isFdOpen, lines, loopUntil, openFds, tmpUnixPath, unlinkTmpPaths } from './helpers/loop';

const E = osConstants.errno;
const { AF_INET, AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_LINGER } = socket;

const PASSES = [
  { pass: 'select', usePoll: false },
  { pass: 'poll', usePoll: true },
] as const;

let map: SocketMap;
const extraSockets: socket.Socket[] = [];
function track<T extends socket.Socket>(s: T): T {
  extraSockets.push(s);
  return s;
}

beforeEach(() => {
  map = new Map();
});

afterEach(() => {
  jest.restoreAllMocks();
  closeAll(map, true);
  closeAll(socketMap, true);
  for (const s of extraSockets.splice(0)) s.close();
  unlinkTmpPaths();
});

function lingerZero(): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32LE(1, 0);
  b.writeInt32LE(0, 4);
  return b;
}

/** A connected loopback TCP pair [client, server], both non-blocking. */
function tcpPair(): [socket.Socket, socket.Socket] {
  const l = new socket.Socket(AF_INET, SOCK_STREAM);
  try {
    l.bind(['127.0.0.1', 0]);
    l.listen(1);
    const c = track(new socket.Socket(AF_INET, SOCK_STREAM));
    c.connect(l.getsockname());
    const [s] = l.accept();
    track(s);
    c.setblocking(false);
    s.setblocking(false);
    return [c, s];
  } finally {
    l.close();
  }
}

/** Reset a TCP connection from this end (SO_LINGER {1, 0} then close: RST). */
function resetClose(s: socket.Socket): void {
  s.setsockopt(SOL_SOCKET, SO_LINGER, lingerZero());
  s.close();
}

/** Records the handlers the loop calls; never writable unless told. */
class Recorder extends Dispatcher {
  events: string[] = [];
  wantWrite = false;
  override writable(): boolean {
    return this.wantWrite;
  }
  override handleRead(): void {
    this.events.push('read');
  }
  override handleWrite(): void {
    this.events.push('write');
  }
  override handleExpt(): void {
    this.events.push('expt');
  }
  override handleClose(): void {
    this.events.push('close');
    this.close();
  }
  override handleError(err: unknown): void {
    this.events.push(`error:${err instanceof OSError ? err.code : (err as Error).name}`);
    this.close();
  }
}

describe('handleClose twice in one poll-pass readwrite (item 10)', () => {
  test.each(PASSES)('socketpair peer closed (POLLIN|POLLHUP): $pass pass', ({ pass, usePoll }) => {
    const [a, b] = socket.socketpair();
    class R extends Recorder {
      override handleRead(): void {
        this.events.push(`read:${this.recv(100).length}`);
      }
    }
    const d = new R(a, map);
    b.close();
    expect(loopUntil(() => d.events.length > 0, { usePoll, map })).toBe(true);
    // select: recv() sees EOF and closes once. poll: recv's EOF closes, then the HUP bit closes again.
    expect(d.events).toEqual(pass === 'poll' ? ['close', 'read:0', 'close'] : ['close', 'read:0']);
    expect(map.size).toBe(0);
  });

  test.each(PASSES)('TCP peer reset (POLLIN|POLLERR|POLLHUP): $pass pass', ({ pass, usePoll }) => {
    const [c, s] = tcpPair();
    class R extends Recorder {
      override handleRead(): void {
        this.events.push(`read:${this.recv(100).length}`);
      }
    }
    const d = new R(c, map);
    resetClose(s);
    expect(loopUntil(() => d.events.length > 0, { usePoll, map })).toBe(true);
    expect(d.events).toEqual(pass === 'poll' ? ['close', 'read:0', 'close'] : ['close', 'read:0']);
    expect(map.size).toBe(0);
  });
});

describe('a disconnect errno thrown from a handler: handleError under select, handleClose under poll (item 9)', () => {
  test.each(PASSES)('raw recv() on a reset TCP socket: $pass pass', ({ pass, usePoll }) => {
    const [c, s] = tcpPair();
    const calls: string[] = [];
    class R extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        (this.socket as socket.Socket).recv(100); // throws ECONNRESET, bypassing Dispatcher.recv()
      }
      override handleError(err: unknown): void {
        calls.push(`handleError:${(err as OSError).code}`);
        super.handleError(err); // logs, then handleClose
      }
      override handleClose(): void {
        calls.push('handleClose');
        this.close();
      }
    }
    const d = new R(c, map);
    const repr = d.toString();
    resetClose(s);
    const { stdout } = captureOutput(() => loopUntil(() => calls.length > 0, { usePoll, map }));
    if (pass === 'select') {
      expect(calls).toEqual(['handleError:ECONNRESET', 'handleClose']);
      const out = lines(stdout);
      expect(out).toHaveLength(1);
      expect(out[0]).toContain(`error: uncaptured exception, closing channel ${repr} (OSError:`);
      expect(out[0]).toContain('ECONNRESET');
    } else {
      expect(calls).toEqual(['handleClose']); // quietly: no log line
      expect(stdout).toBe('');
    }
    expect(d.connected).toBe(false);
    expect(map.size).toBe(0);
  });
});

describe('connect to a refused port (item 17)', () => {
  test.each(PASSES)('TCP: ECONNREFUSED goes to handleError, which closes; no write or connect handler runs ($pass pass)', ({ usePoll }) => {
    const probe = new socket.Socket(AF_INET);
    probe.bind(['127.0.0.1', 0]);
    const port = (probe.getsockname() as [string, number])[1];
    probe.close(); // nobody listens on `port` now
    const calls: string[] = [];
    class C extends Dispatcher {
      override handleConnect(): void {
        calls.push('connect');
      }
      override handleWrite(): void {
        calls.push('write');
      }
      override handleRead(): void {
        calls.push('read');
      }
      override handleError(err: unknown): void {
        calls.push(`error:${(err as OSError).code}`);
        super.handleError(err);
      }
      override handleClose(): void {
        calls.push('close');
        this.close();
      }
    }
    const c = new C(null, map);
    c.createSocket(AF_INET);
    let immediate: unknown;
    try {
      c.connect(['127.0.0.1', port]);
    } catch (err) {
      immediate = err; // some kernels refuse a loopback connect at once
    }
    if (immediate !== undefined) {
      expect((immediate as OSError).code).toBe('ECONNREFUSED');
      return;
    }
    const { stdout } = captureOutput(() => loopUntil(() => calls.length > 0, { usePoll, map }));
    // select: readable and writable; the read pass raises from handleConnectEvent -> handleError (logs,
    // closes), so the write pass skips the fd. poll: POLLIN|POLLOUT|POLLERR|POLLHUP in one readwrite;
    // ECONNREFUSED is not a disconnect errno, so it also goes to handleError and stops the other bits.
    expect(calls).toEqual(['error:ECONNREFUSED', 'close']);
    expect(lines(stdout)).toHaveLength(1);
    expect(stdout).toContain('ECONNREFUSED');
    expect(c.connected).toBe(false);
    expect(c.connecting).toBe(false);
    expect(map.size).toBe(0);
  });
});

describe('idle passes and timeouts (items 11, 14, 18, 19, 21)', () => {
  test('an empty map returns at once from poll, poll2 and loop, whatever the timeout', () => {
    const empty: SocketMap = new Map();
    const t0 = Date.now();
    poll(30, empty);
    poll2(30, empty);
    poll3(30, empty);
    loop({ timeout: 30, map: empty });
    loop({ timeout: 30, usePoll: true, map: empty, count: 5 });
    expect(Date.now() - t0).toBeLessThan(5000); // any wait at all would take 30 s
  });

  test.each(PASSES)('an idle map (no channel readable or writable) still waits for the timeout ($pass pass)', ({ pass, usePoll }) => {
    let asked = 0;
    class Idle extends Dispatcher {
      override readable(): boolean {
        asked++;
        return false;
      }
      override writable(): boolean {
        asked++;
        return false;
      }
    }
    const [a, b] = socket.socketpair();
    track(b);
    new Idle(a, map);
    const select = jest.spyOn(binding, 'selectInto');
    const t0 = process.hrtime.bigint();
    loop({ timeout: 0.25, usePoll, map, count: 1 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(240);
    expect(asked).toBe(2); // readable() and writable(), once each
    expect(select).not.toHaveBeenCalled(); // select pass: time.sleep(timeout) instead of select (item 14)
    if (pass === 'select') {
      // ... so a null timeout there is a TypeError, not "block forever"
      expect(() => poll(null, map)).toThrow(TypeError);
    }
  });

  test('the idle select pass does not call select(): a closed fd there raises nothing', () => {
    class Idle extends Dispatcher {
      override readable(): boolean {
        return false;
      }
      override writable(): boolean {
        return false;
      }
    }
    const s = new socket.Socket(AF_INET);
    const d = new Idle(s, map);
    s.close(); // the map still holds its old number
    expect(map.has(d._fileno!)).toBe(true);
    expect(() => poll(0.01, map)).not.toThrow();
  });

  test('poll2 truncates the timeout to whole milliseconds; select gets the exact seconds (item 18)', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const d = new Recorder(a, map); // readable, idle: the pass waits for the whole timeout
    void d;
    const pollInto = jest.spyOn(binding, 'pollInto');
    const selectInto = jest.spyOn(binding, 'selectInto');
    const msFor = (timeout: number | null): number => {
      pollInto.mockClear();
      poll2(timeout, map);
      return pollInto.mock.calls[0][4] as number;
    };
    expect(msFor(0.0009)).toBe(0); // never blocks
    expect(msFor(0.0019)).toBe(1);
    expect(msFor(0.0299)).toBe(29);
    expect(msFor(0.01)).toBe(10);
    expect(msFor(0)).toBe(0);
    b.send('x'); // from here the fd is ready, so the "forever" cases return at once
    expect(msFor(null)).toBe(-1);
    expect(msFor(-1)).toBe(-1); // negative: forever, as poll(2)
    expect(msFor(-0.0001) === 0).toBe(true); // int(-0.1) is 0 in Python too (here -0, which poll(2) takes as 0)
    a.recv(1);
    // the select pass hands the float through untouched
    poll(0.0009, map);
    expect(selectInto.mock.calls[0][3]).toBe(0.0009);
    // and a negative select timeout escapes as an error (ValueError in CPython)
    expect(() => poll(-1, map)).toThrow(/non-negative/);
  });

  test('poll2 with a truncated 0 ms timeout really does not block', () => {
    const [a, b] = socket.socketpair();
    track(b);
    new Recorder(a, map);
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) poll2(0.0009, map);
    // 20 passes of a real 1 ms wait would take ≥ 20 ms; 0 ms takes microseconds. The bound is loose.
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('closed and high fds (items 15, 23)', () => {
  test.each(PASSES)('a closed fd in the map: EBADF out of the select pass, POLLNVAL -> handleClose in the poll pass ($pass pass)', ({ pass, usePoll }) => {
    const [a, b] = socket.socketpair();
    track(b);
    const calls: string[] = [];
    class D extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      override handleClose(): void {
        calls.push('close');
        (this.socket as socket.Socket).detach(); // the number is already closed: never close it again
        this.close();
      }
      override handleError(err: unknown): void {
        calls.push(`error:${(err as Error).message}`);
      }
    }
    const d = new D(a, map);
    binding.close(a.fileno()); // behind the dispatcher's back
    if (pass === 'select') {
      let err: unknown;
      try {
        loop({ timeout: 0.01, usePoll, map, count: 1 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OSError);
      expect((err as OSError).errno).toBe(E.EBADF);
      expect(calls).toEqual([]); // not routed to a handler: it escapes loop()
      expect(map.get(d._fileno!)).toBe(d);
      a.detach();
    } else {
      expect(() => loop({ timeout: 0.01, usePoll, map, count: 1 })).not.toThrow();
      expect(calls).toEqual(['close']);
      expect(map.size).toBe(0);
    }
  });

  test('an fd of FD_SETSIZE or more: a clear RangeError out of the select loop; the poll pass serves it', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const hfd = highFdDup(a.fileno());
    a.close();
    if (hfd === null) return; // the fd limit is below FD_SETSIZE here
    expect(hfd).toBeGreaterThanOrEqual(select.FD_SETSIZE);
    const sock = new socket.Socket(AF_UNIX, SOCK_STREAM, 0, hfd);
    const d = new Recorder(sock, map);
    expect(d._fileno).toBe(hfd);
    b.send('hi');
    let err: unknown;
    try {
      loop({ timeout: 0.01, usePoll: false, map, count: 1 });
    } catch (e) {
      err = e;
    }
    // thrown by the addon, so from Node's own realm rather than jest's sandbox: compare by name
    expect((err as Error).name).toBe('RangeError');
    expect((err as Error).message).toMatch(/FD_SETSIZE|1024/);
    expect((err as Error).message).toMatch(/poll/);
    expect(d.events).toEqual([]); // not routed to handleError
    expect(map.get(hfd)).toBe(d);
    // the poll pass has no such limit
    expect(loopUntil(() => d.events.includes('read'), { usePoll: true, map })).toBe(true);
    d.close();
    expect(isFdOpen(hfd)).toBe(false);
  });
});

describe('the fd-reuse race (item 16, bpo-30931)', () => {
  test.each(PASSES)('a stale event for a closed channel reaches a new channel with the same fd in the same pass ($pass pass)', ({ usePoll }) => {
    // Documented asyncore behaviour: the pass looks each ready fd up again in the map, so a channel
    // that took over a freed fd number during the pass receives the old channel's event.
    const [a, aPeer] = socket.socketpair();
    const [b, bPeer] = socket.socketpair();
    track(aPeer);
    track(bPeer);
    const spare: socket.Socket[] = [];
    let newcomer: Recorder | undefined;
    class Closer extends Recorder {
      victim: Recorder | undefined;
      override handleRead(): void {
        this.events.push('read');
        this.recv(10);
        const fd = this.victim!._fileno!;
        this.victim!.close();
        // take the freed number (the lowest free fd is handed out first)
        for (let i = 0; i < 2000 && newcomer === undefined; i++) {
          const s = new socket.Socket(AF_UNIX);
          if (s.fileno() === fd) newcomer = new Recorder(s, map);
          else spare.push(s);
        }
      }
    }
    const first = new Closer(a, map); // inserted first: served first
    const victim = new Recorder(b, map);
    first.victim = victim;
    aPeer.send('1');
    bPeer.send('2');
    try {
      // wait until both are readable, then run exactly one pass
      const pollster = select.poll();
      pollster.register(a.fileno(), select.POLLIN);
      pollster.register(b.fileno(), select.POLLIN);
      for (let i = 0; i < 500 && pollster.poll(10).length < 2; i++);
      loop({ timeout: 1, usePoll, map, count: 1 });
    } finally {
      for (const s of spare) s.close();
    }
    expect(first.events).toEqual(['read']);
    expect(newcomer).toBeDefined();
    expect(victim.events).toEqual([]); // closed before its turn
    expect(newcomer!.connected).toBe(false); // a fresh, unconnected socket with no data ...
    expect(newcomer!.events).toEqual(['read']); // ... that got the victim's read event
  });

  test.each(PASSES)('a channel closed earlier in the pass is skipped when its number stays free ($pass pass)', ({ usePoll }) => {
    const [a, aPeer] = socket.socketpair();
    const [b, bPeer] = socket.socketpair();
    track(aPeer);
    track(bPeer);
    class Closer extends Recorder {
      victim: Recorder | undefined;
      override handleRead(): void {
        this.events.push('read');
        this.recv(10);
        this.victim!.close();
      }
    }
    const first = new Closer(a, map);
    const victim = new Recorder(b, map);
    first.victim = victim;
    aPeer.send('1');
    bPeer.send('2');
    const pollster = select.poll();
    pollster.register(a.fileno(), select.POLLIN);
    pollster.register(b.fileno(), select.POLLIN);
    for (let i = 0; i < 500 && pollster.poll(10).length < 2; i++);
    loop({ timeout: 1, usePoll, map, count: 1 });
    expect(first.events).toEqual(['read']);
    expect(victim.events).toEqual([]);
  });
});

describe('dispatch order and what a pass asks (items 12, 13, 16, 20, 22)', () => {
  test.each(PASSES)('$pass pass order', ({ pass, usePoll }) => {
    const order: string[] = [];
    class Both extends Dispatcher {
      constructor(
        sock: socket.Socket,
        m: SocketMap,
        readonly tag: string,
      ) {
        super(sock, m);
      }
      override handleRead(): void {
        this.recv(10);
        order.push(`${this.tag}:read`);
      }
      override handleWrite(): void {
        order.push(`${this.tag}:write`);
      }
    }
    const [a, aPeer] = socket.socketpair();
    const [b, bPeer] = socket.socketpair();
    track(aPeer);
    track(bPeer);
    new Both(a, map, 'A');
    new Both(b, map, 'B');
    aPeer.send('1');
    bPeer.send('2');
    const pollster = select.poll();
    pollster.register(a.fileno(), select.POLLIN);
    pollster.register(b.fileno(), select.POLLIN);
    for (let i = 0; i < 500 && pollster.poll(10).length < 2; i++);
    loop({ timeout: 1, usePoll, map, count: 1 });
    // select: every reader, then every writer. poll: each fd's flags together, in map order.
    expect(order).toEqual(pass === 'select' ? ['A:read', 'B:read', 'A:write', 'B:write'] : ['A:read', 'A:write', 'B:read', 'B:write']);
  });

  test.each(PASSES)('every pass asks readable() then writable() of every channel, listeners included; a listener is never handed a write ($pass pass)', ({ usePoll }) => {
    const asked: string[] = [];
    class L extends Dispatcher {
      override readable(): boolean {
        asked.push('readable');
        return true;
      }
      override writable(): boolean {
        asked.push('writable');
        return true;
      }
      override handleWrite(): void {
        asked.push('handleWrite');
      }
      override handleAccept(): void {
        asked.push('handleAccept');
      }
    }
    const l = new L(null, map);
    l.createSocket(AF_INET);
    l.bind(['127.0.0.1', 0]);
    l.listen(5);
    const pollInto = jest.spyOn(binding, 'pollInto');
    loop({ timeout: 0.01, usePoll, map, count: 3 });
    expect(asked).toEqual(['readable', 'writable', 'readable', 'writable', 'readable', 'writable']);
    if (usePoll) {
      // registered for POLLIN|POLLPRI only: accepting sockets are not asked for POLLOUT (item 20)
      expect(pollInto.mock.calls[0][1][0]).toBe(select.POLLIN | select.POLLPRI);
    }
  });
});

describe('loop() count, map and call forms (items 25-27)', () => {
  class Counter extends Dispatcher {
    passes = 0;
    override readable(): boolean {
      this.passes++;
      return false;
    }
    override writable(): boolean {
      return true;
    }
    override handleWrite(): void {}
  }

  test.each(PASSES)('count <= 0 does nothing; count n runs n passes whether or not anything happened ($pass pass)', ({ usePoll }) => {
    const [a, b] = socket.socketpair();
    track(b);
    const c = new Counter(a, map);
    loop({ timeout: 0.01, usePoll, map, count: 0 });
    loop({ timeout: 0.01, usePoll, map, count: -3 });
    expect(c.passes).toBe(0);
    loop({ timeout: 0.01, usePoll, map, count: 3 });
    expect(c.passes).toBe(3);
    // idle passes count too
    class Idle extends Counter {
      override writable(): boolean {
        return false;
      }
    }
    const m2: SocketMap = new Map();
    const [x, y] = socket.socketpair();
    track(y);
    const idle = new Idle(x, m2);
    try {
      loop({ timeout: 0.001, usePoll, map: m2, count: 4 });
      expect(idle.passes).toBe(4);
    } finally {
      closeAll(m2, true);
    }
  });

  test.each(PASSES)('without a count it runs until the map is empty ($pass pass)', ({ usePoll }) => {
    const [a, b] = socket.socketpair();
    track(b);
    let writes = 0;
    class SelfClosing extends Dispatcher {
      override readable(): boolean {
        return false;
      }
      override handleWrite(): void {
        if (++writes === 5) this.close();
      }
    }
    new SelfClosing(a, map);
    loop({ timeout: 1, usePoll, map });
    expect(writes).toBe(5);
    expect(map.size).toBe(0);
  });

  test('the positional form loop(timeout, usePoll, map, count)', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const c = new Counter(a, map);
    const pollInto = jest.spyOn(binding, 'pollInto');
    const selectInto = jest.spyOn(binding, 'selectInto');
    loop(0.01, true, map, 2);
    expect(c.passes).toBe(2);
    expect(pollInto).toHaveBeenCalledTimes(2);
    expect(pollInto.mock.calls[0][4]).toBe(10);
    expect(selectInto).not.toHaveBeenCalled();
    loop(0.02, false, map, 3);
    expect(c.passes).toBe(5);
    expect(selectInto).toHaveBeenCalledTimes(3);
    expect(selectInto.mock.calls[0][3]).toBe(0.02);
    // timeout null: poll waits forever (-1), here on a ready fd
    pollInto.mockClear();
    loop(null, true, map, 1);
    expect(pollInto.mock.calls[0][4]).toBe(-1);
    // timeout left out: 30 s (the channel is ready, so nothing waits)
    selectInto.mockClear();
    loop(undefined, false, map, 1);
    expect(selectInto.mock.calls[0][3]).toBe(30);
    // map left out: the default socketMap, which is empty here
    expect(socketMap.size).toBe(0);
    loop(30, false);
    expect(c.passes).toBe(7);
  });

  test('a null map means the default socketMap everywhere (item 2)', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const c = new Counter(a, null);
    expect(socketMap.get(a.fileno())).toBe(c);
    poll(0, null);
    poll2(0, null);
    loop({ timeout: 0, map: null, count: 1 });
    loop(0, true, null, 1);
    expect(c.passes).toBe(4);
    closeAll(null);
    expect(socketMap.size).toBe(0);
    expect(a.fileno()).toBe(-1);
  });

  test('backend overrides usePoll', () => {
    const [a, b] = socket.socketpair();
    track(b);
    new Counter(a, map);
    const pollInto = jest.spyOn(binding, 'pollInto');
    loop({ timeout: 0.01, usePoll: false, backend: 'poll', map, count: 1 });
    expect(pollInto).toHaveBeenCalledTimes(1);
  });

  test.each(PASSES)('errors of the wait itself propagate out of loop() ($pass pass)', ({ pass, usePoll }) => {
    const [a, b] = socket.socketpair();
    track(b);
    new Counter(a, map);
    if (pass === 'select') {
      expect(() => loop({ timeout: -1, usePoll, map, count: 1 })).toThrow(/non-negative/);
    } else {
      expect(() => loop({ timeout: 'soon' as unknown as number, usePoll, map, count: 1 })).toThrow(TypeError);
    }
  });
});

describe('EINTR (item 28)', () => {
  test.each(PASSES)('a signal during the wait neither ends nor shortens it ($pass pass)', async ({ usePoll }) => {
    // A child's exit sends SIGCHLD, which Node handles; it interrupts the blocked select()/poll()
    // of the main thread. The wait must be retried with the time left, as PEP 475 does.
    const [a, b] = socket.socketpair();
    track(b);
    new Recorder(a, map); // readable, no data: the pass waits for the whole timeout
    const child = spawn('sleep', ['0.2'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    try {
      const t0 = process.hrtime.bigint();
      expect(() => loop({ timeout: 1.0, usePoll, map, count: 1 })).not.toThrow();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(ms).toBeGreaterThanOrEqual(980);
    } finally {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    }
  });
});

describe('fd hygiene', () => {
  (hasProcFd ? test : test.skip)('a full exchange (listen, connect, accept, send, close, closeAll) leaves /proc/self/fd unchanged', () => {
    const before = openFds();
    const m: SocketMap = new Map();
    const p = tmpUnixPath('fds');
    const received: Buffer[] = [];
    class Handler extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        received.push(this.recv(100));
      }
      override handleClose(): void {
        this.close();
      }
    }
    class Server extends Dispatcher {
      override handleAccepted(sock: socket.Socket): void {
        new Handler(sock, m);
      }
    }
    class Client extends Dispatcher {
      sent = false;
      override readable(): boolean {
        return false;
      }
      override writable(): boolean {
        return !this.sent;
      }
      override handleConnect(): void {}
      override handleWrite(): void {
        this.send('payload');
        this.sent = true;
      }
    }
    for (const [family, addr] of [
      [AF_INET, ['127.0.0.1', 0]],
      [AF_UNIX, p],
    ] as const) {
      const srv = new Server(null, m);
      srv.createSocket(family);
      srv.setReuseAddr();
      srv.bind(addr as string);
      srv.listen(5);
      const cli = new Client(null, m);
      cli.createSocket(family);
      cli.connect((srv.socket as socket.Socket).getsockname());
      expect(loopUntil(() => Buffer.concat(received).toString() === 'payload', { usePoll: family === AF_UNIX, map: m })).toBe(true);
      received.length = 0;
      cli.close();
      cli.close();
      closeAll(m);
    }
    expect(m.size).toBe(0);
    unlinkTmpPaths();
    const after = openFds();
    expect([...after].filter((fd) => !before.has(fd))).toEqual([]);
    expect(fdCount()).toBe(before.size);
  });
});
