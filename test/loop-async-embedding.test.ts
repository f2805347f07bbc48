/**
 * loopAsync() inside a Node service: state changed outside the loop's
 * handlers (from a timer, an HTTP handler) is seen before Node's event loop
 * next blocks, with no call the user has to make.
 *
 * The peer runs in a process of its own (test/fixtures/digest-peer.js) and
 * answers only once a whole message has arrived, so nothing but the change
 * under test can wake the pass; each pass may wait PASS_TIMEOUT seconds, so a
 * change that is missed shows as a wait of that length. Every byte sent is
 * checked by the peer's SHA-256.
 */
import './helpers/native';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { AsyncChat, Dispatcher, DispatcherWithSend, loop, loopAsync, releaseBackend, socket, type Backend, type SocketMap } from '../lib';
import { hasEpollBackend } from '../lib/backends';
import { epollFdOf } from '../lib/loop-async';
import { binding } from '../lib/native';
import { openFds, fdTarget } from './helpers/fds';

const backends: Backend[] = hasEpollBackend ? ['select', 'poll', 'epoll'] : ['select', 'poll'];
const PASS_TIMEOUT = 20; // seconds: a missed change would wait this long
const SERVED_WITHIN_MS = 3000; // a small fraction of it, generous for a loaded machine
const root = path.resolve(__dirname, '..');

let peer: ChildProcess;
let port: number;

beforeAll(async () => {
  peer = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'digest-peer.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    peer.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    peer.once('error', reject);
  });
});

afterAll(async () => {
  const exited = new Promise((r) => peer.once('exit', r));
  peer.stdin!.end();
  peer.kill();
  await exited;
});

function payloadOf(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed + (i >> 12)) & 0xff;
  return b;
}

function message(payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${payload.length}\n`), payload]);
}

function digestLine(payload: Buffer): string {
  return `${payload.length} ${crypto.createHash('sha256').update(payload).digest('hex')}`;
}

/** Resolves when `cond()` holds; rejects after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A client of the peer that collects its answer lines. */
class Client extends DispatcherWithSend {
  lines: string[] = [];
  private partial = '';
  override handleRead(): void {
    const d = this.recv(65536);
    const parts = (this.partial + d.toString('latin1')).split('\n');
    this.partial = parts.pop()!;
    this.lines.push(...parts);
  }
  override handleClose(): void {
    this.close();
  }
}

/** A client whose writable() answer only a timer changes. */
class Queued extends Client {
  pending: Buffer | null = null;
  override writable(): boolean {
    return !this.connected || this.pending !== null;
  }
  override handleWrite(): void {
    if (this.pending === null) return;
    const n = this.socket!.send(this.pending);
    this.pending = n < this.pending.length ? this.pending.subarray(n) : null;
  }
}

/** The same over asynchat: answers are lines. */
class Chat extends AsyncChat {
  lines: string[] = [];
  private buf: Buffer[] = [];
  constructor(map: SocketMap) {
    super(null, map);
    this.setTerminator('\n');
  }
  override collectIncomingData(data: Buffer): void {
    this.buf.push(data);
  }
  override foundTerminator(): void {
    this.lines.push(Buffer.concat(this.buf).toString('latin1'));
    this.buf = [];
  }
}

function connect<T extends Dispatcher>(d: T): T {
  d.createSocket();
  d.connect(['127.0.0.1', port]);
  return d;
}

let map: SocketMap;
let before: Set<number>;
let ac: AbortController;
let looping: Promise<void> | null;

beforeEach(() => {
  map = new Map();
  before = openFds();
  ac = new AbortController();
  looping = null;
});

afterEach(async () => {
  ac.abort();
  if (looping !== null) await looping.catch(() => {});
  for (const d of [...map.values()]) d.close();
  releaseBackend(map);
  let leaked: number[] = [];
  for (let i = 0; i < 50; i++) {
    leaked = [...openFds()].filter((fd) => !before.has(fd));
    if (leaked.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(leaked.map((fd) => `${fd} ${fdTarget(fd) ?? '?'}`)).toEqual([]);
});

/** Start loopAsync on `map` and wait until every channel in it is connected and the loop is idle. */
async function serve(backend: Backend, channels: Dispatcher[]): Promise<void> {
  looping = loopAsync({ map, backend, timeout: PASS_TIMEOUT, signal: ac.signal });
  looping.catch(() => {}); // judged by the test
  await until(() => channels.every((c) => c.connected), 5000, 'the connections');
  await new Promise((r) => setTimeout(r, 50)); // the loop is now in a pass that waits
}

/** Run `change` from a timer; resolves with the ms until `served()` holds. */
async function fromTimer(change: () => void, served: () => boolean): Promise<number> {
  let t0 = 0;
  setTimeout(() => {
    t0 = performance.now();
    change();
  }, 10);
  await until(() => t0 > 0 && served(), 15000, 'the change to be served');
  return performance.now() - t0;
}

describe.each(backends)('loopAsync, %s backend: changes from outside its handlers', (backend) => {
  test('a channel closed from a timer is gone at the next pass; the others are still served', async () => {
    const a = connect(new Client(null, map));
    const b = connect(new Client(null, map));
    await serve(backend, [a, b]);
    const payload = payloadOf(1000, 1);
    const ms = await fromTimer(
      () => {
        a.close();
        b.send(message(payload));
      },
      () => b.lines.length > 0,
    );
    expect(b.lines).toEqual([digestLine(payload)]);
    expect(ms).toBeLessThan(SERVED_WITHIN_MS);
    expect(map.has(b._fileno!)).toBe(true);
    b.close();
    await looping; // the map is empty: it resolves (no EBADF, no rejection)
  });

  test('writable() turned true from a timer is asked before Node blocks again', async () => {
    const q = connect(new Queued(null, map));
    await serve(backend, [q]);
    const payload = payloadOf(300_000, 2);
    const ms = await fromTimer(
      () => (q.pending = message(payload)),
      () => q.lines.length > 0,
    );
    expect(q.lines).toEqual([digestLine(payload)]);
    expect(ms).toBeLessThan(SERVED_WITHIN_MS);
  });

  test('4 MiB DispatcherWithSend.send() from a timer: what the kernel did not take goes out at once', async () => {
    const c = connect(new Client(null, map));
    await serve(backend, [c]);
    const payload = payloadOf(4 << 20, 3);
    const ms = await fromTimer(
      () => c.send(message(payload)),
      () => c.lines.length > 0,
    );
    expect(c.lines).toEqual([digestLine(payload)]);
    expect(ms).toBeLessThan(SERVED_WITHIN_MS);
  });

  test('2 MiB AsyncChat.push() from a timer', async () => {
    const chat = connect(new Chat(map));
    await serve(backend, [chat]);
    const payload = payloadOf(2 << 20, 4);
    const ms = await fromTimer(
      () => chat.push(message(payload)),
      () => chat.lines.length > 0,
    );
    expect(chat.lines).toEqual([digestLine(payload)]);
    expect(ms).toBeLessThan(SERVED_WITHIN_MS);
  });

  test('a channel created from a node:http request handler is served by the next pass', async () => {
    const idle = connect(new Client(null, map));
    await serve(backend, [idle]);
    const payload = payloadOf(1 << 20, 5);
    const server = http.createServer((_req, res) => {
      const c = connect(new Client(null, map));
      c.send(message(payload)); // queued until connected: DispatcherWithSend sends once it is
      const check = setInterval(() => {
        if (c.lines.length === 0) return;
        clearInterval(check);
        res.end(c.lines[0]);
        c.close();
      }, 2);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const httpPort = (server.address() as { port: number }).port;
    const t0 = performance.now();
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: httpPort, path: '/', agent: false }, (res) => {
          let s = '';
          res.on('data', (d) => (s += d));
          res.on('end', () => resolve(s));
        })
        .on('error', reject);
    });
    const ms = performance.now() - t0;
    await new Promise<void>((r) => server.close(() => r()));
    expect(body).toBe(digestLine(payload));
    expect(ms).toBeLessThan(SERVED_WITHIN_MS);
  });
});

describe('a socket closed behind its dispatcher (POLLNVAL, as poll2 reports it)', () => {
  class Closer extends Dispatcher {
    closes = 0;
    override writable(): boolean {
      return false;
    }
    override handleClose(): void {
      this.closes++;
      this.close();
    }
  }

  test.each(hasEpollBackend ? (['poll', 'epoll'] as const) : (['poll'] as const))('loop(%s) on a fresh map: handleClose(), no error, even when a new epoll fd takes the number', (backend) => {
    const [a, b] = socket.socketpair();
    const d = new Closer(a, map);
    a.close(); // the map still holds the fd; the next fd the process opens takes its number
    const t0 = performance.now();
    loop({ map, backend, timeout: 5, count: 1 });
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(d.closes).toBe(1);
    expect(map.size).toBe(0);
    b.close();
  });

  (hasEpollBackend ? test : test.skip)('loopAsync (epoll): the same, and it resolves with the map empty', async () => {
    const [a, b] = socket.socketpair();
    const d = new Closer(a, map);
    a.close();
    await loopAsync({ map, backend: 'epoll', timeout: 5 });
    expect(d.closes).toBe(1);
    expect(epollFdOf(map)).toBe(-1);
    b.close();
  });
});

describe('LoopOptions', () => {
  test('an unknown key is a TypeError that lists the known ones, for loop() and loopAsync()', async () => {
    expect(() => loop({ map, timeOut: 1 } as never)).toThrow(/unknown option 'timeOut'; the options are: timeout, usePoll, backend, map, count$/);
    await expect(loopAsync({ map, sigal: null } as never)).rejects.toThrow(/unknown option 'sigal'; the options are: timeout, usePoll, backend, map, count, signal$/);
  });

  test('undefined is taken for every optional field; the positional form still works', async () => {
    const [a, b] = socket.socketpair();
    const d = new Dispatcher(a, map);
    d.writable = () => false;
    b.send('x');
    let reads = 0;
    d.handleRead = () => {
      reads++;
      d.recv(16);
    };
    loop({ timeout: undefined, usePoll: undefined, backend: undefined, map, count: 1 });
    expect(reads).toBe(1);
    b.send('y');
    loop(0.5, undefined, map, 1);
    expect(reads).toBe(2);
    b.send('z');
    await loopAsync({ timeout: 0.5, usePoll: undefined, backend: undefined, map, count: 1, signal: undefined });
    expect(reads).toBe(3);
    d.close();
    b.close();
  });
});

describe('worker.terminate() while the worker blocks in loop()', () => {
  test.each([...backends, 'idle select' as const])('%s: the wait ends with the worker, not after its 30 s timeout', async (which) => {
    const lib = JSON.stringify(path.join(root, 'dist', 'lib'));
    const backend = which === 'idle select' ? 'select' : which;
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { Dispatcher, socket, loop } = require(${lib});
      const map = new Map();
      const [a, b] = socket.socketpair();
      const d = new Dispatcher(a, map);
      d.writable = () => false;
      if (${which === 'idle select'}) d.readable = () => false; // nothing to wait for: the pass sleeps
      parentPort.postMessage([a.fileno(), b.fileno()]);
      loop({ map, backend: '${backend}', timeout: 30 });
    `;
    const w = new Worker(code, { eval: true });
    const fds = await new Promise<number[]>((r) => w.once('message', r));
    await new Promise((r) => setTimeout(r, 100)); // it is in its wait now
    const t0 = performance.now();
    expect(await w.terminate()).toBe(1);
    expect(performance.now() - t0).toBeLessThan(5000);
    for (const fd of fds) binding.close(fd); // a terminated worker runs no JavaScript: its sockets are ours to close
  });
});
