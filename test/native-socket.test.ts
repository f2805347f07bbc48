/**
 * The raw socket layer (lib/socket.ts over native/sockets.cc) on real
 * sockets: TCP over 127.0.0.1 and ::1, AF_UNIX stream and datagram, UDP.
 * Every wait is bounded; every fd is closed (checkNoFdLeaks fails the file
 * otherwise).
 */
import './helpers/native';
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { socket, select, OSError } from '../lib';
import { compiledLib } from './helpers/dist';
import {
  binding,
  checkNoFdLeaks,
  ipv6Loopback,
  osError,
  outcome,
  Owned,
  sleepSync,
  tcpListener,
  thrown,
  tmpSockPath,
  waitReadable,
  waitWritable,
} from './helpers/raw';

const E = osConstants.errno;
const own = new Owned();
afterEach(() => own.closeAll());
checkNoFdLeaks();

/** A connected TCP pair over loopback: [client, server side]. */
function tcpPair(family: number = socket.AF_INET): [socket.Socket, socket.Socket] {
  const l = tcpListener(own, family);
  const c = own.sock(new socket.Socket(family, socket.SOCK_STREAM));
  c.connect(l.getsockname());
  const [s] = l.accept();
  own.sock(s);
  l.close();
  return [c, s];
}

function recvAll(s: socket.Socket, n: number): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < n) {
    if (!waitReadable(s)) throw new Error(`timed out after ${got} of ${n} bytes`);
    const b = s.recv(n - got);
    if (b.length === 0) break;
    parts.push(b);
    got += b.length;
  }
  return Buffer.concat(parts);
}

describe('TCP', () => {
  const families: Array<[string, number, string, boolean]> = [
    ['IPv4', socket.AF_INET, '127.0.0.1', true],
    ['IPv6', socket.AF_INET6, '::1', ipv6Loopback],
  ];
  for (const [name, family, host, available] of families) {
    (available ? test : test.skip)(`${name} loopback: connect, accept, echo both ways, address shapes`, () => {
      const l = tcpListener(own, family);
      const la = l.getsockname() as unknown[];
      expect(la[0]).toBe(host);
      expect(typeof la[1]).toBe('number');
      expect(la[1]).toBeGreaterThan(0);
      expect(la).toHaveLength(family === socket.AF_INET6 ? 4 : 2);

      const c = own.sock(new socket.Socket(family, socket.SOCK_STREAM));
      c.connect([host, la[1] as number]);
      const [s, peer] = l.accept();
      own.sock(s);
      expect(peer).toEqual(c.getsockname());
      expect(s.getpeername()).toEqual(c.getsockname());
      expect(c.getpeername()).toEqual(la);
      if (family === socket.AF_INET6) {
        const p = c.getpeername() as unknown[];
        expect(p).toHaveLength(4);
        expect(typeof p[2]).toBe('number'); // flowinfo
        expect(typeof p[3]).toBe('number'); // scope id
      }

      const payload = Buffer.alloc(200_000, 'abcdefgh');
      c.setblocking(false);
      let off = 0;
      const got: Buffer[] = [];
      let gotLen = 0;
      s.setblocking(false);
      const deadline = Date.now() + 10_000;
      while (gotLen < payload.length) {
        if (Date.now() > deadline) throw new Error('echo timed out');
        if (off < payload.length) {
          try {
            off += c.send(payload.subarray(off));
          } catch (e) {
            if (!(e instanceof OSError) || e.code !== 'EAGAIN') throw e;
          }
        }
        const [r] = select.select([s], [], [], 0.05);
        if (r.length) {
          const b = s.recv(65536);
          got.push(b);
          gotLen += b.length;
        }
      }
      expect(Buffer.concat(got).equals(payload)).toBe(true);

      s.sendall('pong');
      expect(recvAll(c, 4).toString()).toBe('pong');
    });
  }

  test('IPv6 is skipped cleanly only when ::1 is unusable', () => {
    // Documents the skip above: hasIpv6 says whether AF_INET6 sockets exist at all.
    expect(typeof socket.hasIpv6).toBe('boolean');
    if (!socket.hasIpv6) expect(ipv6Loopback).toBe(false);
  });

  test("host names resolve through getaddrinfo ('localhost')", () => {
    const l = tcpListener(own);
    const port = (l.getsockname() as [string, number])[1];
    const c = own.sock(new socket.Socket());
    c.connect(['localhost', port]);
    const [s] = l.accept();
    own.sock(s);
    expect((c.getpeername() as [string, number])[0]).toBe('127.0.0.1');
    const b = own.sock(new socket.Socket());
    b.bind(['localhost', 0]);
    expect((b.getsockname() as [string, number])[0]).toBe('127.0.0.1');
  });

  test('an unresolvable host is an OSError with an EAI_* code', () => {
    const c = own.sock(new socket.Socket());
    const err = osError(() => c.connect(['no-such-host.invalid', 80]));
    expect(err.code).toMatch(/^EAI_(NONAME|AGAIN|FAIL|NODATA|ADDRFAMILY)$/);
    expect(err.syscall).toBe('getaddrinfo');
    expect(err.message).toContain('no-such-host.invalid');
    expect(String(err.stack).split('\n')[0]).toContain('no-such-host.invalid');
    expect(err).toBeInstanceOf(Error);
  });

  test('non-blocking connect: EINPROGRESS (connectEx result, connect() OSError), then writable and SO_ERROR 0', () => {
    const l = tcpListener(own);
    const addr = l.getsockname();
    const c1 = own.sock(new socket.Socket());
    c1.setblocking(false);
    expect(c1.gettimeout()).toBe(0);
    expect(c1.connectEx(addr)).toBe(E.EINPROGRESS);
    const c2 = own.sock(new socket.Socket());
    c2.setblocking(false);
    const err = osError(() => c2.connect(addr));
    expect(err.errno).toBe(E.EINPROGRESS);
    expect(err.code).toBe('EINPROGRESS');
    expect(err.syscall).toBe('connect');
    for (const c of [c1, c2]) {
      expect(waitWritable(c)).toBe(true);
      expect(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)).toBe(0);
    }
    // Both are in the backlog now.
    l.setblocking(false);
    own.sock(l.accept()[0]);
    own.sock(l.accept()[0]);
  });

  test('connect refused: SO_ERROR ECONNREFUSED after a non-blocking connect; OSError from a blocking one', () => {
    // A bound socket that does not listen reserves the port and refuses connections.
    const holder = own.sock(new socket.Socket());
    holder.bind(['127.0.0.1', 0]);
    const addr = holder.getsockname();
    const c = own.sock(new socket.Socket());
    c.setblocking(false);
    const rc = c.connectEx(addr);
    expect([E.EINPROGRESS, E.ECONNREFUSED]).toContain(rc);
    if (rc === E.EINPROGRESS) {
      const p = select.poll();
      p.register(c, select.POLLOUT);
      const ev = p.poll(5000);
      expect(ev).toHaveLength(1);
      expect(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)).toBe(E.ECONNREFUSED);
      // SO_ERROR is cleared by reading it.
      expect(c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)).toBe(0);
    }
    const b = own.sock(new socket.Socket());
    const err = osError(() => b.connect(addr));
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.errno).toBe(E.ECONNREFUSED);
  });

  test('accept on an empty backlog of a non-blocking listener: OSError EAGAIN', () => {
    const l = tcpListener(own);
    l.setblocking(false);
    const err = osError(() => l.accept());
    expect(err.errno).toBe(E.EAGAIN);
    expect(err.code).toBe('EAGAIN');
    expect(err.syscall).toBe('accept');
  });

  test('accepted sockets are close-on-exec and blocking, even from a non-blocking listener', () => {
    const l = tcpListener(own);
    l.setblocking(false);
    const c = own.sock(new socket.Socket());
    c.connect(l.getsockname());
    expect(waitReadable(l)).toBe(true);
    const [s] = l.accept();
    own.sock(s);
    expect(s.getInheritable()).toBe(false);
    expect(s.gettimeout()).toBeNull();
    expect(s.getblocking()).toBe(true);
    expect(binding.getBlocking(s.fileno())).toBe(true);
  });

  test('MSG_OOB: urgent byte shows in the exceptional set and reads with MSG_OOB', () => {
    const [c, s] = tcpPair();
    c.send('a');
    c.send('!', socket.MSG_OOB);
    const [, , x] = select.select([], [], [s], 5);
    expect(x).toEqual([s]);
    expect(s.recv(1, socket.MSG_OOB).toString()).toBe('!');
    expect(recvAll(s, 1).toString()).toBe('a');
  });

  test('send to a reset peer (SO_LINGER {1,0} close): OSError EPIPE or ECONNRESET, process alive', () => {
    const [c, s] = tcpPair();
    const linger = Buffer.from(new Int32Array([1, 0]).buffer);
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger);
    const back = s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8);
    expect(back.readInt32LE(0)).toBe(1);
    expect(back.readInt32LE(4)).toBe(0);
    s.close(); // sends RST
    expect(waitReadable(c)).toBe(true); // the RST arrived
    let err: OSError | null = null;
    for (let i = 0; i < 10 && err === null; i++) {
      try {
        c.send('after reset');
      } catch (e) {
        err = e as OSError;
      }
      sleepSync(5);
    }
    expect(err).toBeInstanceOf(OSError);
    expect(['EPIPE', 'ECONNRESET']).toContain(err!.code);
    expect(err!.syscall).toBe('send');
  });

  test('SIGPIPE never fires, even with a SIGPIPE handler installed (child process)', () => {
    // compiledLib() may compile lib/ first when dist/ is stale: hence the longer timeout.
    const child = path.join(__dirname, 'fixtures', 'sigpipe-child.js');
    const r = spawnSync(process.execPath, [child], {
      encoding: 'utf8',
      timeout: 15_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, ASYNCORE_LIB: compiledLib() },
    });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.sigpipes).toBe(0);
    // The control (write() to a reader-less pipe) shows the handler does see SIGPIPE.
    expect(out.controlSigpipes).toBeGreaterThanOrEqual(1);
    expect(out.controlError).toBe('EPIPE');
    expect(out.errors.every((c: string) => c === 'EPIPE' || c === 'ECONNRESET')).toBe(true);
    expect(out.errors.length).toBeGreaterThanOrEqual(2);
  }, 120_000);

  test('setsockopt/getsockopt: integers and buffers', () => {
    const s = own.sock(new socket.Socket());
    expect(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)).toBe(0);
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1);
    expect(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)).not.toBe(0);
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
    expect(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)).not.toBe(0);
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, Buffer.from(new Int32Array([1]).buffer));
    const ka = s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 4);
    expect(Buffer.isBuffer(ka)).toBe(true);
    expect(ka).toHaveLength(4);
    expect(ka.readInt32LE(0)).toBe(1);
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536);
    expect(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)).toBeGreaterThanOrEqual(65536);
    expect(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)).toBe(socket.SOCK_STREAM);
    // A bad level/option is the kernel's answer, as an OSError.
    const err = osError(() => s.getsockopt(socket.SOL_SOCKET, 999_999));
    expect(err.code).toBe('ENOPROTOOPT');
    expect(outcome(() => s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE, 0))).toBe('RangeError');
    expect(outcome(() => s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE, 4096))).toBe('RangeError');
  });
});

describe('AF_UNIX', () => {
  test('stream: bind/listen/accept on a path, names, echo; path unlinked after', () => {
    const p = own.path(tmpSockPath('stream'));
    const l = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM));
    l.bind(p);
    l.listen(4);
    expect(l.getsockname()).toBe(p);
    const c = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM));
    c.connect(p);
    const [s, peer] = l.accept();
    own.sock(s);
    expect(peer).toBe(''); // an unbound client has an unnamed address
    expect(c.getsockname()).toBe('');
    expect(c.getpeername()).toBe(p);
    expect(s.getsockname()).toBe(p);
    c.sendall('hello over a path');
    expect(recvAll(s, 17).toString()).toBe('hello over a path');
    expect(fs.existsSync(p)).toBe(true);
  });

  test('datagram: sendto/recvfrom between bound paths; sender address is its path', () => {
    const pa = own.path(tmpSockPath('dga'));
    const pb = own.path(tmpSockPath('dgb'));
    const a = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    const b = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    a.bind(pa);
    b.bind(pb);
    expect(b.sendto('to a', pa)).toBe(4);
    expect(waitReadable(a)).toBe(true);
    const [data, from] = a.recvfrom(100);
    expect(data.toString()).toBe('to a');
    expect(from).toBe(pb);
    expect(a.sendto(Buffer.from('to b'), 0, pb)).toBe(4);
    expect(waitReadable(b)).toBe(true);
    expect(b.recvfrom(100)).toEqual([Buffer.from('to b'), pa]);
    // An unbound sender has no address to report (Python: None).
    const u = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    u.sendto('anon', pa);
    expect(waitReadable(a)).toBe(true);
    const [d2, from2] = a.recvfrom(100);
    expect(d2.toString()).toBe('anon');
    expect(from2 === null || from2 === '').toBe(true);
  });

  test('socketpair: names are empty strings; datagram pairs keep message boundaries', () => {
    const [a, b] = own.pair();
    expect(a.getsockname()).toBe('');
    expect(a.getpeername()).toBe('');
    expect(a.family).toBe(socket.AF_UNIX);
    const [c, d] = own.pair(socket.AF_UNIX, socket.SOCK_DGRAM);
    c.send('one');
    c.send('two');
    expect(d.recv(100).toString()).toBe('one');
    expect(d.recv(100).toString()).toBe('two');
    b.send('x');
    expect(a.recv(10).toString()).toBe('x');
  });

  (process.platform === 'linux' ? test : test.skip)("Linux: '' autobinds a unique abstract address; '\\0name' is abstract; no file is made", () => {
    const a = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    const b = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    a.bind('');
    b.bind(''); // a shared one-byte abstract name would make this EADDRINUSE
    const na = a.getsockname() as string;
    const nb = b.getsockname() as string;
    expect(na.startsWith('\0')).toBe(true);
    expect(na.length).toBeGreaterThan(1);
    expect(na).not.toBe(nb);
    b.sendto('to autobound', na);
    expect(waitReadable(a)).toBe(true);
    expect(a.recvfrom(100)).toEqual([Buffer.from('to autobound'), nb]);
    const name = `\0asyncore-raw-${process.pid}-${'z'.repeat(60)}`;
    const l = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM));
    l.bind(name);
    l.listen(1);
    expect(l.getsockname()).toBe(name);
    const c = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM));
    c.connect(name);
    own.sock(l.accept()[0]);
    expect(c.getpeername()).toBe(name);
    // The abstract namespace may use all 108 bytes of sun_path.
    const full = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    const longName = ('\0asyncore-' + process.pid + '-' + 'q'.repeat(200)).slice(0, 108);
    full.bind(longName);
    expect(full.getsockname()).toBe(longName);
    expect(outcome(() => full.bind(longName + 'x'))).toBe('RangeError');
  });

  test('a NUL inside a path is a TypeError (it would name a shorter path)', () => {
    const s = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM));
    const p = own.path(tmpSockPath('nul'));
    expect(outcome(() => s.bind(p + '\0tail'))).toBe('TypeError');
    expect(fs.existsSync(p)).toBe(false);
  });

  test('a path longer than sun_path is a RangeError, not an overflow', () => {
    const s = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM));
    expect(outcome(() => s.bind('/tmp/' + 'x'.repeat(200)))).toBe('RangeError');
    expect(outcome(() => s.bind(42 as unknown as string))).toBe('TypeError');
  });
});

describe('UDP', () => {
  test('sendto(data, addr) and sendto(data, flags, addr); recvfrom gives [data, [host, port]]', () => {
    const r = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    r.bind(['127.0.0.1', 0]);
    const addr = r.getsockname() as [string, number];
    const t = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    expect(t.sendto('first', addr)).toBe(5);
    expect(t.sendto(Buffer.from('second'), 0, addr)).toBe(6);
    expect(t.sendto(new Uint8Array([1, 2, 3]), socket.MSG_DONTWAIT, ['localhost', addr[1]])).toBe(3);
    const tname = t.getsockname() as [string, number];
    const got: Array<[string, unknown]> = [];
    for (let i = 0; i < 3; i++) {
      expect(waitReadable(r)).toBe(true);
      const [d, from] = r.recvfrom(100);
      got.push([d.toString('hex'), from]);
    }
    expect(got).toEqual([
      [Buffer.from('first').toString('hex'), ['127.0.0.1', tname[1]]],
      [Buffer.from('second').toString('hex'), ['127.0.0.1', tname[1]]],
      ['010203', ['127.0.0.1', tname[1]]],
    ]);
    expect(outcome(() => t.sendto('x', 'not-a-number' as unknown as number, addr))).toBe('TypeError');
    expect(outcome(() => t.sendto('x', 12 as unknown as [string, number]))).toBe('TypeError');
    expect(outcome(() => t.sendto('x', ['127.0.0.1', 70000]))).toBe('RangeError');
  });

  test("the binding's compact address form: AF_INET as host * 65536 + port, other families unchanged; a non-boolean flag is a TypeError", () => {
    const u = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    u.connect(['10.1.2.3', 4567]);
    expect(binding.getpeername(u.fileno(), true)).toBe(((10 * 256 + 1) * 256 + 2) * 256 * 256 * 256 + 3 * 65536 + 4567);
    expect(binding.getpeername(u.fileno(), false)).toEqual(['10.1.2.3', 4567]);
    expect(binding.getpeername(u.fileno())).toEqual(['10.1.2.3', 4567]);
    const [a, b] = socket.socketpair();
    own.sock(a);
    own.sock(b);
    expect(binding.getsockname(a.fileno(), true)).toBe('');
    expect(() => binding.getpeername(u.fileno(), 1 as unknown as boolean)).toThrow(expect.objectContaining({ name: 'TypeError' }));
  });

  test('IPv4 addresses come back as dotted quads, every octet width', () => {
    for (const host of ['10.200.3.255', '1.10.100.0', '192.168.0.1', '99.9.0.254']) {
      const u = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
      u.connect([host, 9]); // a UDP connect only records the peer
      expect(u.getpeername()).toEqual([host, 9]);
    }
  });

  test('a datagram larger than the buffer is truncated; MSG_TRUNC reports the real length', () => {
    const r = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    r.bind(['127.0.0.1', 0]);
    const t = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    t.sendto(Buffer.alloc(1000, 7), r.getsockname());
    expect(waitReadable(r)).toBe(true);
    const buf = Buffer.alloc(10);
    expect(r.recvInto(buf, 10, socket.MSG_TRUNC)).toBe(1000);
    expect(buf.equals(Buffer.alloc(10, 7))).toBe(true);
  });
});

describe('data transfer semantics', () => {
  test('recv of EOF is an empty Buffer', () => {
    const [a, b] = own.pair();
    b.close();
    const d = a.recv(100);
    expect(Buffer.isBuffer(d)).toBe(true);
    expect(d.length).toBe(0);
    const [c, s] = tcpPair();
    s.close();
    expect(waitReadable(c)).toBe(true);
    expect(c.recv(10)).toHaveLength(0);
  });

  test('recvInto writes in place, at the view offset, only up to nbytes', () => {
    const [a, b] = own.pair();
    const backing = Buffer.alloc(32, 0xee);
    const view = backing.subarray(8, 24); // 16 bytes at offset 8
    a.send('0123456789');
    expect(b.recvInto(view, 4)).toBe(4);
    expect(backing.subarray(8, 12).toString()).toBe('0123');
    expect(backing[7]).toBe(0xee);
    expect(backing[12]).toBe(0xee);
    // The binding's own offset/length window, on a different view type.
    const u16 = new Uint16Array(8);
    expect(binding.recvInto(b.fileno(), u16, 2, 3)).toBe(3);
    const bytes = Buffer.from(u16.buffer);
    expect(bytes.subarray(2, 5).toString()).toBe('456');
    expect(bytes[0]).toBe(0);
    expect(bytes[5]).toBe(0);
    // nbytes 0 means the whole buffer (Python), and more than the buffer is refused.
    expect(b.recvInto(view)).toBe(3);
    expect(view.subarray(0, 3).toString()).toBe('789');
    expect(outcome(() => b.recvInto(view, 17))).toBe('RangeError');
    expect(outcome(() => b.recvInto(view, -1))).toBe('RangeError');
    expect(outcome(() => binding.recvInto(b.fileno(), view, 10, 7))).toBe('RangeError');
    expect(outcome(() => binding.recvInto(b.fileno(), view, 17))).toBe('RangeError');
    expect(outcome(() => b.recvInto('nope' as unknown as Buffer))).toBe('TypeError');
  });

  test('recvInto and send on a SharedArrayBuffer view work (no plain "Invalid argument" Error)', () => {
    const [a, b] = own.pair();
    const shared = new Uint8Array(new SharedArrayBuffer(16));
    shared.set([104, 105]);
    expect(binding.send(a.fileno(), shared, 0, 2)).toBe(2);
    const into = new Uint8Array(new SharedArrayBuffer(8));
    expect(b.recvInto(into)).toBe(2);
    expect(Array.from(into.subarray(0, 2))).toEqual([104, 105]);
    const dv = new DataView(new SharedArrayBuffer(4));
    dv.setUint8(0, 33);
    expect(binding.send(a.fileno(), dv)).toBe(4);
    expect(b.recv(10)[0]).toBe(33);
  });

  test('a detached buffer reads as zero bytes; a window into it is a RangeError', () => {
    const [a, b] = own.pair();
    const ab = new ArrayBuffer(8);
    const view = new Uint8Array(ab);
    structuredClone(ab, { transfer: [ab] });
    expect(view.byteLength).toBe(0);
    expect(a.send(view)).toBe(0);
    expect(binding.send(a.fileno(), ab)).toBe(0);
    expect(outcome(() => binding.send(a.fileno(), view, 0, 4))).toBe('RangeError');
    expect(outcome(() => binding.recvInto(b.fileno(), view, 1))).toBe('RangeError');
  });

  test('sendto re-reads nothing after taking the data: an address getter that detaches the buffer is safe', () => {
    const r = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    r.bind(['127.0.0.1', 0]);
    const port = (r.getsockname() as [string, number])[1];
    const t = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    const ab = new ArrayBuffer(4096);
    const data = new Uint8Array(ab).fill(65);
    const addr: unknown[] = ['127.0.0.1', 0];
    Object.defineProperty(addr, 1, {
      get() {
        if (ab.byteLength) structuredClone(ab, { transfer: [ab] });
        return port;
      },
    });
    // The address is read first, so the data is already empty (detached) when it is taken.
    expect(outcome(() => binding.sendto(t.fileno(), data, 0, 4096, 0, socket.AF_INET, addr))).toBe('RangeError');
    expect(binding.sendto(t.fileno(), data, undefined, undefined, 0, socket.AF_INET, addr)).toBe(0);
    expect(waitReadable(r)).toBe(true);
    expect(r.recv(10)).toHaveLength(0);
  });

  test('recv() stays exact when something else replaces the addon\'s receive buffer between calls', () => {
    const [a, b] = socket.socketpair();
    own.sock(a);
    own.sock(b);
    a.send('first');
    expect(b.recv(100).toString()).toBe('first');
    const [other, generation] = binding.recvBuffer(8); // another caller takes the buffer over
    a.send('second, longer than eight bytes');
    const got = b.recv(100);
    expect(got.toString()).toBe('second, longer than eight bytes');
    // The other caller's generation is now stale in turn: it reads nothing (-1), no bytes lost.
    a.send('third');
    expect(binding.recvScratch(b.fileno(), 8, 0, generation)).toBe(-1);
    expect(b.recv(100).toString()).toBe('third');
    expect(other.length).toBe(8);
    // Results are copies: later reads do not change earlier results.
    a.send('x'.repeat(50));
    b.recv(100);
    expect(got.toString()).toBe('second, longer than eight bytes');
  });

  test('MSG_PEEK leaves the data queued', () => {
    const [a, b] = own.pair();
    a.send('peekaboo');
    expect(b.recv(4, socket.MSG_PEEK).toString()).toBe('peek');
    expect(b.recv(100, socket.MSG_PEEK).toString()).toBe('peekaboo');
    expect(b.recv(100).toString()).toBe('peekaboo');
    b.setblocking(false);
    expect(osError(() => b.recv(1, socket.MSG_PEEK)).code).toBe('EAGAIN');
  });

  test('shutdown(SHUT_WR) gives the peer EOF; the other direction still works', () => {
    const [c, s] = tcpPair();
    c.send('last words');
    c.shutdown(socket.SHUT_WR);
    expect(recvAll(s, 100).toString()).toBe('last words'); // recvAll stops at EOF
    expect(waitReadable(s)).toBe(true);
    expect(s.recv(10)).toHaveLength(0);
    s.sendall('reply');
    expect(recvAll(c, 5).toString()).toBe('reply');
    expect(osError(() => c.send('more')).code).toBe('EPIPE');
    expect(outcome(() => c.shutdown(7))).toBe('RangeError');
  });

  test('send on a closed socketpair peer is EPIPE, not a signal', () => {
    const [a, b] = own.pair();
    b.close();
    const err = osError(() => a.send('x'));
    expect(err.code).toBe('EPIPE');
  });

  test('recv/send of strings and typed arrays; a non-bytes send is a TypeError', () => {
    const [a, b] = own.pair();
    expect(a.send('héllo')).toBe(6); // UTF-8
    expect(b.recv(6).toString('utf8')).toBe('héllo');
    expect(a.send(new Float64Array([1]))).toBe(8);
    expect(b.recv(8).readDoubleLE(0)).toBe(1);
    expect(outcome(() => a.send(123 as unknown as string))).toBe('TypeError');
    expect(outcome(() => a.send(new ArrayBuffer(4) as unknown as Buffer))).toBe('TypeError');
    expect(outcome(() => a.recv(-1))).toBe('RangeError');
    expect(outcome(() => a.recv(1.5))).toBe('TypeError');
    expect(a.recv(0)).toHaveLength(0);
  });
});

describe('fd flags', () => {
  test('new sockets, pairs, pipes and dups are close-on-exec', () => {
    const s = own.sock(new socket.Socket());
    expect(s.getInheritable()).toBe(false);
    const [a, b] = own.pair();
    expect(a.getInheritable()).toBe(false);
    expect(b.getInheritable()).toBe(false);
    const [r, w] = own.pipe();
    expect(binding.getInheritable(r)).toBe(false);
    expect(binding.getInheritable(w)).toBe(false);
    const d = own.fd(binding.dup(r));
    expect(binding.getInheritable(d)).toBe(false);
    s.setInheritable(true);
    expect(s.getInheritable()).toBe(true);
    s.setInheritable(false);
    expect(s.getInheritable()).toBe(false);
    const u = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM));
    expect(u.getInheritable()).toBe(false);
  });

  test('setblocking/gettimeout follow the fd flag', () => {
    const s = own.sock(new socket.Socket());
    expect(s.gettimeout()).toBeNull();
    expect(binding.getBlocking(s.fileno())).toBe(true);
    s.setblocking(false);
    expect(s.gettimeout()).toBe(0);
    expect(binding.getBlocking(s.fileno())).toBe(false);
    s.setblocking(true);
    expect(binding.getBlocking(s.fileno())).toBe(true);
  });

  test('setBlocking works on pipes as on sockets (one ioctl, fcntl where the ioctl is refused)', () => {
    const [r, w] = binding.pipe();
    try {
      for (const fd of [r, w]) {
        binding.setBlocking(fd, false);
        expect(binding.getBlocking(fd)).toBe(false);
        binding.setBlocking(fd, true);
        expect(binding.getBlocking(fd)).toBe(true);
      }
    } finally {
      binding.close(r);
      binding.close(w);
    }
  });

  test('an unsupported family is EAFNOSUPPORT', () => {
    const err = osError(() => new socket.Socket(12345, socket.SOCK_STREAM));
    expect(err.code).toBe('EAFNOSUPPORT');
  });
});

describe('close and OSError', () => {
  test('Socket.close() is idempotent; every operation after it is OSError EBADF', () => {
    const s = new socket.Socket();
    const fd = s.fileno();
    expect(fd).toBeGreaterThan(2);
    s.close();
    expect(s.fileno()).toBe(-1);
    expect(s.closed).toBe(true);
    s.close();
    s.close();
    const ops: Array<[string, () => unknown]> = [
      ['setblocking', () => s.setblocking(false)],
      ['bind', () => s.bind(['127.0.0.1', 0])],
      ['listen', () => s.listen(1)],
      ['accept', () => s.accept()],
      ['connect', () => s.connect(['127.0.0.1', 1])],
      ['connect', () => s.connectEx(['127.0.0.1', 1])],
      ['send', () => s.send('x')],
      ['sendall', () => s.sendall('x')],
      ['sendto', () => s.sendto('x', ['127.0.0.1', 1])],
      ['recv', () => s.recv(1)],
      ['recvInto', () => s.recvInto(Buffer.alloc(1))],
      ['recvfrom', () => s.recvfrom(1)],
      ['shutdown', () => s.shutdown(socket.SHUT_RDWR)],
      ['getsockname', () => s.getsockname()],
      ['getpeername', () => s.getpeername()],
      ['setsockopt', () => s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)],
      ['getsockopt', () => s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)],
      ['getInheritable', () => s.getInheritable()],
      ['setInheritable', () => s.setInheritable(true)],
    ];
    for (const [name, op] of ops) {
      const err = osError(op);
      expect([name, err.errno, err.code]).toEqual([name, E.EBADF, 'EBADF']);
    }
  });

  test('closing an fd twice through the binding is EBADF the second time', () => {
    const [r, w] = binding.pipe();
    binding.close(w);
    binding.close(r);
    expect(osError(() => binding.close(r)).code).toBe('EBADF');
  });

  test('OSError shape: positive errno, code, syscall, instanceof Error, name', () => {
    const [a] = own.pair();
    const fd = a.fileno();
    const err = osError(() => binding.recv(fd + 100_000, 1));
    expect(err).toBeInstanceOf(OSError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('OSError');
    expect(err.errno).toBe(E.EBADF);
    expect(err.errno).toBeGreaterThan(0);
    expect(err.code).toBe('EBADF');
    expect(err.syscall).toBe('recv');
    expect(err.message).toMatch(/EBADF/);
    expect(String(err)).toMatch(/^OSError: /);
    expect(err.stack).toMatch(/^OSError: /);
  });

  test('new OSError(errno, syscall) is usable by users', () => {
    const e = new OSError(E.ECONNRESET, 'mysyscall');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(OSError);
    expect(e.errno).toBe(E.ECONNRESET);
    expect(e.code).toBe('ECONNRESET');
    expect(e.syscall).toBe('mysyscall');
    expect(e.name).toBe('OSError');
    expect(e.message).toContain('ECONNRESET');
    const bare = new OSError(E.EAGAIN);
    expect(bare.code).toBe('EAGAIN');
    expect(bare.syscall).toBeUndefined();
    const custom = new OSError(E.ENOENT, 'open', 'no such thing');
    expect(custom.message).toBe('no such thing');
    // Nonsense errno values still make an error, never a TypeError from the constructor.
    expect(new OSError(99999).code).toBe('E99999');
    expect(new OSError(1.5).code).toBe('E1.5');
    expect(new OSError(2 ** 40).message).toContain('Unknown error');
    expect(thrown(() => {
      throw new OSError(E.EPIPE, 'write');
    })).toBeInstanceOf(OSError);
  });
});
