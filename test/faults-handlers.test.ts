/**
 * Faults in handlers (issue #7): a handler that throws from each callback, a
 * handler that closes other channels in the middle of a pass, and an fd
 * number reused within one pass (bpo-30931).
 *
 * Each runs on every backend loop() takes, next to a healthy echo pair whose
 * every byte is checked: the loop must keep serving it through the fault.
 */
import './fixtures/faults';
import { constants as osConstants } from 'node:os';
import { Dispatcher, loop, OSError, socket, type SocketMap } from '../lib';
import { drain, EchoServer, faultBackends, HealthyPair, rawListener, runUntil, type BackendName } from './fixtures/faults';

const E = osConstants.errno;
const backends = faultBackends();

jest.setTimeout(60000);

type Callback = 'handleRead' | 'handleWrite' | 'handleConnect' | 'handleAccept' | 'handleClose' | 'handleExpt';

class Boom extends Error {
  override get name(): string {
    return 'Boom';
  }
}

/**
 * Throws a Boom from `which`. Everything else is quiet and safe. Its
 * handleError records the error and then does what the default does (log a
 * line, handleClose) — except for the handleClose thrower, whose default
 * handleError would call the throwing handleClose again: that one closes directly.
 */
class Thrower extends Dispatcher {
  errors: unknown[] = [];
  logged: string[] = [];
  stateAtError: { connected: boolean; connecting: boolean } | null = null;
  calls = 0;
  constructor(
    readonly which: Callback,
    sock: socket.Socket | null,
    map: SocketMap,
  ) {
    super(sock, map);
  }
  private boom(name: Callback): void {
    if (name === this.which) {
      this.calls++;
      throw new Boom(`boom from ${name}`);
    }
  }
  override logInfo(message: unknown, type = 'info'): void {
    this.logged.push(`${type}: ${String(message)}`);
  }
  override readable(): boolean {
    return this.which !== 'handleWrite' && this.which !== 'handleConnect';
  }
  override writable(): boolean {
    return this.which === 'handleWrite' || (this.which === 'handleConnect' && !this.connected);
  }
  override handleRead(): void {
    this.boom('handleRead');
    try {
      this.recv(1024); // may hit EOF (handleClose) — the handleClose thrower's trigger
    } catch (err) {
      if (!(err instanceof OSError && err.errno === E.EAGAIN)) throw err;
    }
  }
  override handleWrite(): void {
    this.boom('handleWrite');
  }
  override handleConnect(): void {
    this.boom('handleConnect');
  }
  override handleAccept(): void {
    const pair = this.accept();
    if (pair) pair[0].close();
    this.boom('handleAccept');
  }
  override handleClose(): void {
    this.boom('handleClose');
    this.close();
  }
  override handleExpt(): void {
    this.boom('handleExpt');
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.stateAtError = { connected: this.connected, connecting: this.connecting };
    if (this.which === 'handleClose') this.close();
    else super.handleError(err);
  }
}

/** Build a thrower in the state that makes the loop call `which`; returns it and what to close afterwards. */
function setUp(which: Callback, map: SocketMap): { t: Thrower; cleanup: Array<{ close(): void }> } {
  switch (which) {
    case 'handleRead': {
      const [a, b] = socket.socketpair();
      b.send('data');
      return { t: new Thrower(which, a, map), cleanup: [b] };
    }
    case 'handleWrite': {
      const [a, b] = socket.socketpair();
      return { t: new Thrower(which, a, map), cleanup: [b] };
    }
    case 'handleClose': {
      const [a, b] = socket.socketpair();
      b.close(); // the thrower reads EOF, and recv() calls handleClose
      return { t: new Thrower(which, a, map), cleanup: [] };
    }
    case 'handleConnect': {
      const server = new EchoServer(map);
      const t = new Thrower(which, null, map);
      t.createSocket();
      t.connect(['127.0.0.1', server.port]);
      return { t, cleanup: [server] };
    }
    case 'handleAccept': {
      const t = new Thrower(which, null, map);
      t.createSocket();
      t.bind(['127.0.0.1', 0]);
      t.listen(4);
      const c = new socket.Socket();
      c.setblocking(false);
      c.connectEx((t.socket as socket.Socket).getsockname());
      return { t, cleanup: [c] };
    }
    case 'handleExpt': {
      // Out-of-band data: select's exceptional set, poll's POLLPRI.
      const [l, port] = rawListener(1);
      const c = new socket.Socket();
      c.connect(['127.0.0.1', port]);
      const [s] = l.accept();
      l.close();
      c.send('!', socket.MSG_OOB);
      return { t: new Thrower(which, s, map), cleanup: [c] };
    }
  }
}

/** Readable channels that record every event; `killed` ones must get none after their close. */
class Victim extends Dispatcher {
  killed = false;
  eventsAfterKill = 0;
  reads = 0;
  writes = 0;
  errors: unknown[] = [];
  constructor(
    sock: socket.Socket,
    map: SocketMap,
    readonly wantWrite: boolean,
  ) {
    super(sock, map);
  }
  override writable(): boolean {
    return this.wantWrite;
  }
  override handleRead(): void {
    if (this.killed) this.eventsAfterKill++;
    this.reads++;
    this.recv(1024);
  }
  override handleWrite(): void {
    if (this.killed) this.eventsAfterKill++;
    this.writes++;
  }
  override handleExpt(): void {
    if (this.killed) this.eventsAfterKill++;
  }
  override handleClose(): void {
    if (this.killed) this.eventsAfterKill++;
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

/** On its first read it runs `onRead` (in the middle of a pass). */
class Trigger extends Dispatcher {
  fired = false;
  errors: unknown[] = [];
  constructor(
    sock: socket.Socket,
    map: SocketMap,
    private readonly onRead: () => void,
  ) {
    super(sock, map);
  }
  override writable(): boolean {
    return false;
  }
  override handleRead(): void {
    this.recv(1024);
    if (!this.fired) {
      this.fired = true;
      this.onRead();
    }
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

/** The channel that takes over a reused fd number: it tolerates a wakeup with nothing to read. */
class Newcomer extends Dispatcher {
  spurious = 0;
  data: Buffer[] = [];
  errors: unknown[] = [];
  override writable(): boolean {
    return false;
  }
  override handleRead(): void {
    try {
      const d = this.recv(1024);
      if (d.length > 0) this.data.push(d);
    } catch (err) {
      if (err instanceof OSError && err.errno === E.EAGAIN) {
        this.spurious++; // the stale event meant for the channel that had this fd before (bpo-30931)
        return;
      }
      throw err;
    }
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

describe.each(backends)('faults in handlers, %s backend', (backend: BackendName) => {
  let map: SocketMap;
  const held: Array<{ close(): void }> = [];
  beforeEach(() => {
    map = new Map();
  });
  afterEach(() => {
    drain(map);
    for (const h of held.splice(0)) h.close();
  });

  test.each<Callback>(['handleRead', 'handleWrite', 'handleConnect', 'handleAccept', 'handleClose', 'handleExpt'])(
    'a handler that throws from %s gets handleError; the loop serves the others on',
    (which) => {
      const healthy = new HealthyPair(map, 21);
      const { t, cleanup } = setUp(which, map);
      held.push(...cleanup);
      runUntil(() => t.errors.length > 0, `${which} to throw`, { backend, map });
      expect(t.calls).toBe(1);
      expect(t.errors).toHaveLength(1);
      expect(t.errors[0]).toBeInstanceOf(Boom);
      expect((t.errors[0] as Error).message).toBe(`boom from ${which}`);
      expect([...map.values()]).not.toContain(t); // handleError closed it
      if (which !== 'handleClose') {
        // The default handleError's line: the error's name and message, then it closed the channel.
        expect(t.logged).toHaveLength(1);
        expect(t.logged[0]).toMatch(/^error: uncaptured exception, closing channel <Thrower.* \(Boom:boom from /);
      }
      if (which === 'handleConnect') {
        // handleConnect ran before `connected` turned true, and threw: the state stayed "connecting" (item 48).
        expect(t.stateAtError).toEqual({ connected: false, connecting: true });
      }
      expect(healthy.settle(backend)).toEqual([]);
    },
  );

  test('a throwing handleClose with the default handleError escapes loop(), as in asyncore; the loop can be resumed', () => {
    const healthy = new HealthyPair(map, 22);
    const [a, b] = socket.socketpair();
    b.close();
    let closes = 0;
    class BadClose extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      override logInfo(): void {}
      override handleRead(): void {
        this.recv(16);
      }
      override handleClose(): void {
        closes++;
        throw new Boom('close failed');
      }
    }
    const bad = new BadClose(a, map);
    // handleRead → recv() → EOF → handleClose throws → handleError → handleClose throws again, outside any catch.
    expect(() => runUntil(() => false, 'never', { backend, map, deadlineMs: 5000 })).toThrow('close failed');
    expect(closes).toBe(2);
    expect([...map.values()]).toContain(bad); // nothing closed it
    bad.close();
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('a handler that closes other channels in the middle of a pass: they are skipped, with no error', () => {
    const healthy = new HealthyPair(map, 23);
    const peers: socket.Socket[] = [];
    const victims: Victim[] = [];
    const [ta, tb] = socket.socketpair();
    held.push(tb);
    // The trigger goes into the map before the victims, so select and poll dispatch it first.
    const trigger = new Trigger(ta, map, () => {
      for (const v of victims) {
        v.killed = true;
        v.close();
      }
    });
    for (let i = 0; i < 12; i++) {
      const [a, b] = socket.socketpair();
      b.send('ready');
      peers.push(b);
      victims.push(new Victim(a, map, i % 2 === 0)); // half of them also wait for writability
    }
    held.push(...peers);
    tb.send('go');
    runUntil(() => trigger.fired, 'the trigger to fire', { backend, map });
    for (let i = 0; i < 3; i++) loop({ backend, map, timeout: 0.01, count: 1 });
    for (const v of victims) {
      expect(v.eventsAfterKill).toBe(0);
      expect(v.errors).toEqual([]);
      expect([...map.values()]).not.toContain(v);
    }
    expect(trigger.errors).toEqual([]);
    if (backend !== 'epoll') {
      // select and poll dispatch in map order: the trigger ran first, so no victim was served at all.
      expect(victims.reduce((n, v) => n + v.reads + v.writes, 0)).toBe(0);
    }
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('an fd number reused within one pass: the stale event reaches the newcomer (bpo-30931); nothing breaks', () => {
    const healthy = new HealthyPair(map, 24);
    const [ta, tb] = socket.socketpair();
    const [va, vb] = socket.socketpair();
    held.push(tb, vb);
    let newcomer: Newcomer | null = null;
    let newcomerPeer: socket.Socket | null = null;
    let reusedFd = -1;
    const victim = new Victim(va, map, false);
    const trigger = new Trigger(ta, map, () => {
      const fd = victim._fileno!;
      victim.killed = true;
      victim.close();
      // Open socketpairs until one end gets the number the victim just gave up (the kernel hands out the lowest free fd).
      const spare: socket.Socket[] = [];
      for (let i = 0; i < 64 && newcomer === null; i++) {
        const [x, y] = socket.socketpair();
        if (x.fileno() === fd || y.fileno() === fd) {
          const [mine, theirs] = x.fileno() === fd ? [x, y] : [y, x];
          reusedFd = fd;
          newcomer = new Newcomer(mine, map);
          newcomerPeer = theirs;
        } else {
          spare.push(x, y);
        }
      }
      for (const s of spare) s.close();
    });
    // Both are ready in the same pass; the trigger is dispatched first under select and poll.
    map.delete(trigger._fileno!);
    map.delete(victim._fileno!);
    map.set(trigger._fileno!, trigger);
    map.set(victim._fileno!, victim);
    vb.send('for the victim');
    tb.send('go');
    expect(() => runUntil(() => trigger.fired, 'the trigger to fire', { backend, map })).not.toThrow();
    expect(newcomer).not.toBeNull();
    const n = newcomer as unknown as Newcomer;
    held.push(newcomerPeer as unknown as socket.Socket);
    expect(n._fileno).toBe(reusedFd);
    expect(victim.eventsAfterKill).toBe(0); // the closed victim itself got nothing
    if (backend !== 'epoll') expect(n.spurious).toBe(1); // asyncore's known wart: the stale event went to the newcomer
    expect(n.errors).toEqual([]);
    // The newcomer works normally afterwards: its own data arrives intact.
    (newcomerPeer as unknown as socket.Socket).send('hello newcomer');
    runUntil(() => n.data.length > 0, 'the newcomer to read its data', { backend, map });
    expect(Buffer.concat(n.data).toString()).toBe('hello newcomer');
    expect(trigger.errors).toEqual([]);
    expect(healthy.settle(backend)).toEqual([]);
  });
});
