/**
 * CPython's DispatcherTests and DispatcherWithSendTests (test_asyncore.py
 * 245-369), plus the dispatcher behaviour of checklist sections 6-12 that
 * CPython does not test: constructor branches, toString formats (item 33),
 * logging, the default handleError, flag order in listen/bind/connect,
 * accept/send/recv return conventions, close() idempotence, and
 * DispatcherWithSend's buffer and writable() semantics.
 */
import './helpers/native';
import { constants as osConstants } from 'node:os';
import { binding } from '../lib/native';
import { Dispatcher, DispatcherWithSend, OSError, closeAll, loop, read, select, socket, socketMap, type Address, type SocketMap } from '../lib';
import { captureOutput, isFdOpen, lines, loopUntil, tmpUnixPath, unlinkTmpPaths } from './helpers/loop';
import { ipv6Loopback } from './helpers/raw';

const E = osConstants.errno;
const { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_LINGER } = socket;

let map: SocketMap;
const extraSockets: socket.Socket[] = [];

/** A raw socket closed after the test. */
function track<T extends socket.Socket>(s: T): T {
  extraSockets.push(s);
  return s;
}

/** A listening raw TCP socket on 127.0.0.1 and its address. */
function tcpListener(): [socket.Socket, [string, number]] {
  const l = track(new socket.Socket(AF_INET, SOCK_STREAM));
  l.bind(['127.0.0.1', 0]);
  l.listen(5);
  return [l, l.getsockname() as [string, number]];
}

/** A connected TCP pair over loopback: [clientRaw, serverRaw]; both non-blocking. */
function tcpPair(): [socket.Socket, socket.Socket] {
  const [l, addr] = tcpListener();
  const c = track(new socket.Socket(AF_INET, SOCK_STREAM));
  c.connect(addr);
  const [s] = l.accept();
  track(s);
  c.setblocking(false);
  s.setblocking(false);
  return [c, s];
}

/** Wait (bounded) until select() reports `s` writable: a pending connect has finished or failed. */
function waitWritable(s: unknown): boolean {
  for (let i = 0; i < 500; i++) if (select.select([], [s as socket.Socket], [], 0.01)[1].length > 0) return true;
  return false;
}

/** Fail (instead of hanging) if `fd` is blocking before a test reads it dry or fills it up. */
function expectNonBlocking(fd: number): void {
  expect(binding.getBlocking(fd)).toBe(false);
}

function lingerZero(): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32LE(1, 0);
  b.writeInt32LE(0, 4);
  return b;
}

const ipv6Usable = ipv6Loopback;

beforeEach(() => {
  map = new Map();
});

afterEach(() => {
  closeAll(map, true);
  closeAll(socketMap, true);
  for (const s of extraSockets.splice(0)) s.close();
  unlinkTmpPaths();
});

describe('DispatcherTests', () => {
  test('basic: readable() and writable() are true', () => {
    const d = new Dispatcher();
    expect(d.readable()).toBe(true);
    expect(d.writable()).toBe(true);
  });

  test('class defaults and the socket-less constructor (items 29, 30, 32)', () => {
    const d = new Dispatcher(null, map);
    expect(d.debug).toBe(false);
    expect(d.connected).toBe(false);
    expect(d.accepting).toBe(false);
    expect(d.connecting).toBe(false);
    expect(d.closing).toBe(false);
    expect(d.addr).toBeNull();
    expect(d.socket).toBeNull();
    expect([...d.ignoreLogTypes]).toEqual(['warning']);
    expect(d.familyAndType).toBeUndefined();
    expect(d._fileno).toBeNull();
    expect(d._map).toBe(map); // an empty map passed in is still the one used
    expect(map.size).toBe(0); // nothing registered without a socket
    expect(new Dispatcher()._map).toBe(socketMap);
  });

  test('repr: <Dispatcher at 0x…> with a stable per-object id', () => {
    const d = new Dispatcher();
    const e = new Dispatcher();
    expect(String(d)).toBe(`<Dispatcher at 0x${d.objectId.toString(16)}>`);
    expect(`${d}`).toBe(d.toString());
    expect(d.toString()).toBe(d.toString());
    expect(d.objectId).not.toBe(e.objectId);
  });

  test('log() writes "log: <msg>" lines to stderr', () => {
    const d = new Dispatcher();
    const l1 = 'Lovely spam! Wonderful spam!';
    const l2 = "I don't like spam!";
    const { stdout, stderr } = captureOutput(() => {
      d.log(l1);
      d.log(l2);
    });
    expect(lines(stderr)).toEqual([`log: ${l1}`, `log: ${l2}`]);
    expect(stdout).toBe('');
  });

  test('logInfo() writes "<type>: <msg>" lines to stdout', () => {
    const d = new Dispatcher();
    const l1 = 'Have you got anything without spam?';
    const l2 = "Why can't she have egg bacon spam and sausage?";
    const l3 = "THAT'S got spam in it!";
    const { stdout, stderr } = captureOutput(() => {
      d.logInfo(l1, 'EGGS');
      d.logInfo(l2);
      d.logInfo(l3, 'SPAM');
    });
    expect(lines(stdout)).toEqual([`EGGS: ${l1}`, `info: ${l2}`, `SPAM: ${l3}`]);
    expect(stderr).toBe('');
  });

  test('logInfo() drops the types in ignoreLogTypes (by default only warning)', () => {
    const d = new Dispatcher();
    const { stdout } = captureOutput(() => {
      d.logInfo('hidden', 'warning');
      d.logInfo('shown', 'error');
      d.ignoreLogTypes.add('error');
      d.logInfo('now hidden', 'error');
    });
    expect(lines(stdout)).toEqual(['error: shown']);
  });

  test('unhandled: the default handlers log their warning lines, in order', () => {
    const d = new Dispatcher();
    d.ignoreLogTypes = new Set();
    const { stdout } = captureOutput(() => {
      d.handleExpt();
      d.handleRead();
      d.handleWrite();
      d.handleConnect();
    });
    expect(lines(stdout)).toEqual([
      'warning: unhandled incoming priority event',
      'warning: unhandled read event',
      'warning: unhandled write event',
      'warning: unhandled connect event',
    ]);
  });

  test('the default handlers are silent while warning is ignored', () => {
    const d = new Dispatcher();
    const { stdout, stderr } = captureOutput(() => {
      d.handleExpt();
      d.handleRead();
      d.handleWrite();
      d.handleConnect();
      d.handleClose();
    });
    expect(stdout + stderr).toBe('');
  });

  test('the default handleAccepted closes the new socket, then logs (item 53); handleClose logs, then closes (item 54)', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const d = new Dispatcher(null, map);
    d.ignoreLogTypes = new Set();
    const { stdout } = captureOutput(() => d.handleAccepted(a, ''));
    expect(a.fileno()).toBe(-1);
    expect(lines(stdout)).toEqual(['warning: unhandled accepted event']);

    const [e0, e1] = socket.socketpair();
    track(e1);
    const e = new Dispatcher(track(e0), map);
    track(e.socket as socket.Socket);
    e.ignoreLogTypes = new Set();
    const order: string[] = [];
    const origClose = e.close.bind(e);
    e.close = () => {
      order.push('close');
      origClose();
    };
    const out = captureOutput(() => e.handleClose());
    expect(lines(out.stdout)).toEqual(['warning: unhandled close event']);
    expect(order).toEqual(['close']);
    expect(map.has((e.socket as socket.Socket).fileno())).toBe(false);
  });

  test('the default handleError logs one error line (name, message, compact stack, repr) and then calls handleClose', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const calls: string[] = [];
    class Crashing extends Dispatcher {
      override handleRead(): void {
        throw new TypeError('boom goes the handler');
      }
      override handleClose(): void {
        calls.push('handleClose');
        super.handleClose();
      }
    }
    const d = new Crashing(a, map);
    const repr = d.toString();
    const fd = a.fileno();
    const { stdout, stderr } = captureOutput(() => read(d));
    const out = lines(stdout);
    expect(stderr).toBe('');
    expect(out).toHaveLength(1);
    expect(out[0].startsWith(`error: uncaptured exception, closing channel ${repr} (TypeError:boom goes the handler [`)).toBe(true);
    expect(out[0]).toMatch(/\[asyncore-dispatcher\.test\.ts\|[^|]*handleRead[^|]*\|\d+\]\)$/); // the innermost frame: this file
    expect(repr).toBe(`<Crashing connected '' at 0x${d.objectId.toString(16)}>`);
    expect(calls).toEqual(['handleClose']);
    expect(d.connected).toBe(false);
    expect(map.has(fd)).toBe(false);
    expect(a.fileno()).toBe(-1);
  });

  test('handleError survives a toString() that throws', () => {
    class BadRepr extends Dispatcher {
      override toString(): string {
        throw new Error('no repr');
      }
      override handleClose(): void {
        /* keep it open; nothing to close */
      }
    }
    const d = new BadRepr(null, map);
    const { stdout } = captureOutput(() => d.handleError(new RangeError('x')));
    expect(lines(stdout)).toHaveLength(1);
    expect(stdout).toContain(`<toString() failed for object at ${d.objectId.toString(16)}>`); // Python: %0x, no 0x
    expect(stdout).toContain('RangeError:x');
  });
});

describe('toString formats (item 33)', () => {
  class S extends Dispatcher {}

  test('listening shows the bind argument (port 0), not the real port', () => {
    const s = new S(null, map);
    s.createSocket(AF_INET);
    s.bind(['127.0.0.1', 0]);
    s.listen(5);
    expect(s.toString()).toBe(`<S listening 127.0.0.1:0 at 0x${s.objectId.toString(16)}>`);
  });

  test('listen() without bind() shows no "listening"; bind without listen shows the address only', () => {
    const s = new S(null, map);
    s.createSocket(AF_INET);
    s.listen(5);
    expect(s.accepting).toBe(true);
    expect(s.toString()).toBe(`<S at 0x${s.objectId.toString(16)}>`);
    const t = new S(null, map);
    t.createSocket(AF_INET);
    t.bind(['127.0.0.1', 0]);
    expect(t.toString()).toBe(`<S 127.0.0.1:0 at 0x${t.objectId.toString(16)}>`);
  });

  (ipv6Usable ? test : test.skip)('an IPv6 4-tuple prints as the tuple repr', () => {
    const s = new S(null, map);
    s.createSocket(AF_INET6);
    s.bind(['::1', 0, 0, 0]);
    s.listen(1);
    expect(s.toString()).toBe(`<S listening ('::1', 0, 0, 0) at 0x${s.objectId.toString(16)}>`);
  });

  test('an AF_UNIX path prints quoted', () => {
    const p = tmpUnixPath('repr');
    const s = new S(null, map);
    s.createSocket(AF_UNIX);
    s.bind(p);
    s.listen(1);
    expect(s.toString()).toBe(`<S listening '${p}' at 0x${s.objectId.toString(16)}>`);
  });

  test("a socketpair peer prints as connected ''", () => {
    const [a, b] = socket.socketpair();
    track(b);
    const s = new S(a, map);
    expect(s.addr).toBe('');
    expect(s.toString()).toBe(`<S connected '' at 0x${s.objectId.toString(16)}>`);
  });

  test('a connected TCP client shows host:port of the connect argument', () => {
    const [, addr] = tcpListener();
    class C extends Dispatcher {
      override handleConnect(): void {}
    }
    const c = new C(null, map);
    c.createSocket(AF_INET);
    c.connect(addr);
    expect(loopUntil(() => c.connected, { usePoll: false, map })).toBe(true);
    expect(c.toString()).toBe(`<C connected 127.0.0.1:${addr[1]} at 0x${c.objectId.toString(16)}>`);
    c.close();
    expect(c.toString()).toBe(`<C 127.0.0.1:${addr[1]} at 0x${c.objectId.toString(16)}>`); // addr is kept after close
  });
});

describe('constructor with a socket (item 31) and the map (items 34-37)', () => {
  test('a connected socket: non-blocking, registered, connected, addr = peername', () => {
    const [c] = tcpPair();
    c.setblocking(true);
    const d = new Dispatcher(c, map);
    expect(c.getblocking()).toBe(false);
    expect(map.get(c.fileno())).toBe(d);
    expect(d.connected).toBe(true);
    expect(d.addr).toEqual(c.getpeername());
  });

  test('an unconnected socket (ENOTCONN): registered, connected false, addr null', () => {
    const s = new socket.Socket(AF_INET, SOCK_STREAM);
    const d = new Dispatcher(s, map);
    expect(map.get(s.fileno())).toBe(d);
    expect(d.connected).toBe(false);
    expect(d.addr).toBeNull();
  });

  test('another getpeername error unregisters and propagates', () => {
    const fake = {
      setblocking(): void {},
      fileno: () => 77,
      getpeername(): never {
        throw new OSError(E.EBADF, 'getpeername');
      },
    };
    expect(() => new Dispatcher(fake as unknown as socket.Socket, map)).toThrow(OSError);
    expect(map.has(77)).toBe(false);
  });

  test('setSocket takes anything with fileno(); addChannel overwrites silently; delChannel clears _fileno', () => {
    const d = new Dispatcher(null, map);
    const other = new Dispatcher(null, map);
    map.set(5, other);
    d.setSocket({ fileno: () => 5, close() {} } as unknown as socket.Socket);
    expect(map.get(5)).toBe(d);
    expect(d._fileno).toBe(5);
    d.delChannel();
    expect(map.has(5)).toBe(false);
    expect(d._fileno).toBeNull();
    d.delChannel(); // again: harmless
  });

  test('createSocket twice leaves the first fd registered (item 36)', () => {
    const d = new Dispatcher(null, map);
    d.createSocket(AF_INET);
    const first = d.socket as socket.Socket;
    d.createSocket(AF_INET);
    const second = d.socket as socket.Socket;
    try {
      expect(map.get(first.fileno())).toBe(d);
      expect(map.get(second.fileno())).toBe(d);
    } finally {
      map.delete(first.fileno());
      first.close();
    }
  });
});

describe('socket operations (items 40-46)', () => {
  test('listen() sets accepting before the syscall: it stays set when listen fails', () => {
    const d = new Dispatcher(null, map);
    d.createSocket(AF_INET, SOCK_DGRAM);
    let err: unknown;
    try {
      d.listen(5);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OSError);
    expect((err as OSError).errno).toBe(E.EOPNOTSUPP);
    expect(d.accepting).toBe(true);
  });

  test('bind() sets addr before the syscall: it stays set when bind fails', () => {
    const d = new Dispatcher(null, map);
    d.createSocket(AF_INET);
    let err: unknown;
    try {
      d.bind(['192.0.2.1', 0]); // TEST-NET-1: not a local address
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OSError);
    expect((err as OSError).code).toBe('EADDRNOTAVAIL');
    expect(d.addr).toEqual(['192.0.2.1', 0]);
  });

  test('connect() in progress: connecting, not connected, addr set, no handleConnect yet', () => {
    const [, addr] = tcpListener();
    const calls: boolean[] = [];
    class C extends Dispatcher {
      override handleConnect(): void {
        calls.push(this.connected);
      }
    }
    const c = new C(null, map);
    c.createSocket(AF_INET);
    c.connect(addr);
    if (calls.length === 0) {
      expect(c.connecting).toBe(true);
      expect(c.connected).toBe(false);
      expect(c.addr).toEqual(addr);
      expect(loopUntil(() => c.connected, { usePoll: true, map })).toBe(true);
    }
    expect(calls).toEqual([false]); // handleConnect saw connected === false (item 48)
    expect(c.connecting).toBe(false);
  });

  test('an AF_UNIX connect completes synchronously inside connect() (item 42)', () => {
    const p = tmpUnixPath('sync');
    const l = track(new socket.Socket(AF_UNIX));
    l.bind(p);
    l.listen(1);
    const seen: Array<[boolean, boolean]> = [];
    class C extends Dispatcher {
      override handleConnect(): void {
        seen.push([this.connected, this.connecting]);
      }
    }
    const c = new C(null, map);
    c.createSocket(AF_UNIX);
    c.connect(p);
    expect(seen).toEqual([[false, true]]);
    expect(c.connected).toBe(true);
    expect(c.connecting).toBe(false);
    expect(c.addr).toBe(p);
  });

  test('connect() with an immediate error throws; connecting stays true and addr unset', () => {
    const p = tmpUnixPath('nolisten');
    const bound = track(new socket.Socket(AF_UNIX));
    bound.bind(p); // bound, not listening: ECONNREFUSED at once
    const c = new Dispatcher(null, map);
    c.createSocket(AF_UNIX);
    let err: unknown;
    try {
      c.connect(p);
    } catch (e) {
      err = e;
    }
    expect((err as OSError).code).toBe('ECONNREFUSED');
    expect(c.connecting).toBe(true);
    expect(c.connected).toBe(false);
    expect(c.addr).toBeNull();
    // a missing path: ENOENT
    const d = new Dispatcher(null, map);
    d.createSocket(AF_UNIX);
    expect(() => d.connect(`${p}-missing`)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  test('accept() returns null with nothing pending, then [socket, addr]; the accepted socket is blocking (item 43)', () => {
    const d = new Dispatcher(null, map);
    d.createSocket(AF_INET);
    d.bind(['127.0.0.1', 0]);
    d.listen(5);
    expect(d.accept()).toBeNull();
    const addr = (d.socket as socket.Socket).getsockname() as [string, number];
    const c = track(new socket.Socket(AF_INET));
    c.connect(addr);
    let pair: [socket.Socket, Address] | null = null;
    for (let i = 0; i < 200 && pair === null; i++) pair = d.accept();
    expect(pair).not.toBeNull();
    const [s, peer] = pair!;
    track(s);
    expect(s.gettimeout()).toBeNull(); // blocking until a dispatcher wraps it
    expect(peer).toEqual(c.getsockname());
    expect(d.accept()).toBeNull();
  });

  test('accept(): TypeError and ECONNABORTED give null; other OSErrors propagate', () => {
    const d = new Dispatcher(null, map);
    let thrown: unknown = new TypeError('x');
    d.socket = { accept: () => { throw thrown; }, fileno: () => 9, close() {} } as unknown as socket.Socket;
    expect(d.accept()).toBeNull();
    thrown = new OSError(E.ECONNABORTED, 'accept');
    expect(d.accept()).toBeNull();
    thrown = new OSError(E.EAGAIN, 'accept');
    expect(d.accept()).toBeNull();
    const real = new Dispatcher(null, map);
    real.createSocket(AF_INET); // not listening: EINVAL
    expect(() => real.accept()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  test('recv() raises EAGAIN while send() returns 0 (items 44-45)', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const d = new Dispatcher(a, map);
    expectNonBlocking(a.fileno());
    let err: unknown;
    try {
      d.recv(10);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OSError);
    expect((err as OSError).errno).toBe(E.EAGAIN);
    expect(d.connected).toBe(true); // not a disconnect
    const chunk = Buffer.alloc(65536, 1);
    let last = -1;
    for (let i = 0; i < 10000 && last !== 0; i++) last = d.send(chunk);
    expect(last).toBe(0); // the buffer is full: 0, no throw
    expect(d.connected).toBe(true);
  });

  test('recv() at EOF calls handleClose and returns an empty Buffer', () => {
    const [a, b] = socket.socketpair();
    const calls: string[] = [];
    class D extends Dispatcher {
      override handleClose(): void {
        calls.push('close');
        this.close();
      }
    }
    const d = new D(a, map);
    b.send('hi');
    b.close();
    expect(d.recv(10).toString()).toBe('hi');
    const r = d.recv(10);
    expect(Buffer.isBuffer(r)).toBe(true);
    expect(r.length).toBe(0);
    expect(calls).toEqual(['close']);
  });

  test('recv() on a reset connection (ECONNRESET) calls handleClose and returns an empty Buffer', () => {
    const [c, s] = tcpPair();
    const calls: string[] = [];
    class D extends Dispatcher {
      override handleClose(): void {
        calls.push('close');
        this.close();
      }
    }
    const d = new D(c, map);
    s.setsockopt(SOL_SOCKET, SO_LINGER, lingerZero());
    s.close(); // RST
    let r: Buffer | undefined;
    for (let i = 0; i < 200 && calls.length === 0; i++) {
      try {
        r = d.recv(10);
      } catch (e) {
        if (!(e instanceof OSError && e.errno === E.EAGAIN)) throw e;
      }
    }
    expect(calls).toEqual(['close']);
    expect(r!.length).toBe(0);
  });

  test('send() to a closed peer (EPIPE/ECONNRESET) calls handleClose and returns 0', () => {
    const [a, b] = socket.socketpair();
    const calls: string[] = [];
    class D extends Dispatcher {
      override handleClose(): void {
        calls.push('close');
        this.close();
      }
    }
    const d = new D(a, map);
    b.close();
    expect(d.send('data')).toBe(0);
    expect(calls).toEqual(['close']);
  });

  test('send() returns the count the kernel took', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const d = new Dispatcher(a, map);
    expect(d.send('hello')).toBe(5);
    expect(b.recv(10).toString()).toBe('hello');
  });

  test('close(): clears the flags, leaves the map, keeps socket and addr, and is idempotent (item 46)', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const d = new Dispatcher(a, map);
    d.closing = true;
    const fd = a.fileno();
    d.accepting = true;
    d.connecting = true;
    d.close();
    expect([d.connected, d.accepting, d.connecting]).toEqual([false, false, false]);
    expect(d.closing).toBe(true); // untouched
    expect(d.socket).toBe(a);
    expect(d.addr).toBe('');
    expect(map.has(fd)).toBe(false);
    expect(isFdOpen(fd)).toBe(false);
    expect(() => d.close()).not.toThrow();
  });

  test('close() twice never closes a reused fd number', () => {
    const [a, b] = socket.socketpair();
    track(b);
    const d = new Dispatcher(a, map);
    const fd = a.fileno();
    d.close();
    // take the freed number again (the lowest free fd is reused)
    const others: socket.Socket[] = [];
    let reused: socket.Socket | undefined;
    for (let i = 0; i < 50 && !reused; i++) {
      const s = new socket.Socket(AF_INET);
      if (s.fileno() === fd) reused = s;
      else others.push(s);
    }
    for (const s of others) s.close();
    expect(reused).toBeDefined();
    track(reused!);
    d.close();
    d.close();
    expect(isFdOpen(fd)).toBe(true);
    expect(reused!.fileno()).toBe(fd);
    expect(reused!.getsockopt(SOL_SOCKET, socket.SO_TYPE)).toBe(SOCK_STREAM);
  });

  test('close() ignores ENOTCONN and EBADF from socket.close(), and re-throws other errors', () => {
    const d = new Dispatcher(null, map);
    let err: unknown = new OSError(E.EBADF, 'close');
    d.setSocket({ fileno: () => 600, close: () => { throw err; } } as unknown as socket.Socket);
    expect(() => d.close()).not.toThrow();
    err = new OSError(E.ENOTCONN, 'close');
    expect(() => d.close()).not.toThrow();
    err = new OSError(E.EIO, 'close');
    expect(() => d.close()).toThrow(OSError);
    err = new TypeError('odd');
    expect(() => d.close()).toThrow(TypeError);
  });
});

describe('event handlers (items 47-50)', () => {
  test('handleReadEvent on an accepting socket calls handleAccept only', () => {
    const calls: string[] = [];
    class D extends Dispatcher {
      override handleAccept(): void {
        calls.push('accept');
      }
      override handleRead(): void {
        calls.push('read');
      }
    }
    const d = new D(null, map);
    d.accepting = true;
    d.handleReadEvent();
    expect(calls).toEqual(['accept']);
  });

  test('a socket neither connected nor connecting (UDP) still gets handleRead', () => {
    const got: Buffer[] = [];
    class Udp extends Dispatcher {
      override handleRead(): void {
        got.push((this.socket as socket.Socket).recvfrom(100)[0]);
      }
      override writable(): boolean {
        return false;
      }
    }
    const u = new Udp(null, map);
    u.createSocket(AF_INET, SOCK_DGRAM);
    u.bind(['127.0.0.1', 0]);
    const tx = track(new socket.Socket(AF_INET, SOCK_DGRAM));
    tx.sendto('dgram', (u.socket as socket.Socket).getsockname());
    expect(loopUntil(() => got.length > 0, { usePoll: false, map })).toBe(true);
    expect(got[0].toString()).toBe('dgram');
    expect(u.connected).toBe(false);
  });

  test('handleWriteEvent on an accepting socket does nothing; on a connecting one it completes the connect first', () => {
    const calls: string[] = [];
    class D extends Dispatcher {
      override handleWrite(): void {
        calls.push(`write:${this.connected}`);
      }
      override handleConnect(): void {
        calls.push(`connect:${this.connected}`);
      }
    }
    const l = new D(null, map);
    l.accepting = true;
    l.handleWriteEvent();
    expect(calls).toEqual([]);

    const [, addr] = tcpListener();
    const c = new D(null, map);
    c.createSocket(AF_INET);
    c.connect(addr);
    calls.length = 0;
    if (!c.connected) {
      // wait for the connect to finish, then deliver the write event by hand
      expect(waitWritable(c.socket)).toBe(true);
      c.handleWriteEvent();
      expect(calls).toEqual(['connect:false', 'write:true']);
    }
  });

  test('handleConnectEvent throws OSError for a non-zero SO_ERROR; a throwing handleConnect leaves the state connecting', () => {
    const s = new socket.Socket(AF_INET);
    s.bind(['127.0.0.1', 0]);
    const port = (s.getsockname() as [string, number])[1];
    s.close(); // nobody listens there now
    class C extends Dispatcher {
      override handleConnect(): void {
        throw new Error('connect handler failed');
      }
    }
    const c = new C(null, map);
    c.createSocket(AF_INET);
    let thrown: unknown;
    try {
      c.connect(['127.0.0.1', port]);
    } catch (e) {
      thrown = e;
    }
    if (thrown === undefined) {
      // wait for the refusal to land in SO_ERROR
      expect(waitWritable(c.socket)).toBe(true);
      expect(() => c.handleConnectEvent()).toThrow(expect.objectContaining({ code: 'ECONNREFUSED' }));
    } else {
      expect((thrown as OSError).code).toBe('ECONNREFUSED');
    }
    // a successful connect whose handleConnect throws: still connecting, not connected
    const [, addr] = tcpListener();
    const d = new C(null, map);
    d.createSocket(AF_INET);
    try {
      d.connect(addr);
    } catch {
      /* synchronous completion threw from handleConnect */
    }
    expect(waitWritable(d.socket)).toBe(true);
    expect(() => d.handleConnectEvent()).toThrow('connect handler failed');
    expect(d.connected).toBe(false);
    expect(d.connecting).toBe(true);
  });

  test('handleExptEvent: SO_ERROR set calls handleClose, else handleExpt', () => {
    const calls: string[] = [];
    class D extends Dispatcher {
      override handleClose(): void {
        calls.push('close');
        this.close();
      }
      override handleExpt(): void {
        calls.push('expt');
      }
    }
    const [a, b] = socket.socketpair();
    track(b);
    const ok = new D(a, map);
    ok.handleExptEvent();
    expect(calls).toEqual(['expt']);

    const s = new socket.Socket(AF_INET);
    s.bind(['127.0.0.1', 0]);
    const port = (s.getsockname() as [string, number])[1];
    s.close();
    const bad = new D(null, map);
    bad.createSocket(AF_INET);
    (bad.socket as socket.Socket).connectEx(['127.0.0.1', port]);
    expect(waitWritable(bad.socket)).toBe(true);
    calls.length = 0;
    bad.handleExptEvent();
    expect(calls).toEqual(['close']);
  });
});

describe('DispatcherWithSend (items 57-60)', () => {
  class NoRead extends DispatcherWithSend {
    override readable(): boolean {
      return false;
    }
    override handleConnect(): void {}
  }

  /** An in-loop capture server: collects what one client sends until a newline (CPython's capture_server thread). */
  function captureServer(m: SocketMap): { address: [string, number]; data: () => Buffer; done: () => boolean } {
    const chunks: Buffer[] = [];
    let finished = false;
    class Capture extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        const d = this.recv(10);
        chunks.push(Buffer.from(d.toString('latin1').replace(/\n/g, ''), 'latin1'));
        if (d.includes(0x0a)) {
          finished = true;
          this.close();
        }
      }
      override handleClose(): void {
        finished = true;
        this.close();
      }
    }
    class Server extends Dispatcher {
      override handleAccepted(sock: socket.Socket): void {
        new Capture(sock, m);
        this.close(); // one client only
      }
      override writable(): boolean {
        return false;
      }
    }
    const srv = new Server(null, m);
    srv.createSocket(AF_INET);
    srv.setReuseAddr();
    srv.bind(['127.0.0.1', 0]);
    srv.listen(5);
    return { address: (srv.socket as socket.Socket).getsockname() as [string, number], data: () => Buffer.concat(chunks), done: () => finished };
  }

  test('test_send: two sends and a newline reach the server intact', () => {
    const cap = captureServer(map);
    const data = Buffer.from("Suppose there isn't a 16-ton weight?");
    const d = new NoRead(null, map);
    d.createSocket();
    d.connect(cap.address);
    // give it time to connect (CPython sleeps 0.1 s; here a bounded loop until connected)
    expect(loopUntil(() => d.connected, { usePoll: false, map })).toBe(true);
    d.send(data);
    d.send(data);
    d.send('\n');
    for (let n = 1000; d.outBuffer.length > 0 && n > 0; n--) loop({ timeout: 0.01, count: 1, map });
    expect(loopUntil(cap.done, { usePoll: false, map })).toBe(true);
    expect(cap.data()).toEqual(Buffer.concat([data, data]));
  });

  test.each([
    ['select', false],
    ['poll', true],
  ])('a large send drains through handleWrite, 64 KiB per initiateSend (%s pass)', (_n, usePoll) => {
    const [a, b] = socket.socketpair();
    b.setblocking(false);
    const d = new DispatcherWithSend(a, map);
    expectNonBlocking(a.fileno());
    const sizes: number[] = [];
    const orig = d.initiateSend.bind(d);
    d.initiateSend = () => {
      const before = d.outBuffer.length;
      orig();
      sizes.push(before - d.outBuffer.length);
    };
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    d.send(payload);
    const got: Buffer[] = [];
    let total = 0;
    const drained = loopUntil(
      () => {
        for (;;) {
          try {
            const r = b.recv(1 << 20);
            if (r.length === 0) break;
            got.push(r);
            total += r.length;
          } catch {
            break;
          }
        }
        return total === payload.length;
      },
      { usePoll, map, tries: 4000, pauseMs: 1 },
    );
    expect(drained).toBe(true);
    expect(Buffer.concat(got).equals(payload)).toBe(true);
    expect(d.outBuffer.length).toBe(0);
    expect(sizes.length).toBeGreaterThan(0);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(65536);
    b.close();
  });

  test('writable(): true while not connected, false when connected and idle, true with data queued (item 59)', () => {
    const unconnected = new DispatcherWithSend(null, map);
    expect(unconnected.connected).toBe(false);
    expect(unconnected.writable()).toBe(true);

    const [a, b] = socket.socketpair();
    track(b);
    const d = new DispatcherWithSend(a, map);
    expectNonBlocking(a.fileno());
    expect(d.connected).toBe(true);
    expect(d.outBuffer.length).toBe(0);
    expect(d.writable()).toBe(false);
    // fill the kernel buffer so that the rest stays queued
    const chunk = Buffer.alloc(65536, 2);
    for (let i = 0; i < 10000 && d.outBuffer.length === 0; i++) d.send(chunk);
    expect(d.outBuffer.length).toBeGreaterThan(0);
    expect(d.writable()).toBe(true);
  });

  test('send() calls initiateSend at once, even before a connect; a disconnect there calls handleClose and keeps the data queued (item 60)', () => {
    const calls: string[] = [];
    class D extends DispatcherWithSend {
      override handleClose(): void {
        calls.push('close');
        this.close();
      }
      override initiateSend(): void {
        calls.push('initiateSend');
        super.initiateSend();
      }
    }
    const d = new D(null, map);
    d.createSocket(AF_INET); // never connected: send() fails with EPIPE, a disconnect errno
    d.debug = true;
    const { stdout } = captureOutput(() => d.send(Buffer.from('abc')));
    expect(lines(stdout)).toEqual(["info: sending b'abc'"]);
    expect(calls).toEqual(['initiateSend', 'close']);
    expect(d.outBuffer.toString()).toBe('abc');
    expect(d.connected).toBe(false);
  });

  test('send() copies what the kernel did not take: the caller may reuse its buffer', () => {
    const [a, b] = socket.socketpair();
    track(b);
    b.setblocking(false);
    const d = new DispatcherWithSend(a, map);
    expectNonBlocking(a.fileno());
    const chunk = Buffer.alloc(65536, 3);
    for (let i = 0; i < 10000 && d.outBuffer.length === 0; i++) d.send(chunk);
    const queued = Buffer.from(d.outBuffer);
    chunk.fill(9);
    expect(d.outBuffer.equals(queued)).toBe(true);
  });
});
