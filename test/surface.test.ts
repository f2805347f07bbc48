/**
 * What surrounds the asyncore names: misuse that is a TypeError naming what
 * was expected, `util.inspect()`, `Symbol.dispose`, the opt-in half-close
 * (bpo-35913), `NODE_DEBUG=asyncore`, the one-time notice for write events the
 * default handleWrite() ignores, and the finaliser of a dropped Socket.
 *
 * Everything runs over real sockets; what needs a fresh process (a debuglog
 * switch read once, a once-per-process warning, a forced GC) runs in a child.
 */
import './helpers/native';
import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { Dispatcher, DispatcherWithSend, FileDispatcher, OSError, socket, type IPv4Address, type SocketMap } from '../lib';
import { isFdOpen, loopUntil } from './helpers/loop';
import { compiledLib } from './helpers/dist';
import { Owned, checkNoFdLeaks } from './helpers/raw';

const own = new Owned();
let map: SocketMap;
beforeEach(() => {
  map = new Map();
});
afterEach(() => {
  for (const d of [...map.values()]) d.close();
  own.closeAll();
});
checkNoFdLeaks();

/** The error `fn` throws (the test fails when it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** Run `code` (plain JavaScript; `LIB` is the compiled library's path) in a child node. */
function child(code: string, opts: { env?: Record<string, string>; args?: string[] } = {}): { stdout: string; stderr: string; status: number | null } {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  if (opts.env?.NODE_DEBUG === undefined) delete env.NODE_DEBUG;
  const r = spawnSync(process.execPath, [...(opts.args ?? []), '-e', `const LIB = ${JSON.stringify(compiledLib())};\n${code}`], {
    encoding: 'utf8',
    timeout: 30000,
    env,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('misuse is a TypeError that names what was expected', () => {
  const noSocket = (op: string) => new RegExp(`^Dispatcher\\.${op}\\(\\): the dispatcher has no socket yet; call createSocket\\(\\) first or pass a socket to the constructor$`);

  test.each([
    ["new socket.Socket('AF_INET')", () => new socket.Socket('AF_INET' as unknown as number), /^family must be an integer \(socket\.AF_INET, AF_INET6 or AF_UNIX\), got a string$/],
    ['new socket.Socket(2.5)', () => new socket.Socket(2.5), /^family must be an integer .*, got 2\.5$/],
    ['new socket.Socket(null)', () => new socket.Socket(null as unknown as number), /^family must be an integer .*, got null$/],
    ["Dispatcher#createSocket('AF_INET')", () => new Dispatcher(null, map).createSocket('AF_INET' as unknown as number), /^family must be an integer/],
    ['new Dispatcher(5)', () => new Dispatcher(5 as unknown as socket.Socket), /^Dispatcher\(sock, map\): sock must be a socket\.Socket or null, got a number$/],
    ['new Dispatcher({})', () => new Dispatcher({} as socket.Socket), /^Dispatcher\(sock, map\): sock must be a socket\.Socket or null, got an object \(Object\)$/],
    ['new DispatcherWithSend("x")', () => new DispatcherWithSend('x' as unknown as socket.Socket), /^DispatcherWithSend\(sock, map\): sock must be a socket\.Socket or null, got a string$/],
    ['new Dispatcher(null, {})', () => new Dispatcher(null, {} as SocketMap), /^Dispatcher\(sock, map\): map must be a Map \(a SocketMap\) or null, got an object \(Object\)$/],
    ['new Dispatcher(null, [])', () => new Dispatcher(null, [] as unknown as SocketMap), /^Dispatcher\(sock, map\): map must be a Map .*, got an object \(Array\)$/],
    ['Dispatcher#setSocket(5)', () => new Dispatcher(null, map).setSocket(5 as unknown as socket.Socket), /^Dispatcher\.setSocket\(sock\): sock must be a socket\.Socket \(or have fileno\(\)\), got a number$/],
    ["ignoreLogTypes = ['warning']", () => (new Dispatcher(null, map).ignoreLogTypes = ['warning'] as unknown as Set<string>), /^ignoreLogTypes must be a Set of log types, got an object \(Array\)$/],
    ['bind() before createSocket()', () => new Dispatcher(null, map).bind(['127.0.0.1', 0]), noSocket('bind')],
    ['listen() before createSocket()', () => new Dispatcher(null, map).listen(5), noSocket('listen')],
    ['connect() before createSocket()', () => new Dispatcher(null, map).connect(['127.0.0.1', 1]), noSocket('connect')],
    ['accept() before createSocket()', () => new Dispatcher(null, map).accept(), noSocket('accept')],
    ['send() before createSocket()', () => new Dispatcher(null, map).send('x'), noSocket('send')],
    ['recv() before createSocket()', () => new Dispatcher(null, map).recv(10), noSocket('recv')],
    ['setReuseAddr() before createSocket()', () => new Dispatcher(null, map).setReuseAddr(), noSocket('setReuseAddr')],
    ['handleConnectEvent() before createSocket()', () => new Dispatcher(null, map).handleConnectEvent(), noSocket('handleConnectEvent')],
    ['handleExptEvent() before createSocket()', () => new Dispatcher(null, map).handleExptEvent(), noSocket('handleExptEvent')],
  ] as Array<[string, () => unknown, RegExp]>)('%s', (_name, fn, message) => {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(message);
  });

  test("setblocking('no') is a TypeError and leaves the socket as it was; booleans and 0/1 are taken", () => {
    const s = own.sock(new socket.Socket());
    const err = thrown(() => s.setblocking('no' as unknown as boolean));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('setblocking(flag): flag must be a boolean, got a string');
    expect(s.getblocking()).toBe(true);
    s.setblocking(0);
    expect(s.getblocking()).toBe(false);
    s.setblocking(true);
    expect(s.getblocking()).toBe(true);
  });

  test('an unknown family number stays OSError EAFNOSUPPORT, as Python', () => {
    const err = thrown(() => new socket.Socket(12345));
    expect(err).toBeInstanceOf(OSError);
    expect((err as OSError).code).toBe('EAFNOSUPPORT');
  });

  test('a FileDispatcher asked to bind() says its socket has none', () => {
    const [r, w] = own.pipe();
    const d = new FileDispatcher(r, map);
    const err = thrown(() => d.bind(['127.0.0.1', 0]));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('FileDispatcher.bind(): its socket (an object (FileWrapper)) has no bind()');
    d.close();
    void w;
  });

  test('bind() before createSocket() still sets addr first, as asyncore (item 41)', () => {
    const d = new Dispatcher(null, map);
    expect(() => d.bind(['127.0.0.1', 0])).toThrow(TypeError);
    expect(d.addr).toEqual(['127.0.0.1', 0]);
  });
});

describe('util.inspect and Symbol.dispose', () => {
  test('util.inspect(dispatcher) is its toString(), not the map and every field', () => {
    const d = new Dispatcher(null, map);
    d.createSocket();
    d.bind(['127.0.0.1', 0]);
    d.listen(5);
    expect(inspect(d)).toBe(d.toString());
    expect(inspect({ channel: d })).toBe(`{ channel: ${d.toString()} }`);
    expect(inspect(d)).not.toContain('_map');
  });

  test('util.inspect(dispatcher) survives a toString() that throws', () => {
    class Broken extends Dispatcher {
      override toString(): string {
        throw new Error('nope');
      }
    }
    const d = new Broken(null, map);
    expect(inspect(d)).toBe(`<toString() failed for object at 0x${d.objectId.toString(16)}>`);
  });

  test('util.inspect(socket) is its toString()', () => {
    const s = own.sock(new socket.Socket());
    expect(inspect(s)).toBe(`<socket fd=${s.fileno()}, family=${socket.AF_INET}, type=${socket.SOCK_STREAM}, proto=0>`);
  });

  test('`using` closes a Socket and a Dispatcher at the end of the block', () => {
    let sockFd = -1;
    let chanFd = -1;
    let chan: Dispatcher | null = null;
    {
      using s = new socket.Socket();
      sockFd = s.fileno();
      using d = new Dispatcher(null, map);
      d.createSocket();
      chanFd = d._fileno!;
      chan = d;
      expect(isFdOpen(sockFd)).toBe(true);
      expect(map.size).toBe(1);
    }
    expect(isFdOpen(sockFd)).toBe(false);
    expect(isFdOpen(chanFd)).toBe(false);
    expect(map.size).toBe(0);
    expect(chan!.socket!.fileno()).toBe(-1);
  });

  test('[Symbol.dispose]() is close(): twice is harmless', () => {
    const s = new socket.Socket();
    s[Symbol.dispose]();
    s[Symbol.dispose]();
    expect(s.closed).toBe(true);
  });
});

describe('opt-in half-close (allowHalfOpen, handleReadEof)', () => {
  /** A listener in `map` that wraps each accepted socket with `make`. */
  function listen(make: (sock: socket.Socket) => Dispatcher): IPv4Address {
    class Server extends Dispatcher<socket.Socket<IPv4Address>> {
      override handleAccepted(sock: socket.Socket): void {
        make(sock);
      }
    }
    const server = new Server(null, map);
    server.createSocket(socket.AF_INET);
    server.bind(['127.0.0.1', 0]);
    server.listen(5);
    return server.socket.getsockname();
  }

  /** A blocking client that sends `data`, then shuts down its sending half. */
  function clientSendsThenShuts(addr: IPv4Address, data: string): socket.Socket<IPv4Address> {
    const c = own.sock(new socket.Socket(socket.AF_INET));
    c.connect(addr);
    c.sendall(data);
    c.shutdown(socket.SHUT_WR);
    return c;
  }

  /** What a blocking socket reads until EOF (the peer has closed, so this ends). */
  function readAll(s: socket.Socket): string {
    const parts: Buffer[] = [];
    for (;;) {
      const b = s.recv(4096);
      if (b.length === 0) return Buffer.concat(parts).toString();
      parts.push(b);
    }
  }

  test('under the flag, EOF calls handleReadEof(), readable() turns false, and the channel still sends its reply', () => {
    const events: string[] = [];
    let handler: Dispatcher | null = null;
    class Counter extends Dispatcher {
      override allowHalfOpen = true;
      total = 0;
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        this.total += this.recv(3).length; // small reads: several events before EOF
      }
      override handleReadEof(): void {
        events.push(`eof readable=${String(this.readable())} readEof=${String(this.readEof)}`);
        const reply = Buffer.from(`${this.total} bytes\n`);
        expect(this.send(reply)).toBe(reply.length);
        this.close();
      }
      override handleClose(): void {
        events.push('close');
        this.close();
      }
    }
    const addr = listen((sock) => (handler = new Counter(sock, map)));
    const c = clientSendsThenShuts(addr, 'hello, half-closed world');
    expect(loopUntil(() => handler !== null && handler.socket!.fileno() === -1, { usePoll: true, map })).toBe(true);
    expect(events).toEqual(['eof readable=false readEof=true']);
    expect(readAll(c)).toBe('24 bytes\n');
  });

  test('under the flag with no handleReadEof() override, EOF closes the channel as asyncore does', () => {
    const events: string[] = [];
    let handler: Dispatcher | null = null;
    class Plain extends Dispatcher {
      override allowHalfOpen = true;
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        this.recv(64);
      }
      override handleClose(): void {
        events.push('close');
        this.close();
      }
    }
    const addr = listen((sock) => (handler = new Plain(sock, map)));
    const c = clientSendsThenShuts(addr, 'x');
    expect(loopUntil(() => events.length > 0, { usePoll: false, map })).toBe(true);
    expect(events).toEqual(['close']);
    expect(handler!.readEof).toBe(true);
    expect(readAll(c)).toBe('');
  });

  test('without the flag, EOF calls handleClose() and never handleReadEof(); readable() stays true', () => {
    const events: string[] = [];
    class Default extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        this.recv(64);
      }
      override handleReadEof(): void {
        events.push('eof');
      }
      override handleClose(): void {
        events.push(`close readable=${String(this.readable())}`);
        this.close();
      }
    }
    const addr = listen((sock) => new Default(sock, map));
    const c = clientSendsThenShuts(addr, 'x');
    expect(loopUntil(() => events.length > 0, { usePoll: true, map })).toBe(true);
    expect(events).toEqual(['close readable=true']);
    expect(readAll(c)).toBe('');
  });
});

describe('NODE_DEBUG=asyncore', () => {
  const program = `
    const { Dispatcher } = require(LIB);
    const d = new Dispatcher();
    d.handleRead();                                  // 'warning': dropped by default
    d.ignoreLogTypes = new Set(['warning', 'info']);
    d.logInfo('quiet info');                         // dropped by the user's own set
    const e = new Dispatcher();
    e.logInfo('plain info');                         // shown: stdout as usual
  `;

  test('prints what ignoreLogTypes drops on stderr; stdout is as asyncore', () => {
    const r = child(program, { env: { NODE_DEBUG: 'asyncore' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('info: plain info\n');
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ASYNCORE '));
    expect(lines).toEqual([expect.stringMatching(/^ASYNCORE \d+: warning: unhandled read event$/), expect.stringMatching(/^ASYNCORE \d+: info: quiet info$/)]);
  });

  test('without it the default drops warnings silently, as asyncore', () => {
    const r = child(program);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('info: plain info\n');
    expect(r.stderr).toBe('');
  });
});

describe('the notice for write events the default handleWrite() ignores', () => {
  test('a channel left writable() spinning gets one AsyncoreWarning per process; a handled channel none', () => {
    const r = child(`
      const { Dispatcher, loop, socket } = require(LIB);
      const warnings = [];
      process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
      const map = new Map();
      const [a, b, c, d] = [...socket.socketpair(), ...socket.socketpair()];
      class Handled extends Dispatcher { readable() { return false; } handleWrite() {} } // spins, by its own choice
      new Handled(c, map);
      loop({ map, count: 1500, timeout: 1 });
      const before = warnings.length;
      class Spinner extends Dispatcher { readable() { return false; } }   // handleWrite() left as asyncore's
      new Spinner(a, map);
      new Spinner(b, map);                                  // two spinning channels: still one notice
      loop({ map, count: 3000, timeout: 1 });
      setImmediate(() => {
        for (const ch of [...map.values()]) ch.close();
        d.close();
        console.log(JSON.stringify({ before, warnings }));
      });
    `);
    expect(r.status).toBe(0);
    const { before, warnings } = JSON.parse(r.stdout) as { before: number; warnings: Array<{ name: string; code: string; message: string }> };
    expect(before).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].name).toBe('AsyncoreWarning');
    expect(warnings[0].code).toBe('ASYNCORE_IGNORED_WRITES');
    expect(warnings[0].message).toMatch(/^<Spinner[^>]*> got 1000 write events within a second that the default handleWrite\(\) ignored: .*Override writable\(\)/);
  });

  test('ignored write events spread over more than a second give no notice', () => {
    const r = child(`
      const { Dispatcher } = require(LIB);
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.name));
      const d = new Dispatcher();
      for (let i = 0; i < 999; i++) d.handleWrite();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1200);
      d.handleWrite();                                      // the 1000th, 1.2 s after the first
      setImmediate(() => console.log(JSON.stringify(warnings)));
    `);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe('a Socket dropped without close()', () => {
  test('is closed by the garbage collector, with one ResourceWarning for the process', () => {
    const r = child(
      `
      const fs = require('fs');
      const { socket } = require(LIB);
      const warnings = [];
      process.on('warning', (w) => warnings.push({ name: w.name, message: w.message }));
      const isSocket = (fd) => { try { return fs.fstatSync(fd).isSocket(); } catch { return false; } };
      const numbers = [];
      (() => { for (let i = 0; i < 2000; i++) numbers.push(new socket.Socket(socket.AF_INET, socket.SOCK_STREAM).fileno()); })();
      const dropped = numbers.filter(isSocket).length;
      // A closed socket's number, reused by a file, must not be closed by its finaliser;
      // nor may a detached one's.
      let closedNumber = -1, reused = -1, detached = -1;
      (() => {
        const s = new socket.Socket(); closedNumber = s.fileno(); s.close();
        reused = fs.openSync('/dev/null', 'r');             // the lowest free number: the one just closed
        detached = new socket.Socket().detach();
      })();
      (async () => {
        for (let i = 0; i < 100 && numbers.some(isSocket); i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
        for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
        const open = (fd) => { try { fs.fstatSync(fd); return true; } catch { return false; } };
        console.log(JSON.stringify({ dropped, left: numbers.filter(isSocket).length, warnings, reusedNumber: reused === closedNumber, reusedOpen: open(reused), detachedOpen: open(detached) }));
      })();
    `,
      { args: ['--expose-gc'] },
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { dropped: number; left: number; warnings: Array<{ name: string; message: string }>; reusedNumber: boolean; reusedOpen: boolean; detachedOpen: boolean };
    expect(out.dropped).toBe(2000);
    expect(out.left).toBe(0);
    expect(out.reusedNumber).toBe(true);
    expect(out.reusedOpen).toBe(true);
    expect(out.detachedOpen).toBe(true);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0].name).toBe('ResourceWarning');
    expect(out.warnings[0].message).toMatch(/^unclosed socket fd=\d+ was closed by the garbage collector; call close\(\)/);
  });
});

test('recvfrom() gives null as the address on a connected stream socket and an address on a datagram one', () => {
  const [a, b] = [own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM)), own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM))];
  a.bind(['127.0.0.1', 0]);
  b.bind(['127.0.0.1', 0]);
  b.sendto('dgram', a.getsockname());
  const [data, from] = a.recvfrom(100);
  expect(data.toString()).toBe('dgram');
  expect(from).toEqual(b.getsockname());
  const port: number | undefined = from?.[1];
  expect(typeof port).toBe('number');

  const [x, y] = own.pair();
  x.send('stream');
  const [sdata, sfrom] = y.recvfrom(100);
  expect(sdata.toString()).toBe('stream');
  expect(sfrom).toBeNull();
});
