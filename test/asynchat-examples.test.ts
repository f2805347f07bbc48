/**
 * The AsyncChat examples, run as users run them: compiled to dist/examples/
 * and started as child processes (their loops block their own thread), then
 * talked to with Node's own `http` and `net` clients.
 *
 *   examples/http_server.ts   static files over HTTP/1.1
 *   examples/chat_server.ts   a chat room, and its --demo transcript
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const HTTP_SERVER = path.join(ROOT, 'dist', 'examples', 'http_server.js');
const CHAT_SERVER = path.join(ROOT, 'dist', 'examples', 'chat_server.js');

// The examples' own build step (compiles only when dist/examples is missing or stale).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureCompiled } = require('../scripts/run-examples.js') as { ensureCompiled(o?: { quiet?: boolean }): void };

beforeAll(() => {
  ensureCompiled({ quiet: true });
}, 240000);

// ---- child processes -------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
}

/** Start a server example and wait (bounded) for the port it prints. */
function startServer(file: string, args: string[], portLine: RegExp): Promise<Server> {
  const child = spawn(process.execPath, [file, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no port printed within 30 s; stdout: ${out}; stderr: ${err}`));
    }, 30000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = portLine.exec(out);
      if (m !== null && timer) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stdout: () => out, stderr: () => err });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before printing its port; stdout: ${out}; stderr: ${err}`));
    });
  });
}

async function stopServer(s: Server | undefined): Promise<void> {
  if (s === undefined || s.child.exitCode !== null || s.child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => s.child.once('exit', () => resolve()));
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

// ---- HTTP helpers ------------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  reused: boolean;
  localPort: number;
}

function request(port: number, options: http.RequestOptions & { path: string }, agent: http.Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, timeout: 15000, ...options }, (res) => {
      const chunks: Buffer[] = [];
      const localPort = res.socket.localPort ?? -1;
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket, localPort }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', reject);
    req.end();
  });
}

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Split a byte stream into HTTP responses (Content-Length framing; `bodyless` for HEAD answers). */
function parseResponses(data: Buffer, bodyless: boolean[] = []): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0])?.[1] ?? 0);
    const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
    const length = bodyless[out.length] ? 0 : Number(headers.get('content-length') ?? 0);
    out.push({ status, headers, body: rest.subarray(end + 4, end + 4 + length) });
    rest = rest.subarray(end + 4 + length);
  }
  return out;
}

interface RawResult {
  data: Buffer;
  /** The server closed the connection. */
  closed: boolean;
}

/** Send `data` on a fresh connection; collect until `enough(received)` or the server closes (bounded). */
function raw(port: number, data: string | Buffer, enough: (got: Buffer) => boolean = () => false, endAfterWrite = false): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => {
      done = true;
      sock.destroy();
      reject(new Error(`raw exchange timed out; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
    }, 15000);
    sock.on('connect', () => {
      sock.write(data);
      if (endAfterWrite) sock.end();
    });
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      if (enough(Buffer.concat(chunks))) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // a reset after the answer arrived still counts as the server closing
      if (err.code === 'ECONNRESET' && chunks.length > 0) return finish(true);
      if (!done) {
        done = true;
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

const responsesComplete = (n: number, bodyless: boolean[] = []) => (got: Buffer) => {
  const rs = parseResponses(got, bodyless);
  if (rs.length < n) return false;
  const last = rs[n - 1];
  const want = bodyless[n - 1] ? 0 : Number(last.headers.get('content-length') ?? 0);
  return last.body.length === want;
};

// ---- the HTTP server ---------------------------------------------------------------------------

let tmp: string;
let site: string;
let bigFile: Buffer;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asynchat-http-'));
  site = path.join(tmp, 'site');
  fs.mkdirSync(path.join(site, 'sub'), { recursive: true });
  fs.mkdirSync(path.join(site, 'empty dir'));
  fs.writeFileSync(path.join(site, 'index.html'), '<h1>home</h1>\n');
  fs.writeFileSync(path.join(site, 'hello.txt'), 'Hello, world!\n');
  fs.writeFileSync(path.join(site, 'data.json'), '{"a":1}');
  fs.writeFileSync(path.join(site, 'with space.txt'), 'spaced');
  fs.writeFileSync(path.join(site, 'sub', 'inner.css'), 'body{}');
  fs.writeFileSync(path.join(site, 'blob.weird'), Buffer.from([0, 1, 2]));
  bigFile = crypto.randomBytes(1_500_000);
  fs.writeFileSync(path.join(site, 'big.bin'), bigFile);
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP SECRET');
  fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(site, 'escape.txt'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const LISTENING = /listening on http:\/\/127\.0\.0\.1:(\d+)\//;

describe('examples/http_server', () => {
  let server: Server | undefined;

  beforeAll(async () => {
    server = await startServer(HTTP_SERVER, ['--root', site, '--port', '0', '--host', '127.0.0.1'], LISTENING);
  }, 60000);

  afterAll(async () => {
    await stopServer(server);
  }, 20000);

  const port = (): number => server!.port;

  test('prints the chosen port as listening on http://127.0.0.1:PORT/', () => {
    expect(server!.stdout().split('\n')[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(port()).toBeGreaterThan(0);
  });

  test('GET a file: 200, its body, Content-Length and Content-Type', async () => {
    const r = await request(port(), { path: '/hello.txt' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('Hello, world!\n');
    expect(r.headers['content-length']).toBe('14');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    const types = await Promise.all(['/data.json', '/sub/inner.css', '/blob.weird', '/with%20space.txt'].map((p) => request(port(), { path: p })));
    expect(types.map((t) => [t.status, t.headers['content-type']])).toEqual([
      [200, 'application/json'],
      [200, 'text/css; charset=utf-8'],
      [200, 'application/octet-stream'],
      [200, 'text/plain; charset=utf-8'],
    ]);
    expect(types[3].body.toString()).toBe('spaced');
  });

  test('a 1.5 MB file arrives intact (sent through a producer)', async () => {
    const r = await request(port(), { path: '/big.bin' });
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(bigFile.length);
    expect(r.body.length).toBe(bigFile.length);
    expect(r.body.equals(bigFile)).toBe(true);
  });

  test('keep-alive: several requests (and a 404) reuse one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies: Reply[] = [];
      for (const p of ['/hello.txt', '/data.json', '/no-such-file', '/big.bin', '/']) replies.push(await request(port(), { path: p }, agent));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 404, 200, 200]);
      expect(replies.map((r) => r.reused)).toEqual([false, true, true, true, true]);
      expect(new Set(replies.map((r) => r.localPort)).size).toBe(1);
      expect(replies[0].headers.connection).toBe('keep-alive');
      expect(replies[3].body.equals(bigFile)).toBe(true);
      expect(replies[4].body.toString()).toBe('<h1>home</h1>\n');
    } finally {
      agent.destroy();
    }
  });

  test('404 for missing files', async () => {
    const r = await request(port(), { path: '/missing.txt' });
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
  });

  test.each(['/../secret.txt', '/%2e%2e/secret.txt', '/sub/../../secret.txt', '/%2E%2E%2Fsecret.txt', '/escape.txt'])('path traversal %s is refused', async (p) => {
    const r = await request(port(), { path: p });
    expect([403, 404]).toContain(r.status);
    expect(r.body.toString()).not.toContain('TOP SECRET');
  });

  test('HEAD: the headers of a GET, no body', async () => {
    const r = await request(port(), { path: '/big.bin', method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(bigFile.length);
    expect(r.body.length).toBe(0);
    // on the wire too: the next response follows the HEAD answer's head at once
    const got = await raw(port(), 'HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /data.json HTTP/1.1\r\nHost: x\r\n\r\n', responsesComplete(2, [true, false]));
    const [head, get] = parseResponses(got.data, [true, false]);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('14');
    expect(get.status).toBe(200);
    expect(get.body.toString()).toBe('{"a":1}');
  });

  test('directories: a redirect to add the slash, index.html, or a listing', async () => {
    const moved = await request(port(), { path: '/sub' });
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('/sub/');
    const listing = await request(port(), { path: '/sub/' });
    expect(listing.status).toBe(200);
    expect(listing.body.toString()).toContain('href="inner.css"');
    const empty = await request(port(), { path: '/empty%20dir/' });
    expect(empty.status).toBe(200);
    const home = await request(port(), { path: '/' });
    expect(home.body.toString()).toBe('<h1>home</h1>\n');
  });

  test('400 for a malformed request, and the connection is closed', async () => {
    const got = await raw(port(), 'GARBAGE\r\n\r\n');
    expect(got.data.toString('latin1')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(got.closed).toBe(true);
    const noHost = await raw(port(), 'GET / HTTP/1.1\r\n\r\n');
    expect(noHost.data.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    const badHeader = await raw(port(), 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
    expect(badHeader.data.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    const http2 = await raw(port(), 'GET / HTTP/2.0\r\nHost: x\r\n\r\n');
    expect(http2.data.toString('latin1')).toMatch(/^HTTP\/1\.1 505 /);
  });

  test('HTTP/1.0 closes unless it asks for keep-alive; Connection: close is honoured', async () => {
    const ten = await raw(port(), 'GET /hello.txt HTTP/1.0\r\n\r\n');
    expect(ten.closed).toBe(true);
    expect(parseResponses(ten.data)[0].headers.get('connection')).toBe('close');

    const kept = await raw(port(), 'GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /data.json HTTP/1.0\r\n\r\n', responsesComplete(2));
    const both = parseResponses(kept.data);
    expect(both.map((r) => r.headers.get('connection'))).toEqual(['keep-alive', 'close']);

    const close = await raw(port(), 'GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(close.closed).toBe(true);
    expect(parseResponses(close.data)[0].body.toString()).toBe('Hello, world!\n');
  });

  test('pipelined requests are answered in order', async () => {
    const reqs = ['/hello.txt', '/missing', '/data.json', '/sub/inner.css'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('');
    const got = await raw(port(), reqs, responsesComplete(4));
    const rs = parseResponses(got.data);
    expect(rs.map((r) => r.status)).toEqual([200, 404, 200, 200]);
    expect(rs[0].body.toString()).toBe('Hello, world!\n');
    expect(rs[2].body.toString()).toBe('{"a":1}');
    expect(rs[3].body.toString()).toBe('body{}');
  });

  test('a request body is read past (terminator switched to its length), and a half-close still gets the answers', async () => {
    const post = 'POST /hello.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello\r\n\r\nxx';
    const got = await raw(port(), post + 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n', () => false, true);
    const rs = parseResponses(got.data);
    expect(rs.map((r) => r.status)).toEqual([405, 200]);
    expect(rs[0].headers.get('allow')).toBe('GET, HEAD');
    expect(rs[1].body.toString()).toBe('Hello, world!\n');
    expect(got.closed).toBe(true);
  });

  test('a request head over 16 KiB gets 431 (maxIncomingBuffer) and the connection closes', async () => {
    const got = await raw(port(), `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect(got.data.toString('latin1')).toMatch(/^HTTP\/1\.1 431 /);
    expect(got.closed).toBe(true);
  });

  test('the server is still healthy and logged one line per request', async () => {
    const r = await request(port(), { path: '/hello.txt' });
    expect(r.status).toBe(200);
    expect(server!.stdout()).toMatch(/127\.0\.0\.1 "GET \/hello\.txt HTTP\/1\.1" 200/);
    expect(server!.stderr()).toBe('');
  });
});

describe.each(['poll', 'epoll'])('examples/http_server --backend %s', (backend) => {
  let server: Server | undefined;

  beforeAll(async () => {
    server = await startServer(HTTP_SERVER, ['--root', site, '--port=0', `--backend=${backend}`, '--quiet'], LISTENING);
  }, 60000);

  afterAll(async () => {
    await stopServer(server);
  }, 20000);

  test('serves files over one kept-alive connection (epoll falls back to poll with a note where missing)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies: Reply[] = [];
      for (const p of ['/hello.txt', '/big.bin', '/missing', '/hello.txt']) replies.push(await request(server!.port, { path: p }, agent));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 404, 200]);
      expect(replies.map((r) => r.reused)).toEqual([false, true, true, true]);
      expect(replies[1].body.equals(bigFile)).toBe(true);
    } finally {
      agent.destroy();
    }
    if (server!.stderr() !== '') expect(server!.stderr()).toMatch(/backend epoll is not available .*using poll instead/);
  });
});

// ---- the chat server --------------------------------------------------------------------------

const WELCOME = "* welcome: send 'nick NAME' to join, 'who' to list the room, 'quit' to leave";

describe.each(['select', 'poll'])('examples/chat_server --demo (--backend %s)', (backend) => {
  test('runs the script, prints the transcript and exits by itself', () => {
    const r = spawnSync(process.execPath, [CHAT_SERVER, '--demo', '--backend', backend], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[lines.length - 1]).toBe('demo finished');
    const seen = (who: string): string[] => lines.filter((l) => l.startsWith(`[${who}] `)).map((l) => l.slice(who.length + 3));
    const sent = (who: string): string[] => lines.filter((l) => l.startsWith(`${who}> `)).map((l) => l.slice(who.length + 2));
    expect(seen('alice')).toEqual([WELCOME, '* alice joined', '* bob joined', 'alice: hi bob', 'bob: hi alice, how are you?', '* carol joined', '* bob left', 'carol: see you, alice', '* bye']);
    expect(seen('bob')).toEqual([WELCOME, "* say 'nick NAME' first", '* the name alice is taken', '* bob joined', 'alice: hi bob', 'bob: hi alice, how are you?', '* carol joined', '* bye']);
    expect(seen('carol')).toEqual([WELCOME, '* carol joined', '* here: alice, bob, carol', '* bob left', 'carol: see you, alice', '* alice left', '* bye']);
    expect(sent('alice')).toEqual(['nick alice', 'hi bob', 'quit']);
    expect(sent('bob')).toEqual(['hello?', 'nick alice', 'nick bob', 'hi alice, how are you?', 'quit']);
    expect(sent('carol')).toEqual(['nick carol', 'who', 'see you, alice', 'quit']);
  });
});

/** A line-reading net client for the chat server. */
class LineClient {
  readonly lines: string[] = [];
  closed = false;
  private pending = '';
  private readonly sock: net.Socket;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.pending += d;
      let i: number;
      while ((i = this.pending.indexOf('\r\n')) >= 0) {
        this.lines.push(this.pending.slice(0, i));
        this.pending = this.pending.slice(i + 2);
      }
      this.wake();
    });
    this.sock.on('end', () => {
      this.closed = true;
      this.wake();
    });
    this.sock.on('error', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  send(text: string): void {
    this.sock.write(text);
  }

  /** Wait (bounded) until `cond()` holds. */
  async until(cond: () => boolean, what: string, ms = 15000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  has(line: string): () => boolean {
    return () => this.lines.includes(line);
  }

  destroy(): void {
    this.sock.destroy();
  }
}

describe('examples/chat_server as a server', () => {
  let server: Server | undefined;

  beforeAll(async () => {
    server = await startServer(CHAT_SERVER, ['--port', '0', '--backend', 'poll'], /listening on 127\.0\.0\.1:(\d+)/);
  }, 60000);

  afterAll(async () => {
    await stopServer(server);
  }, 20000);

  test('two clients chat, one quits, a too-long line is refused', async () => {
    const ann = new LineClient(server!.port);
    const ben = new LineClient(server!.port);
    try {
      await ann.until(ann.has(WELCOME), 'the welcome');
      await ben.until(ben.has(WELCOME), 'the welcome');
      ann.send('nick ann\n');
      await ann.until(ann.has('* ann joined'), 'ann joined');
      ben.send('nick ben\r\n'); // CRLF lines work too
      await ann.until(ann.has('* ben joined'), 'ben joined (ann)');
      ann.send('hello ');
      ann.send('there\n'); // a line in two writes
      await ben.until(ben.has('ann: hello there'), 'the message (ben)');
      await ann.until(ann.has('ann: hello there'), 'the message (ann)');
      ben.send('quit\n');
      await ben.until(() => ben.closed, 'ben closed');
      expect(ben.lines[ben.lines.length - 1]).toBe('* bye');
      await ann.until(ann.has('* ben left'), 'ben left');
      ann.send('x'.repeat(5000));
      await ann.until(() => ann.closed, 'ann closed for the long line');
      expect(ann.lines[ann.lines.length - 1]).toBe('* lines are limited to 4096 bytes, bye');
    } finally {
      ann.destroy();
      ben.destroy();
    }
  });
});

// ---- idle timeouts (callLater timers reset by activity), over real sockets -------------------------

/** Open a connection and resolve with the seconds until the server closes it (bounded). */
function secondsUntilClosed(port: number, onConnect: (sock: net.Socket) => void = () => {}, limitMs = 20000): Promise<{ seconds: number; data: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let t0 = 0n;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`not closed within ${limitMs} ms; got ${JSON.stringify(data.slice(0, 300))}`));
    }, limitMs);
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, data });
    };
    sock.on('connect', () => {
      t0 = process.hrtime.bigint();
      onConnect(sock);
    });
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('end', done);
    sock.on('error', done);
  });
}

describe.each(['select', 'epoll'])('examples/http_server --idle-timeout (--backend %s)', (backend) => {
  let server: Server | undefined;

  beforeAll(async () => {
    server = await startServer(HTTP_SERVER, ['--root', site, '--port=0', `--backend=${backend}`, '--idle-timeout', '0.5', '--quiet'], LISTENING);
  }, 60000);

  afterAll(async () => {
    await stopServer(server);
  }, 20000);

  test('a connection that sends nothing is closed after the idle timeout, not before', async () => {
    const r = await secondsUntilClosed(server!.port);
    expect(r.seconds).toBeGreaterThanOrEqual(0.45);
    expect(r.seconds).toBeLessThan(10);
    expect(r.data).toBe('');
  });

  test('a kept-alive connection in use stays open past the timeout, and closes once idle', async () => {
    const answers: number[] = [];
    const r = await secondsUntilClosed(server!.port, (sock) => {
      let sent = 0;
      const ask = (): void => {
        sock.write('GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
        sent++;
      };
      ask();
      const every = setInterval(() => {
        if (sent >= 6) return clearInterval(every);
        ask();
      }, 200);
      sock.on('data', (d: Buffer) => {
        for (const m of d.toString('latin1').matchAll(/HTTP\/1\.1 (\d{3}) /g)) answers.push(Number(m[1]));
      });
      sock.on('close', () => clearInterval(every));
    });
    expect(answers).toEqual([200, 200, 200, 200, 200, 200]); // six requests over ~1 s on one connection
    expect(r.seconds).toBeGreaterThanOrEqual(1.0 + 0.45);
    expect(r.seconds).toBeLessThan(15);
    expect(server!.stderr()).toBe('');
  });
});

describe('examples/chat_server --idle-timeout', () => {
  let server: Server | undefined;

  beforeAll(async () => {
    server = await startServer(CHAT_SERVER, ['--port', '0', '--backend', 'poll', '--idle-timeout', '0.6'], /listening on 127\.0\.0\.1:(\d+)/);
  }, 60000);

  afterAll(async () => {
    await stopServer(server);
  }, 20000);

  test('a silent client is told and dropped; one that keeps talking stays', async () => {
    const quiet = new LineClient(server!.port);
    const busy = new LineClient(server!.port);
    let talking: NodeJS.Timeout | undefined;
    try {
      await busy.until(busy.has(WELCOME), 'the welcome (busy)');
      busy.send('nick busy\n');
      await busy.until(busy.has('* busy joined'), 'busy joined');
      const t0 = process.hrtime.bigint();
      await quiet.until(quiet.has(WELCOME), 'the welcome (quiet)');
      let n = 0;
      talking = setInterval(() => busy.send(`line ${++n}\n`), 150);
      await quiet.until(() => quiet.closed, 'the quiet client dropped');
      const took = Number(process.hrtime.bigint() - t0) / 1e9;
      expect(quiet.lines[quiet.lines.length - 1]).toBe('* idle for 0.6 s, bye');
      expect(took).toBeLessThan(10);
      // busy talked all along and is still there, past the 0.6 s
      await new Promise((r) => setTimeout(r, 700));
      expect(busy.closed).toBe(false);
      expect(busy.lines).toContain('busy: line 3');
      clearInterval(talking);
      talking = undefined;
      // now silent, it is dropped too
      await busy.until(() => busy.closed, 'the busy client dropped once silent');
      expect(busy.lines[busy.lines.length - 1]).toBe('* idle for 0.6 s, bye');
    } finally {
      if (talking !== undefined) clearInterval(talking);
      quiet.destroy();
      busy.destroy();
    }
    expect(server!.stderr()).toBe('');
  });
});
