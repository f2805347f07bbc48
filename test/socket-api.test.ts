/**
 * The socket module's functions beyond the Socket class (lib/netdb.ts and
 * the module functions of lib/socket.ts, over native/netdb.cc and
 * native/messages.cc), on real sockets: getaddrinfo and the other lookups,
 * GaiError, inet_pton/ntop, interface names, fromfd, createConnection,
 * createServer, sendmsg/recvmsg with ancillary data, sendFds/recvFds (also
 * between two processes), SOCK_SEQPACKET. Every fd is closed (checkNoFdLeaks).
 */
import './helpers/native';
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { socket, OSError, GaiError } from '../lib';
import { compiledLib } from './helpers/dist';
import { binding, checkNoFdLeaks, hasProcFd, ipv6Loopback, Owned, outcome, thrown, tmpSockPath, waitReadable } from './helpers/raw';
import { openFds } from './helpers/loop';

const E = os.constants.errno;
const own = new Owned();
afterEach(() => own.closeAll());
checkNoFdLeaks();

/** Reads until `want` bytes came or EOF (each wait bounded). */
function recvAll(s: socket.Socket, want = Infinity): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < want && waitReadable(s, 10)) {
    const b = s.recv(65536);
    if (b.length === 0) break;
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts);
}

describe('getaddrinfo', () => {
  test("Python's 5-tuples: [family, type, proto, canonname, address]", () => {
    const r = socket.getaddrinfo('127.0.0.1', 8080, socket.AF_INET, socket.SOCK_STREAM);
    expect(r).toEqual([[socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, '', ['127.0.0.1', 8080]]]);
  });

  test('IPv6 addresses are 4-tuples; a service name and a numeric string work as ports', () => {
    const r = socket.getaddrinfo('::1', 'http', socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST);
    expect(r[0]).toEqual([socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, '', ['::1', 80, 0, 0]]);
    expect(socket.getaddrinfo('127.0.0.1', '443', socket.AF_INET, socket.SOCK_DGRAM)[0]![4]).toEqual(['127.0.0.1', 443]);
  });

  test('host null: the loopback, or the wildcard with AI_PASSIVE; port null: port 0', () => {
    const loop = socket.getaddrinfo(null, 80, socket.AF_INET, socket.SOCK_STREAM);
    expect(loop[0]![4]).toEqual(['127.0.0.1', 80]);
    const any = socket.getaddrinfo(null, 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_PASSIVE);
    expect(any[0]![4]).toEqual(['0.0.0.0', 80]);
    expect(socket.getaddrinfo('127.0.0.1', null, socket.AF_INET, socket.SOCK_STREAM)[0]![4]).toEqual(['127.0.0.1', 0]);
  });

  test('AI_CANONNAME fills the first entry', () => {
    const r = socket.getaddrinfo('localhost', 80, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_CANONNAME);
    expect(typeof r[0]![3]).toBe('string');
    expect(r[0]![3].length).toBeGreaterThan(0);
  });

  test('every answer connects: a listener found through getaddrinfo', () => {
    const l = own.sock(socket.createServer(['127.0.0.1', 0]));
    const port = (l.getsockname() as [string, number])[1];
    const [family, type, proto, , address] = socket.getaddrinfo('127.0.0.1', port, socket.AF_INET, socket.SOCK_STREAM)[0]!;
    const c = own.sock(new socket.Socket(family, type, proto));
    c.connect(address);
    own.sock(l.accept()[0]);
    expect(c.getpeername()).toEqual(['127.0.0.1', port]);
  });

  test('a name that cannot be resolved: GaiError, an OSError whose errno is the EAI_* code', () => {
    // AI_NUMERICHOST: no DNS involved, always EAI_NONAME.
    const e = thrown(() => socket.getaddrinfo('not-a-number', 80, 0, 0, 0, socket.AI_NUMERICHOST)) as GaiError;
    expect(e).toBeInstanceOf(GaiError);
    expect(e).toBeInstanceOf(OSError);
    expect(e).toBeInstanceOf(socket.gaierror);
    expect(e.errno).toBe(socket.EAI_NONAME);
    expect(e.code).toBe('EAI_NONAME');
    expect(e.syscall).toBe('getaddrinfo');
    expect(e.hostname).toBe('not-a-number');
    expect(e.name).toBe('GaiError');
    expect(e.message).toMatch(new RegExp(`^\\[Errno ${socket.EAI_NONAME}\\] EAI_NONAME: .+ \\(getaddrinfo not-a-number\\)$`));
    expect(e.message).not.toMatch(/Unknown error/);
  });

  test('an unknown service and a bad family are GaiErrors too', () => {
    const svc = thrown(() => socket.getaddrinfo('127.0.0.1', 'no-such-service-x', socket.AF_INET, socket.SOCK_STREAM)) as GaiError;
    expect(svc).toBeInstanceOf(GaiError);
    expect([socket.EAI_SERVICE, socket.EAI_NONAME]).toContain(svc.errno);
    const fam = thrown(() => socket.getaddrinfo('127.0.0.1', 80, 12345)) as GaiError;
    expect(fam).toBeInstanceOf(GaiError);
    expect(fam.code).toBe('EAI_FAMILY');
  });

  test('wrong argument types: TypeError; out-of-range integers: RangeError', () => {
    expect(outcome(() => socket.getaddrinfo(5 as unknown as string, 80))).toBe('TypeError');
    expect(outcome(() => socket.getaddrinfo('a\0b', 80))).toBe('TypeError');
    expect(outcome(() => socket.getaddrinfo('127.0.0.1', {} as unknown as number))).toBe('TypeError');
    expect(outcome(() => socket.getaddrinfo('127.0.0.1', 1.5))).toBe('TypeError');
    expect(outcome(() => socket.getaddrinfo('127.0.0.1', 80, 2 ** 40))).toBe('RangeError');
  });

  test('the EAI_* constants are exported, distinct, and name their GaiError codes', () => {
    const codes = [socket.EAI_AGAIN, socket.EAI_BADFLAGS, socket.EAI_FAIL, socket.EAI_FAMILY, socket.EAI_MEMORY, socket.EAI_NONAME, socket.EAI_SERVICE, socket.EAI_SOCKTYPE];
    for (const c of codes) expect(typeof c).toBe('number');
    expect(new Set(codes).size).toBe(codes.length);
    expect(new GaiError(socket.EAI_AGAIN).code).toBe('EAI_AGAIN');
  });
});

describe('GaiError where an address is resolved', () => {
  test.each(['bind', 'connect', 'sendto'])('%s() with a host that does not resolve', (op) => {
    const s = own.sock(new socket.Socket(socket.AF_INET, op === 'sendto' ? socket.SOCK_DGRAM : socket.SOCK_STREAM));
    const addr: socket.Address = ['no-such-host.invalid', 80];
    const e = thrown(() => (op === 'bind' ? s.bind(addr) : op === 'connect' ? s.connect(addr) : s.sendto('x', addr))) as GaiError;
    expect(e).toBeInstanceOf(GaiError);
    // Without a network the resolver may say "try again" instead of "no such name".
    expect([socket.EAI_NONAME, socket.EAI_AGAIN, socket.EAI_NODATA, socket.EAI_FAIL]).toContain(e.errno);
    expect(e.code).toMatch(/^EAI_/);
    expect(e.hostname).toBe('no-such-host.invalid');
  });

  test('gethostbyname() of such a host', () => {
    expect(thrown(() => socket.gethostbyname('no-such-host.invalid'))).toBeInstanceOf(GaiError);
  });
});

describe('host names', () => {
  test('gethostname() is the kernel host name', () => {
    expect(socket.gethostname()).toBe(os.hostname());
  });

  test("gethostbyname(): numeric text as is, '' the wildcard, '<broadcast>', names resolved", () => {
    expect(socket.gethostbyname('10.1.2.3')).toBe('10.1.2.3');
    expect(socket.gethostbyname('')).toBe('0.0.0.0');
    expect(socket.gethostbyname('<broadcast>')).toBe('255.255.255.255');
    expect(socket.gethostbyname('localhost')).toMatch(/^127\./);
    expect(outcome(() => socket.gethostbyname(7 as unknown as string))).toBe('TypeError');
  });

  test("getfqdn(): a name (dotted if the host has one), the local host's for '' and '0.0.0.0'", () => {
    const fqdn = socket.getfqdn();
    expect(typeof fqdn).toBe('string');
    expect(fqdn.length).toBeGreaterThan(0);
    expect(socket.getfqdn('0.0.0.0')).toBe(fqdn);
    expect(socket.getfqdn('  ')).toBe(fqdn);
    // A name that does not resolve comes back as it is, as in Python.
    expect(socket.getfqdn('no-such-host.invalid')).toBe('no-such-host.invalid');
    // 127.0.0.1 has a name in every hosts file.
    expect(socket.getfqdn('127.0.0.1')).not.toBe('');
  });
});

describe('inetPton / inetNtop', () => {
  test('round trips, both families', () => {
    expect(socket.inetPton(socket.AF_INET, '192.168.0.1')).toEqual(Buffer.from([192, 168, 0, 1]));
    expect(socket.inetNtop(socket.AF_INET, Buffer.from([192, 168, 0, 1]))).toBe('192.168.0.1');
    const v6 = socket.inetPton(socket.AF_INET6, '2001:db8::1');
    expect(v6.length).toBe(16);
    expect(socket.inetNtop(socket.AF_INET6, v6)).toBe('2001:db8::1');
    expect(socket.inetNtop(socket.AF_INET6, new Uint8Array(16))).toBe('::');
  });

  test("Python's errors: bad text OSError EINVAL, bad family EAFNOSUPPORT / RangeError, bad length RangeError", () => {
    const bad = thrown(() => socket.inetPton(socket.AF_INET, '1.2.3')) as OSError;
    expect(bad).toBeInstanceOf(OSError);
    expect(bad.errno).toBe(E.EINVAL);
    expect(bad.message).toBe('illegal IP address string passed to inet_pton');
    expect((thrown(() => socket.inetPton(socket.AF_UNIX, '1.2.3.4')) as OSError).errno).toBe(E.EAFNOSUPPORT);
    expect(outcome(() => socket.inetNtop(socket.AF_INET, Buffer.alloc(5)))).toBe('RangeError');
    expect(outcome(() => socket.inetNtop(12345, Buffer.alloc(4)))).toBe('RangeError');
    expect(outcome(() => socket.inetNtop(socket.AF_INET, 'abcd' as unknown as Buffer))).toBe('TypeError');
    expect(outcome(() => socket.inetPton(socket.AF_INET, null as unknown as string))).toBe('TypeError');
  });
});

describe('interface names', () => {
  test('ifNameindex() lists them; ifNametoindex/ifIndextoname agree with it', () => {
    const all = socket.ifNameindex();
    expect(all.length).toBeGreaterThan(0);
    for (const [index, name] of all) {
      expect(socket.ifNametoindex(name)).toBe(index);
      expect(socket.ifIndextoname(index)).toBe(name);
    }
  });

  test("unknown names and indexes: OSError (Python's 'no interface with this name', ENXIO)", () => {
    const e = thrown(() => socket.ifNametoindex('no-such-if0')) as OSError;
    expect(e).toBeInstanceOf(OSError);
    expect(e.message).toBe('no interface with this name');
    const used = new Set(socket.ifNameindex().map(([i]) => i));
    let free = 4000;
    while (used.has(free)) free++;
    expect((thrown(() => socket.ifIndextoname(free)) as OSError).errno).toBe(E.ENXIO);
    expect(outcome(() => socket.ifIndextoname(-1))).toBe('RangeError');
  });
});

describe('fromfd', () => {
  test('a Socket over a duplicate: both work, closing one leaves the other', () => {
    const [a, b] = own.pair();
    const dup = own.sock(socket.fromfd(a.fileno(), socket.AF_UNIX, socket.SOCK_STREAM));
    expect(dup.fileno()).not.toBe(a.fileno());
    expect(dup.getInheritable()).toBe(false);
    a.close();
    dup.sendall('via dup');
    expect(recvAll(b, 7).toString()).toBe('via dup');
  });

  test('a closed fd: OSError EBADF', () => {
    const [a] = own.pair();
    const fd = a.fileno();
    a.close();
    expect((thrown(() => socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)) as OSError).errno).toBe(E.EBADF);
  });
});

describe('createServer / createConnection', () => {
  test('a server Python-style (SO_REUSEADDR, listening) and a client connected to it', () => {
    const srv = own.sock(socket.createServer(['127.0.0.1', 0], { backlog: 5 }));
    expect(srv.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)).not.toBe(0);
    expect(srv.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)).not.toBe(0);
    const c = own.sock(socket.createConnection(srv.getsockname() as [string, number]));
    const [s] = srv.accept();
    own.sock(s);
    c.sendall('hi');
    expect(recvAll(s, 2).toString()).toBe('hi');
    expect(c.getblocking()).toBe(true);
  });

  test('createConnection() by name, with a timeout, from a source address', () => {
    const srv = own.sock(socket.createServer(['127.0.0.1', 0]));
    const port = (srv.getsockname() as [string, number])[1];
    const c = own.sock(socket.createConnection(['localhost', port], 5, ['127.0.0.1', 0]));
    own.sock(srv.accept()[0]);
    expect((c.getpeername() as [string, number])[1]).toBe(port);
    expect(c.getblocking()).toBe(true); // back to blocking after the timed connect
  });

  test('a refused connection throws the last error (ECONNREFUSED), with or without a timeout', () => {
    const holder = own.sock(new socket.Socket());
    holder.bind(['127.0.0.1', 0]); // bound, not listening: refused
    const addr = holder.getsockname() as [string, number];
    expect((thrown(() => socket.createConnection(addr)) as OSError).code).toBe('ECONNREFUSED');
    expect((thrown(() => socket.createConnection(addr, 2)) as OSError).code).toBe('ECONNREFUSED');
  });

  test('timeout 0 is non-blocking, as in Python: EINPROGRESS', () => {
    const srv = own.sock(socket.createServer(['127.0.0.1', 0]));
    const e = thrown(() => own.sock(socket.createConnection(srv.getsockname() as [string, number], 0))) as OSError;
    expect(e.code).toBe('EINPROGRESS');
  });

  test('a connect that does not finish in time: OSError ETIMEDOUT "timed out"', () => {
    // A listener whose accept queue is full: the kernel drops further SYNs.
    const srv = own.sock(socket.createServer(['127.0.0.1', 0], { backlog: 0 }));
    const addr = srv.getsockname() as [string, number];
    let timedOut: OSError | null = null;
    for (let i = 0; i < 8 && timedOut === null; i++) {
      try {
        own.sock(socket.createConnection(addr, 0.3));
      } catch (err) {
        timedOut = err as OSError;
      }
    }
    expect(timedOut).not.toBeNull();
    expect(timedOut!.errno).toBe(E.ETIMEDOUT);
    expect(timedOut!.message).toBe('timed out');
  });

  test('bad timeouts and addresses', () => {
    expect(outcome(() => socket.createConnection(['127.0.0.1', 1], -1))).toBe('RangeError');
    expect(outcome(() => socket.createConnection(['127.0.0.1', 1], NaN))).toBe('RangeError');
    expect(outcome(() => socket.createConnection(['127.0.0.1', 1], '1' as unknown as number))).toBe('TypeError');
    expect(outcome(() => socket.createConnection('127.0.0.1:1' as unknown as [string, number]))).toBe('TypeError');
  });

  test("a bind failure names the address; unknown options are a TypeError listing the known ones", () => {
    const srv = own.sock(socket.createServer(['127.0.0.1', 0]));
    const e = thrown(() => own.sock(socket.createServer(srv.getsockname()))) as OSError;
    expect(e.errno).toBe(E.EADDRINUSE);
    expect(e.message).toMatch(/while attempting to bind on address \["127\.0\.0\.1",\d+\]/);
    const t = thrown(() => socket.createServer(['127.0.0.1', 0], { backlg: 1 } as unknown as socket.CreateServerOptions));
    expect(t.name).toBe('TypeError');
    expect(t.message).toContain('family, backlog, reusePort, dualstackIpv6');
    // undefined is the default (exactOptionalPropertyTypes callers)
    own.sock(socket.createServer(['127.0.0.1', 0], { backlog: undefined, family: undefined }));
  });

  test('reusePort: two servers on one port', () => {
    if (socket.SO_REUSEPORT === undefined) return;
    const a = own.sock(socket.createServer(['127.0.0.1', 0], { reusePort: true }));
    const b = own.sock(socket.createServer(a.getsockname(), { reusePort: true }));
    expect(b.getsockname()).toEqual(a.getsockname());
  });

  test('AF_INET6: IPv6-only by default; dualstackIpv6 also accepts IPv4', () => {
    if (!ipv6Loopback) return;
    const only = own.sock(socket.createServer(['::1', 0], { family: socket.AF_INET6 }));
    expect(only.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)).toBe(1);
    expect(outcome(() => socket.createServer(['127.0.0.1', 0], { dualstackIpv6: true }))).toBe('RangeError'); // needs AF_INET6
    if (!socket.hasDualstackIpv6()) return;
    const dual = own.sock(socket.createServer(['', 0], { family: socket.AF_INET6, dualstackIpv6: true }));
    const port = (dual.getsockname() as [string, number])[1];
    const c = own.sock(socket.createConnection(['127.0.0.1', port], 5));
    const [s, addr] = dual.accept();
    own.sock(s);
    expect((addr as [string, number])[0]).toBe('::ffff:127.0.0.1');
    expect(c.getpeername()).toEqual(['127.0.0.1', port]);
  });

  test('AF_UNIX servers work too', () => {
    const p = own.path(tmpSockPath('srv'));
    const srv = own.sock(socket.createServer(p, { family: socket.AF_UNIX }));
    const c = own.sock(new socket.Socket(socket.AF_UNIX));
    c.connect(p);
    own.sock(srv.accept()[0]);
  });
});

describe('sendmsg / recvmsg', () => {
  test("gathered buffers arrive as one stream; recvmsg is [data, ancdata, msgFlags, address]", () => {
    const [a, b] = own.pair();
    expect(a.sendmsg(['ab', Buffer.from('cd'), new Uint8Array([0x65])])).toBe(5);
    expect(waitReadable(b)).toBe(true);
    expect(b.recvmsg(100)).toEqual([Buffer.from('abcde'), [], 0, null]);
  });

  test('datagrams: the sender address, and MSG_TRUNC for a short buffer', () => {
    const pa = own.path(tmpSockPath('dga'));
    const pb = own.path(tmpSockPath('dgb'));
    const a = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    const b = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_DGRAM));
    a.bind(pa);
    b.bind(pb);
    a.sendmsg(['hello ', 'world'], [], 0, pb);
    expect(waitReadable(b)).toBe(true);
    const [data, anc, flags, addr] = b.recvmsg(5);
    expect(data.toString()).toBe('hello');
    expect(anc).toEqual([]);
    expect(flags & socket.MSG_TRUNC).toBe(socket.MSG_TRUNC);
    expect(addr).toBe(pa);
  });

  test('SCM_RIGHTS by hand: the received fd is a new, close-on-exec fd for the same socket', () => {
    const [a, b] = own.pair();
    const [x, y] = own.pair();
    a.sendmsg(['fd'], [[socket.SOL_SOCKET, socket.SCM_RIGHTS, Int32Array.of(x.fileno())]]);
    expect(waitReadable(b)).toBe(true);
    const [data, anc, flags] = b.recvmsg(10, socket.CMSG_SPACE(4));
    expect(data.toString()).toBe('fd');
    expect(flags).toBe(0);
    expect(anc.length).toBe(1);
    const [level, type, payload] = anc[0]!;
    expect([level, type, payload.length]).toEqual([socket.SOL_SOCKET, socket.SCM_RIGHTS, 4]);
    const got = own.sock(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, payload.readInt32LE(0)));
    expect(got.fileno()).not.toBe(x.fileno());
    expect(got.getInheritable()).toBe(false);
    got.sendall('through the passed fd');
    expect(recvAll(y, 21).toString()).toBe('through the passed fd');
  });

  test('CMSG_LEN / CMSG_SPACE', () => {
    expect(socket.CMSG_LEN(0)).toBeGreaterThan(0);
    expect(socket.CMSG_LEN(4)).toBe(socket.CMSG_LEN(0) + 4);
    expect(socket.CMSG_SPACE(4)).toBeGreaterThanOrEqual(socket.CMSG_LEN(4));
    expect(outcome(() => socket.CMSG_LEN(-1))).toBe('RangeError');
  });

  test('bad arguments: TypeError or RangeError, never a send', () => {
    const [a, b] = own.pair();
    expect(outcome(() => a.sendmsg('abc' as unknown as string[]))).toBe('TypeError');
    expect(outcome(() => a.sendmsg(5 as unknown as string[]))).toBe('TypeError');
    expect(outcome(() => a.sendmsg([5 as unknown as string]))).toBe('TypeError');
    expect(outcome(() => a.sendmsg(['x'], [[1, 2] as unknown as socket.AncDataItem]))).toBe('TypeError');
    expect(outcome(() => a.sendmsg(['x'], [['a', 2, 'x'] as unknown as socket.AncDataItem]))).toBe('TypeError');
    expect(outcome(() => a.sendmsg(['x'], [[socket.SOL_SOCKET, socket.SCM_RIGHTS, Buffer.alloc(2 << 20)]]))).toBe('RangeError');
    expect(outcome(() => b.recvmsg(-1))).toBe('RangeError');
    expect(outcome(() => b.recvmsg(10, -1))).toBe('RangeError');
    expect(outcome(() => b.recvmsg(10, 1.5))).toBe('TypeError');
    b.setblocking(false);
    expect((thrown(() => b.recvmsg(10)) as OSError).errno).toBe(E.EAGAIN); // nothing was sent
    const fd = a.fileno();
    a.close();
    expect((thrown(() => binding.sendmsg(fd, [Buffer.from('x')], [], 0, socket.AF_UNIX)) as OSError).errno).toBe(E.EBADF);
  });

  test('an fd that is not open: OSError EBADF from the kernel', () => {
    const [a] = own.pair();
    const [x] = own.pair();
    const closed = x.fileno();
    x.close();
    expect((thrown(() => socket.sendFds(a, ['x'], [closed])) as OSError).errno).toBe(E.EBADF);
  });
});

describe('sendFds / recvFds', () => {
  test('several fds, one message; the Socket methods do the same', () => {
    const [a, b] = own.pair();
    const [x, y] = own.pair();
    const [p, q] = own.pair();
    expect(socket.sendFds(a, ['two'], [x.fileno(), p.fileno()])).toBe(3);
    expect(waitReadable(b)).toBe(true);
    const [msg, fds, flags, addr] = socket.recvFds(b, 10, 4);
    expect([msg.toString(), fds.length, flags, addr]).toEqual(['two', 2, 0, null]);
    for (const fd of fds) own.fd(fd);
    binding.write(fds[0]!, Buffer.from('1'));
    binding.write(fds[1]!, Buffer.from('2'));
    expect(recvAll(y, 1).toString()).toBe('1');
    expect(recvAll(q, 1).toString()).toBe('2');

    a.sendFds(['m'], [x.fileno()]);
    expect(waitReadable(b)).toBe(true);
    const [, more] = b.recvFds(10, 1);
    expect(more.length).toBe(1);
    own.fd(more[0]!);
  });

  test('more fds than maxfds: MSG_CTRUNC, no fds returned and none left open', () => {
    if (!hasProcFd) return;
    const [a, b] = own.pair();
    const [x] = own.pair();
    const [p] = own.pair();
    const before = openFds();
    socket.sendFds(a, ['x'], [x.fileno(), p.fileno(), x.fileno()]);
    expect(waitReadable(b)).toBe(true);
    const [msg, fds, flags] = socket.recvFds(b, 10, 1);
    expect(msg.toString()).toBe('x'); // the data is never lost
    expect(fds).toEqual([]);
    expect(flags & socket.MSG_CTRUNC).toBe(socket.MSG_CTRUNC);
    expect(openFds()).toEqual(before);
    // recvmsg with no room at all: the kernel drops them, nothing leaks either.
    socket.sendFds(a, ['y'], [x.fileno()]);
    expect(waitReadable(b)).toBe(true);
    const [, anc, f2] = b.recvmsg(10);
    expect(anc).toEqual([]);
    expect(f2 & socket.MSG_CTRUNC).toBe(socket.MSG_CTRUNC);
    expect(openFds()).toEqual(before);
  });

  test('bad fds lists and maxfds', () => {
    const [a, b] = own.pair();
    expect(outcome(() => socket.sendFds(a, ['x'], [1.5]))).toBe('TypeError');
    expect(outcome(() => socket.sendFds(a, ['x'], [-1]))).toBe('RangeError');
    expect(outcome(() => socket.sendFds(a, ['x'], 3 as unknown as number[]))).toBe('TypeError');
    expect(outcome(() => socket.sendFds({} as socket.Socket, ['x'], []))).toBe('TypeError');
    expect(outcome(() => socket.recvFds(b, 10, -1))).toBe('RangeError');
    expect(outcome(() => socket.recvFds(b, 10, 'x' as unknown as number))).toBe('TypeError');
  });

  test('SOCK_SEQPACKET pairs keep message boundaries and carry fds', () => {
    const [a, b] = own.pair(socket.AF_UNIX, socket.SOCK_SEQPACKET);
    expect(b.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE)).toBe(socket.SOCK_SEQPACKET);
    const [x, y] = own.pair();
    a.send('one');
    socket.sendFds(a, ['two'], [x.fileno()]);
    expect(waitReadable(b)).toBe(true);
    expect(b.recv(100).toString()).toBe('one');
    const [msg, fds] = socket.recvFds(b, 100, 1);
    expect(msg.toString()).toBe('two');
    own.fd(fds[0]!);
    binding.write(fds[0]!, Buffer.from('z'));
    expect(recvAll(y, 1).toString()).toBe('z');
  });
});

describe('fd passing between two processes', () => {
  test('a child receives a listening socket over AF_UNIX and serves a connection on it', async () => {
    const ctlPath = own.path(tmpSockPath('ctl'));
    const ctl = own.sock(socket.createServer(ctlPath, { family: socket.AF_UNIX }));
    const listener = socket.createServer(['127.0.0.1', 0]);
    const addr = listener.getsockname() as [string, number];
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'fd-pass-child.js'), ctlPath], {
      env: { ...process.env, ASYNCORE_LIB: compiledLib() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      expect(waitReadable(ctl, 20)).toBe(true);
      const [conn] = ctl.accept();
      own.sock(conn);
      socket.sendFds(conn, ['listener'], [listener.fileno()]);
      listener.close(); // from here on only the child holds the listening socket
      expect(recvAll(conn, 6).toString()).toBe('ready\n');

      const c = own.sock(socket.createConnection(addr, 10));
      c.sendall('hello\n');
      expect(recvAll(c).toString()).toBe(`child ${child.pid} got: hello\n`);
      expect(await exited).toBe(0);
      const report = JSON.parse(out.trim()) as { msg: string; inheritable: boolean; accepting: number; address: unknown };
      expect(report).toEqual({ msg: 'listener', inheritable: false, accepting: 1, address: addr });
    } finally {
      clearTimeout(killer);
      listener.close();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (err) console.log(err);
    }
  }, 60_000);
});
