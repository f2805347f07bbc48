/**
 * Faults on real sockets (issue #7): a peer that resets mid-stream, a peer
 * that half-closes, EPIPE on send, a refused connect, and a connect to a peer
 * that never answers, given up on by the handler's own timer.
 *
 * Each scenario runs on every backend loop() takes, next to a healthy echo
 * pair that streams through the whole scenario; afterwards every byte of the
 * healthy stream must have come back, in order, with no error on its channels.
 */
import './fixtures/faults';
import { constants as osConstants } from 'node:os';
import { DISCONNECTED, Dispatcher, DispatcherWithSend, OSError, socket, type SocketMap } from '../lib';
import {
  drain,
  faultBackends,
  firstMismatch,
  HealthyPair,
  rawListener,
  recordRaised,
  runUntil,
  setAbortiveClose,
  sleepSync,
  streamChunk,
  type BackendName,
} from './fixtures/faults';

const E = osConstants.errno;
const backends = faultBackends();

jest.setTimeout(60000);

function errnoOf(err: unknown): string {
  return err instanceof OSError ? err.code : String(err);
}

/** A listener whose accepted sockets go to `make`. */
class Listener extends Dispatcher {
  port: number;
  errors: unknown[] = [];
  constructor(
    map: SocketMap,
    private readonly make: (sock: socket.Socket) => void,
  ) {
    super(null, map);
    this.createSocket();
    this.setReuseAddr();
    this.bind(['127.0.0.1', 0]);
    this.listen(16);
    this.port = ((this.socket as socket.Socket).getsockname() as [string, number])[1];
  }
  override writable(): boolean {
    return false;
  }
  override handleAccepted(sock: socket.Socket): void {
    this.make(sock);
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

// ---- peer reset mid-stream -------------------------------------------------------------------

/** The server side of the reset: streams to the peer (mode 'writer') or reads slowly (mode 'reader'). */
class ResetVictim extends Dispatcher {
  sentOut = 0;
  got = 0;
  corruptAt = -1;
  closes = 0;
  errors: unknown[] = [];
  raised: string[] = [];
  constructor(
    sock: socket.Socket,
    map: SocketMap,
    readonly mode: 'writer' | 'reader',
  ) {
    super(sock, map);
    recordRaised(sock, this.raised);
  }
  override readable(): boolean {
    return true;
  }
  override writable(): boolean {
    return this.mode === 'writer' && this.sentOut < 64 << 20;
  }
  override handleWrite(): void {
    this.sentOut += this.send(streamChunk(7, this.sentOut, 65536));
  }
  override handleRead(): void {
    const d = this.recv(this.mode === 'reader' ? 1024 : 65536);
    const bad = firstMismatch(8, this.got, d);
    if (bad >= 0 && this.corruptAt < 0) this.corruptAt = this.got + bad;
    this.got += d.length;
  }
  override handleClose(): void {
    this.closes++;
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

/** Connects, sends 128 KiB, reads until it has `readBeforeReset` bytes, then resets (SO_LINGER 0 + close). */
class Resetter extends Dispatcher {
  sent = 0;
  got = 0;
  reset = false;
  errors: unknown[] = [];
  constructor(
    map: SocketMap,
    port: number,
    readonly readBeforeReset: number,
  ) {
    super(null, map);
    this.createSocket();
    this.connect(['127.0.0.1', port]);
  }
  override writable(): boolean {
    return !this.connected || this.sent < 128 * 1024;
  }
  override handleConnect(): void {}
  override handleWrite(): void {
    if (this.sent < 128 * 1024) this.sent += this.send(streamChunk(8, this.sent, 16384));
    if (this.readBeforeReset === 0 && this.sent >= 128 * 1024) this.resetNow();
  }
  override handleRead(): void {
    this.got += this.recv(65536).length;
    if (this.got >= this.readBeforeReset) this.resetNow();
  }
  resetNow(): void {
    if (this.reset) return;
    this.reset = true;
    setAbortiveClose(this.socket as socket.Socket);
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

// ---- half-close ------------------------------------------------------------------------------

const TRAILER = Buffer.from('BYE: sent after your FIN\n');

/** Echoes; at EOF (the peer's SHUT_WR) it stops reading, sends a trailer, drains, and only then closes. */
class HalfCloseServer extends DispatcherWithSend {
  got = 0;
  sawEof = false;
  closes = 0;
  errors: unknown[] = [];
  override readable(): boolean {
    return !this.sawEof;
  }
  override writable(): boolean {
    return this.outBuffer.length > 0;
  }
  override handleRead(): void {
    const d = this.recv(65536);
    this.got += d.length;
    if (d.length > 0) this.send(d);
  }
  override handleWrite(): void {
    this.initiateSend();
    if (this.sawEof && this.outBuffer.length === 0) this.close();
  }
  override handleClose(): void {
    this.closes++;
    if (!this.sawEof && this.connected) {
      // recv() gave b'': the peer shut down its sending side. Ours is still open.
      this.sawEof = true;
      this.send(TRAILER);
      if (this.outBuffer.length === 0) this.close();
      return;
    }
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

/** Sends `total` bytes, shuts down its sending side, and reads everything the server sends until EOF. */
class HalfCloser extends Dispatcher {
  sent = 0;
  shut = false;
  got: Buffer[] = [];
  gotLen = 0;
  eof = false;
  errors: unknown[] = [];
  constructor(
    map: SocketMap,
    port: number,
    readonly total: number,
  ) {
    super(null, map);
    this.createSocket();
    this.connect(['127.0.0.1', port]);
  }
  override readable(): boolean {
    return !this.eof;
  }
  override writable(): boolean {
    return !this.connected || !this.shut;
  }
  override handleConnect(): void {}
  override handleWrite(): void {
    if (this.sent < this.total) this.sent += this.send(streamChunk(9, this.sent, Math.min(16384, this.total - this.sent)));
    if (this.sent >= this.total && !this.shut) {
      this.shut = true;
      (this.socket as socket.Socket).shutdown(socket.SHUT_WR);
    }
  }
  /**
   * Drain until EAGAIN or EOF. Under poll a half-closed socket gets POLLHUP
   * together with POLLIN once the peer's FIN arrives, and readwrite() calls
   * handleClose right after this handleRead (asyncore item 10): whatever is
   * left unread then is dropped. Reading until EAGAIN loses nothing.
   */
  override handleRead(): void {
    for (;;) {
      let d: Buffer;
      try {
        d = this.recv(65536);
      } catch (err) {
        if (err instanceof OSError && err.errno === E.EAGAIN) return;
        throw err;
      }
      if (d.length === 0) return; // EOF: handleClose has run
      this.got.push(d);
      this.gotLen += d.length;
    }
  }
  override handleClose(): void {
    this.eof = true;
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

// ---- EPIPE -------------------------------------------------------------------------------------

/** Sends without pause; records each send()'s return value and the errno the socket raised under it. */
class Pusher extends Dispatcher {
  returns: number[] = [];
  raised: string[] = [];
  inSend = false;
  closedInSend = 0;
  closes = 0;
  errors: unknown[] = [];
  sentOut = 0;
  constructor(sock: socket.Socket, map: SocketMap) {
    super(sock, map);
    const s = this.socket as socket.Socket;
    const raw = s.send.bind(s);
    s.send = (data, flags) => {
      try {
        return raw(data, flags);
      } catch (err) {
        this.raised.push(errnoOf(err));
        throw err;
      }
    };
  }
  override readable(): boolean {
    return false;
  }
  override writable(): boolean {
    return true;
  }
  override handleWrite(): void {
    this.inSend = true;
    try {
      const n = this.send(streamChunk(10, this.sentOut, 65536));
      this.sentOut += n;
      this.returns.push(n);
    } finally {
      this.inSend = false;
    }
  }
  override handleClose(): void {
    this.closes++;
    if (this.inSend) this.closedInSend++;
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

/** Connects, then closes as soon as the connect completes (the peer of a Pusher). */
class Quitter extends Dispatcher {
  quit = false;
  constructor(map: SocketMap, port: number) {
    super(null, map);
    this.createSocket();
    this.connect(['127.0.0.1', port]);
  }
  override readable(): boolean {
    return false;
  }
  override writable(): boolean {
    return !this.connected;
  }
  override handleConnect(): void {}
  override handleWrite(): void {
    this.quit = true;
    this.close();
  }
}

// ---- connect failures -----------------------------------------------------------------------------

/** Records what a connect ends in. With `giveUpMs`, it closes itself once connecting took longer (its own timer). */
class Connector extends Dispatcher {
  connects = 0;
  errors: unknown[] = [];
  closes = 0;
  timedOut = false;
  connectThrew: unknown = null;
  readonly started = Date.now();
  gaveUpAfterMs = -1;
  constructor(
    map: SocketMap,
    port: number,
    readonly giveUpMs = 0,
  ) {
    super(null, map);
    this.createSocket();
    try {
      this.connect(['127.0.0.1', port]);
    } catch (err) {
      this.connectThrew = err;
    }
  }
  /**
   * asyncore has no timers: the check runs in readable(), which the loop asks
   * every pass. Closing here is safe because writable() (asked right after)
   * then answers false too, so the closed fd is never handed to select/poll.
   */
  override readable(): boolean {
    if (this.giveUpMs > 0 && this.connecting && !this.timedOut && Date.now() - this.started >= this.giveUpMs) {
      this.timedOut = true;
      this.gaveUpAfterMs = Date.now() - this.started;
      this.close();
    }
    return !this.timedOut;
  }
  override writable(): boolean {
    return !this.timedOut && !this.connected;
  }
  override handleConnect(): void {
    this.connects++;
  }
  override handleWrite(): void {}
  override handleRead(): void {}
  override handleClose(): void {
    this.closes++;
    this.close();
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
}

describe.each(backends)('faults on real sockets, %s backend', (backend: BackendName) => {
  let map: SocketMap;
  beforeEach(() => {
    map = new Map();
  });
  afterEach(() => drain(map));

  test.each(['writer', 'reader'] as const)('peer reset mid-stream (victim is a %s): handleClose, no handleError, healthy stream intact', (mode) => {
    const healthy = new HealthyPair(map, 11);
    const victims: ResetVictim[] = [];
    const listener = new Listener(map, (sock) => victims.push(new ResetVictim(sock, map, mode)));
    // The writer's peer reads 256 KiB of the victim's stream then resets; the reader's peer resets right after sending.
    const resetter = new Resetter(map, listener.port, mode === 'writer' ? 256 * 1024 : 0);
    runUntil(() => resetter.reset && victims.length === 1 && (victims[0].closes > 0 || victims[0].errors.length > 0), 'the victim to see the reset', { backend, map });
    const v = victims[0];
    expect(v.errors.map(errnoOf)).toEqual([]);
    // Under it, the socket raised only disconnect errnos (or none: poll may report POLLERR|POLLHUP first).
    for (const code of v.raised) expect(['ECONNRESET', 'EPIPE']).toContain(code);
    expect(v.closes).toBeGreaterThanOrEqual(1); // poll may call it twice (recv, then POLLHUP): item 10
    expect([...map.values()]).not.toContain(v);
    expect(v.corruptAt).toBe(-1); // whatever arrived before the reset is an intact prefix
    expect(v.got).toBeLessThanOrEqual(resetter.sent);
    expect(resetter.errors).toEqual([]);
    expect(listener.errors).toEqual([]);
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('peer half-close: the other side reads EOF (handleClose) and the half-closed side still receives what is sent after', () => {
    const healthy = new HealthyPair(map, 12);
    const servers: HalfCloseServer[] = [];
    const listener = new Listener(map, (sock) => servers.push(new HalfCloseServer(sock, map)));
    const total = 300 * 1000;
    const client = new HalfCloser(map, listener.port, total);
    runUntil(() => client.eof || client.errors.length > 0, 'the half-closed client to reach EOF', { backend, map });
    const s = servers[0];
    expect(client.errors.map(errnoOf)).toEqual([]);
    expect(s.errors.map(errnoOf)).toEqual([]);
    expect(s.sawEof).toBe(true);
    expect(s.got).toBe(total); // every byte before the FIN arrived, then EOF
    const all = Buffer.concat(client.got);
    expect(all.length).toBe(total + TRAILER.length);
    expect(firstMismatch(9, 0, all.subarray(0, total))).toBe(-1);
    expect(all.subarray(total).equals(TRAILER)).toBe(true); // sent after the server saw our SHUT_WR
    expect([...map.values()]).not.toContain(s);
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('half-closed side, peer FIN while bytes are unread: one recv per event keeps all of them only under select; draining keeps them everywhere', () => {
    const healthy = new HealthyPair(map, 17);
    const total = 60000; // fits in the receive buffer, so the FIN arrives behind it
    const result = (drainAll: boolean): { got: number; closes: number } => {
      const [l, port] = rawListener(1);
      const c = new socket.Socket();
      c.connect(['127.0.0.1', port]);
      const [s] = l.accept();
      l.close();
      c.shutdown(socket.SHUT_WR);
      s.sendall(streamChunk(18, 0, total));
      s.close();
      sleepSync(50); // let the FIN land behind the data
      const r = { got: 0, closes: 0 };
      class Reader extends Dispatcher {
        override writable(): boolean {
          return false;
        }
        override handleRead(): void {
          do {
            let d: Buffer;
            try {
              d = this.recv(4096);
            } catch (err) {
              if (err instanceof OSError && err.errno === E.EAGAIN) return;
              throw err;
            }
            if (d.length === 0) return;
            r.got += d.length;
          } while (drainAll);
        }
        override handleClose(): void {
          r.closes++;
          this.close();
        }
      }
      const reader = new Reader(c, map);
      runUntil(() => r.closes > 0, 'the reader to close', { backend, map });
      expect([...map.values()]).not.toContain(reader);
      return r;
    };
    const oneRecv = result(false);
    const draining = result(true);
    expect(draining.got).toBe(total);
    // asyncore's own behaviour, checked on CPython 3.11: select reads on until recv() gives b''; poll2
    // sees POLLIN|POLLHUP and calls handle_close right after one handle_read, dropping the rest.
    if (backend === 'select') expect(oneRecv.got).toBe(total);
    // epoll hands readwrite() the same flags as poll (POLLIN|POLLHUP), so it does the same.
    if (backend === 'poll' || backend === 'epoll') expect(oneRecv.got).toBe(4096);
    expect(oneRecv.got).toBeLessThanOrEqual(total);
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('EPIPE on send (TCP): send() returns 0 and handleClose runs; no handleError, no SIGPIPE', async () => {
    let sigpipes = 0;
    const onPipe = (): void => {
      sigpipes++;
    };
    process.on('SIGPIPE', onPipe);
    try {
      const healthy = new HealthyPair(map, 13);
      const pushers: Pusher[] = [];
      const listener = new Listener(map, (sock) => pushers.push(new Pusher(sock, map)));
      const q = new Quitter(map, listener.port);
      runUntil(() => q.quit && pushers.length === 1 && (pushers[0].closes > 0 || pushers[0].errors.length > 0), 'the pusher to hit the closed peer', { backend, map });
      const p = pushers[0];
      expect(p.errors.map(errnoOf)).toEqual([]);
      expect(p.raised.length).toBeGreaterThanOrEqual(1);
      for (const code of p.raised) expect(['EPIPE', 'ECONNRESET']).toContain(code);
      expect(p.returns[p.returns.length - 1]).toBe(0); // the failing send returned 0 ...
      expect(p.closedInSend).toBeGreaterThanOrEqual(1); // ... after routing the disconnect to handleClose
      expect(healthy.settle(backend)).toEqual([]);
    } finally {
      await new Promise((r) => setTimeout(r, 50)); // a SIGPIPE would be delivered to JS by now
      process.off('SIGPIPE', onPipe);
    }
    expect(sigpipes).toBe(0);
  });

  test('EPIPE on send (AF_UNIX, exactly EPIPE): send() returns 0, handleClose, loop goes on', () => {
    const healthy = new HealthyPair(map, 14);
    const [a, b] = socket.socketpair();
    b.close();
    const p = new Pusher(a, map);
    runUntil(() => p.closes > 0 || p.errors.length > 0, 'the pusher to see EPIPE', { backend, map });
    expect(p.errors).toEqual([]);
    expect(p.raised).toEqual(['EPIPE']); // exactly one failing send; the channel is closed after it
    expect(p.returns).toEqual([0]);
    expect(p.closedInSend).toBe(1);
    expect(DISCONNECTED.has(E.EPIPE)).toBe(true);
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('connection refused: handleError gets ECONNREFUSED (asyncore item 17), never handleConnect', () => {
    const healthy = new HealthyPair(map, 15);
    // A bound socket that does not listen: a SYN to it is answered with RST.
    const hole = new socket.Socket();
    hole.bind(['127.0.0.1', 0]);
    const port = (hole.getsockname() as [string, number])[1];
    try {
      const c = new Connector(map, port);
      if (c.connectThrew !== null) {
        // The kernel may refuse at once; asyncore then raises from connect() itself (item 42).
        expect(errnoOf(c.connectThrew)).toBe('ECONNREFUSED');
      } else {
        runUntil(() => c.errors.length > 0 || c.closes > 0 || c.connects > 0, 'the refused connect to finish', { backend, map });
        expect(c.errors.map(errnoOf)).toEqual(['ECONNREFUSED']);
        expect(c.connects).toBe(0);
        expect([...map.values()]).not.toContain(c); // the default-style handleError closed it
      }
    } finally {
      hole.close();
    }
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('connect to a peer that never answers: the handler gives up on its own timer and closes', () => {
    const healthy = new HealthyPair(map, 16);
    // A listener with backlog 0 that never accepts: after one connection fills its
    // queue, the kernel drops further SYNs, so a connect hangs in SYN_SENT (loopback only).
    const [full, port] = rawListener(0);
    const fillers: socket.Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const f = new socket.Socket();
        f.setblocking(false);
        f.connectEx(['127.0.0.1', port]);
        fillers.push(f);
        sleepSync(50);
      }
      const giveUpMs = 1000;
      const c = new Connector(map, port, giveUpMs);
      expect(c.connectThrew).toBeNull();
      const t0 = Date.now();
      runUntil(() => c.timedOut || c.connects > 0 || c.errors.length > 0 || c.closes > 0, 'the connector to give up', { backend, map, deadlineMs: 20000 });
      const took = Date.now() - t0;
      expect(c.connects).toBe(0);
      expect(c.errors).toEqual([]);
      expect(c.timedOut).toBe(true);
      expect(c.gaveUpAfterMs).toBeGreaterThanOrEqual(giveUpMs);
      expect(took).toBeLessThan(giveUpMs + 10000); // the per-pass timeout (50 ms) bounds the lateness; generous under load
      expect([...map.values()]).not.toContain(c);
      expect(c.socket!.fileno()).toBe(-1);
    } finally {
      for (const f of fillers) f.close();
      full.close();
    }
    expect(healthy.settle(backend)).toEqual([]);
  });
});
