/**
 * A small HTTP/1.1 static-file server on AsyncChat.
 *
 *   node dist/examples/http_server.js [--root DIR] [--host 127.0.0.1] [--port 0]
 *                                     [--backend select|poll|epoll] [--idle-timeout 60] [--quiet]
 *
 * It prints `listening on http://HOST:PORT/` (port 0 lets the kernel choose)
 * and serves the files under `--root` (default: the current directory) to GET
 * and HEAD requests: Content-Length and Content-Type by file extension,
 * `index.html` or a listing for directories, 404 for what is not there, 403
 * for paths that would leave the root (`..`, encoded or not, and symlinks
 * pointing out), 400 for malformed requests. Connections are kept alive as
 * HTTP/1.1 says (HTTP/1.0 only on `Connection: keep-alive`, either version
 * closes on `Connection: close`), and pipelined requests are answered in order.
 *
 * How it uses AsyncChat: the terminator starts as `\r\n\r\n`, so
 * `foundTerminator()` gets a whole request head; a request with a body
 * switches it to the body's length and back. Files go out through a producer
 * that reads 64 KiB per `more()`, so a large file never sits in memory.
 * `maxIncomingBuffer` caps a request head at 16 KiB (431 beyond). Each
 * connection has an idle timer (`callLater(idleTimeout, this.close)`), reset
 * by every read and write: a client silent for `--idle-timeout` seconds is
 * dropped, and the loop wakes for that timer only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AsyncChat, BufferOverflowError, Dispatcher, OSError, loop, socket, type Address, type Backend, type IPv4Address, type IPv6Address, type Producer, type TimerHandle } from '../lib/index';
import { chooseBackend, hostPort, parseServerArgs } from './support/cli';

const MAX_HEAD = 16 * 1024;
const CHUNK = 64 * 1024;
/** Seconds a closing connection may linger, reading what the client still sends, before it is closed. */
const LINGER = 2;
const SERVER = 'asyncore-node-example';

const REASONS: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

/** The Content-Type for a file name, by its extension. */
export function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---- parsing a request head ----------------------------------------------------------------

/** A parsed request head. */
export interface Request {
  method: string;
  target: string;
  /** `[major, minor]` */
  version: [number, number];
  /** Header values by lower-case name; repeated headers are joined with ', '. */
  headers: Map<string, string>;
  keepAlive: boolean;
  contentLength: number;
}

/** A request that cannot be served: the status to answer with. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d)\.(\d)$/;

/** Parse a request head (without its final blank line); throws HttpError. */
export function parseRequest(head: string): Request {
  const lines = head.replace(/^(\r\n)+/, '').split('\r\n'); // empty lines before a request are allowed (RFC 9112 §2.2)
  const m = REQUEST_LINE.exec(lines[0]);
  if (m === null) throw new HttpError(400, 'malformed request line');
  const [, method, target, major, minor] = m;
  const version: [number, number] = [Number(major), Number(minor)];
  if (version[0] !== 1) throw new HttpError(505, `HTTP/${major}.${minor} is not supported`);

  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    // no folded lines, no space before the colon (RFC 9112 §5)
    if (colon <= 0 || !TOKEN.test(name)) throw new HttpError(400, 'malformed header line');
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(key);
    headers.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }

  if (version[1] >= 1) {
    const host = headers.get('host');
    if (host === undefined || host.includes(',')) throw new HttpError(400, 'an HTTP/1.1 request needs exactly one Host header');
  }
  if (headers.has('transfer-encoding')) throw new HttpError(501, 'request bodies in Transfer-Encoding are not supported');
  let contentLength = 0;
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    const values = new Set(cl.split(',').map((v) => v.trim()));
    const only = [...values][0];
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) throw new HttpError(400, 'bad Content-Length');
    contentLength = Number(only);
  }

  const connection = (headers.get('connection') ?? '').toLowerCase().split(',').map((t) => t.trim());
  const keepAlive = connection.includes('close') ? false : version[1] >= 1 || connection.includes('keep-alive');
  return { method, target, version, headers, keepAlive, contentLength };
}

/** The decoded path of a request target (origin form, or absolute form); throws HttpError. */
export function targetPath(target: string): string {
  let raw: string;
  if (target.startsWith('/')) {
    raw = target.split('?')[0];
  } else if (/^https?:\/\//i.test(target)) {
    try {
      raw = new URL(target).pathname;
    } catch {
      throw new HttpError(400, 'malformed URL');
    }
  } else {
    throw new HttpError(400, 'the request target must be a path');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'bad percent-encoding in the path');
  }
  if (decoded.includes('\0')) throw new HttpError(400, 'NUL in the path');
  return decoded;
}

// ---- what a response sends ------------------------------------------------------------------

/**
 * A producer for a file's bytes: opens the file at its first `more()` (so
 * queued responses hold no fd), reads 64 KiB per call, and stops after the
 * `size` bytes promised in Content-Length. If the file is gone or shorter
 * by then, `onShort` runs: the response cannot be finished.
 */
export class FileProducer implements Producer {
  private fd: number | null = null;

  constructor(
    readonly file: string,
    private remaining: number,
    private readonly onShort: () => void,
  ) {}

  more(): Buffer {
    if (this.remaining <= 0) {
      this.release();
      return Buffer.alloc(0);
    }
    try {
      if (this.fd === null) this.fd = fs.openSync(this.file, 'r');
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, this.remaining));
      const n = fs.readSync(this.fd, buf, 0, buf.length, null);
      if (n === 0) throw new Error('the file got shorter');
      this.remaining -= n;
      if (this.remaining === 0) this.release();
      return buf.subarray(0, n);
    } catch {
      this.remaining = 0;
      this.release();
      this.onShort();
      return Buffer.alloc(0);
    }
  }

  /** Close the file, if open. */
  release(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

// ---- the server -----------------------------------------------------------------------------------

export interface ServerOptions {
  root: string;
  quiet?: boolean;
  /** Seconds a connection may sit idle (nothing read or written) before it is closed; default 60. */
  idleTimeout?: number;
}

/** Listens, and gives each connection an {@link HttpChannel}. */
export class HttpServer extends Dispatcher<socket.Socket<IPv4Address | IPv6Address>> {
  /** The root, with symlinks resolved. */
  readonly root: string;
  readonly quiet: boolean;
  readonly idleTimeout: number;
  readonly channels = new Set<HttpChannel>();

  constructor(address: Address, options: ServerOptions) {
    super();
    this.root = fs.realpathSync(options.root);
    if (!fs.statSync(this.root).isDirectory()) throw new Error(`${options.root} is not a directory`);
    this.quiet = options.quiet ?? false;
    this.idleTimeout = options.idleTimeout ?? 60;
    this.createSocket(typeof address !== 'string' && address[0].includes(':') ? socket.AF_INET6 : socket.AF_INET, socket.SOCK_STREAM);
    this.setReuseAddr();
    this.bind(address);
    this.listen(128);
  }

  /** Where the server really listens (port 0 asks the kernel to pick one). */
  get address(): IPv4Address | IPv6Address {
    return this.socket.getsockname();
  }

  override handleAccepted(sock: socket.Socket, addr: Address): void {
    this.channels.add(new HttpChannel(this, sock, addr));
  }

  accessLog(line: string): void {
    if (!this.quiet) process.stdout.write(line + '\n');
  }

  override handleClose(): void {
    this.close();
  }
}

/** One client connection: reads request heads, answers each in order. */
export class HttpChannel extends AsyncChat<socket.Socket> {
  /** The request whose body is being read (and dropped), if any. */
  private pending: Request | null = null;
  /** Closes the connection once nothing was read or written for `idleTimeout` s (then, lingering, for 2 s). */
  private idle: TimerHandle;
  /** All answers are sent and the write side is shut: reading (and dropping) until the client closes. */
  lingering = false;

  constructor(
    readonly server: HttpServer,
    sock: socket.Socket,
    readonly peer: Address,
  ) {
    super(sock);
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); // a response's last piece must not wait for an ACK
    this.setTerminator('\r\n\r\n');
    this.maxIncomingBuffer = MAX_HEAD;
    this.idle = this.callLater(server.idleTimeout, this.close); // close() cancels it
  }

  /** No more requests are read once the connection is on its way out (only dropped while lingering). */
  override readable(): boolean {
    return !this.closing || this.lingering;
  }

  override handleRead(): void {
    this.idle.reset();
    if (!this.lingering) {
      super.handleRead();
      return;
    }
    try {
      this.recv(CHUNK); // dropped; at EOF recv() calls handleClose()
    } catch (err) {
      if (!(err instanceof OSError && err.code === 'EAGAIN')) throw err;
    }
  }

  override handleWrite(): void {
    this.idle.reset();
    super.handleWrite();
  }

  override collectIncomingData(data: Buffer): void {
    if (this.pending === null) this._collectIncomingData(data); // a body is dropped as it comes
  }

  override foundTerminator(): void {
    if (this.closing) return;
    if (this.pending !== null) {
      // the end of a request body
      const req = this.pending;
      this.pending = null;
      this.setTerminator('\r\n\r\n');
      this.respond(req);
      return;
    }
    const head = this._getData().toString('latin1');
    if (head.trim() === '') return; // stray blank lines between requests
    let req: Request;
    try {
      req = parseRequest(head);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      this.logRequest(head.split('\r\n')[0], err.status);
      this.sendError(err.status, err.message, false);
      return;
    }
    if (req.contentLength > 0) {
      this.pending = req;
      this.setTerminator(req.contentLength);
    } else {
      this.respond(req);
    }
  }

  /** Answer one request. */
  private respond(req: Request): void {
    let status: number;
    try {
      status = this.serve(req);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      status = err.status;
      this.sendError(err.status, err.message, req.keepAlive, req.method === 'HEAD');
    }
    this.logRequest(`${req.method} ${req.target} HTTP/${req.version.join('.')}`, status);
  }

  /** Send the file or listing `req` asks for; throws HttpError for the error answers. */
  private serve(req: Request): number {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.sendError(405, `${req.method} is not supported`, req.keepAlive, false, { Allow: 'GET, HEAD' });
      return 405;
    }
    const urlPath = targetPath(req.target);
    const head = req.method === 'HEAD';
    const [file, st] = this.resolve(urlPath);
    if (st.isDirectory()) {
      if (!urlPath.endsWith('/')) {
        const location = encodeURI(urlPath + '/');
        this.sendPage(301, 'text/html; charset=utf-8', Buffer.from(`<a href="${escapeHtml(location)}">moved</a>\n`), req.keepAlive, head, { Location: location });
        return 301;
      }
      let index: [string, fs.Stats] | null = null;
      try {
        index = this.resolve(urlPath + 'index.html');
      } catch (err) {
        if (!(err instanceof HttpError && err.status === 404)) throw err;
      }
      if (index !== null && index[1].isFile()) return this.sendFile(index[0], index[1], req, head);
      this.sendPage(200, 'text/html; charset=utf-8', this.listing(urlPath, file), req.keepAlive, head);
      return 200;
    }
    if (!st.isFile()) throw new HttpError(403, 'not a regular file');
    return this.sendFile(file, st, req, head);
  }

  /**
   * The file a URL path names, refusing anything outside the root: the path
   * is resolved against the root and must stay in it, and so must its real
   * path (a symlink may point anywhere).
   */
  private resolve(urlPath: string): [string, fs.Stats] {
    const root = this.server.root;
    const prefix = root.endsWith(path.sep) ? root : root + path.sep; // root may be '/'
    const inRoot = (p: string): boolean => p === root || p.startsWith(prefix);
    const candidate = path.resolve(root, '.' + urlPath); // resolve() also folds the '..'s
    if (!inRoot(candidate)) throw new HttpError(403, 'outside the root');
    try {
      const real = fs.realpathSync(candidate);
      if (!inRoot(real)) throw new HttpError(403, 'outside the root');
      return [real, fs.statSync(real)];
    } catch (err) {
      if (err instanceof HttpError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new HttpError(403, 'permission denied');
      throw new HttpError(404, 'no such file');
    }
  }

  private sendFile(file: string, st: fs.Stats, req: Request, head: boolean): number {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch {
      throw new HttpError(403, 'permission denied');
    }
    this.push(this.responseHead(200, contentType(file), st.size, req.keepAlive, { 'Last-Modified': st.mtime.toUTCString() }));
    if (!head && st.size > 0) {
      // Data already sent cannot be taken back: if the file comes up short, the connection is cut.
      this.pushWithProducer(new FileProducer(file, st.size, () => this.close()));
    }
    if (!req.keepAlive) this.finish();
    return 200;
  }

  private listing(urlPath: string, dir: string): Buffer {
    const entries = fs
      .readdirSync(dir, { withFileTypes: true })
      .map((e) => (e.isDirectory() ? e.name + '/' : e.name))
      .sort();
    const items = entries.map((n) => `<li><a href="${escapeHtml(encodeURIComponent(n.replace(/\/$/, '')) + (n.endsWith('/') ? '/' : ''))}">${escapeHtml(n)}</a></li>`);
    const title = `Index of ${escapeHtml(urlPath)}`;
    return Buffer.from(`<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>\n<ul>\n${items.join('\n')}\n</ul></body></html>\n`);
  }

  private responseHead(status: number, type: string, length: number, keepAlive: boolean, extra: Record<string, string> = {}): string {
    const lines = [
      `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}`,
      `Date: ${new Date().toUTCString()}`,
      `Server: ${SERVER}`,
      `Content-Type: ${type}`,
      `Content-Length: ${length}`,
      `Connection: ${keepAlive ? 'keep-alive' : 'close'}`,
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
    ];
    return lines.join('\r\n') + '\r\n\r\n';
  }

  /** Head and body in one push (so in one send when the kernel takes it). */
  private sendPage(status: number, type: string, body: Buffer, keepAlive: boolean, head = false, extra: Record<string, string> = {}): void {
    const h = Buffer.from(this.responseHead(status, type, body.length, keepAlive, extra), 'latin1');
    this.push(head ? h : Buffer.concat([h, body]));
    if (!keepAlive) this.finish();
  }

  private sendError(status: number, message: string, keepAlive: boolean, head = false, extra: Record<string, string> = {}): void {
    const body = Buffer.from(`<!DOCTYPE html>\n<html><body><h1>${status} ${REASONS[status] ?? ''}</h1><p>${escapeHtml(message)}</p></body></html>\n`);
    // After a malformed request the framing is lost: only 4xx answers to well-formed requests keep the connection.
    this.sendPage(status, 'text/html; charset=utf-8', body, keepAlive && status !== 400 && status < 500, head, extra);
  }

  /** Close once everything queued is sent, and read no more. */
  private finish(): void {
    this.closing = true;
    this.closeWhenDone();
  }

  private logRequest(requestLine: string, status: number): void {
    const who = Array.isArray(this.peer) ? this.peer[0] : String(this.peer);
    this.server.accessLog(`${who} "${requestLine.slice(0, 200)}" ${status}`);
  }

  /** A head over the limit: answer 431 and close (instead of the default log-and-close). */
  override handleError(err: unknown): void {
    if (err instanceof BufferOverflowError && !this.closing) {
      this.logRequest('(request head too large)', 431);
      this.sendError(431, `a request head is limited to ${MAX_HEAD} bytes`, false);
      return;
    }
    super.handleError(err);
  }

  /**
   * Called when the queue reaches closeWhenDone()'s marker, and when the
   * client closes or resets. Closing is staged (RFC 9112 §9.6): once the
   * answers are out, only the write side is shut, and what the client still
   * sends is read and dropped until it closes too. Closing at once with
   * unread input would make the kernel send a reset, which can destroy the
   * last answer before the client reads it. A client that half-closes after
   * its last request still gets every answer queued for it.
   */
  override handleClose(): void {
    if (!this.connected || this.lingering) {
      this.close();
    } else if (!this.closing) {
      if (this.producerFifo.length === 0) this.close(); // the client left, nothing is owed
      else this.finish();
    } else if (this.producerFifo.length === 0) {
      try {
        this.socket.shutdown(socket.SHUT_WR);
        this.lingering = true;
        this.idle.cancel();
        this.idle = this.callLater(LINGER, this.close);
      } catch {
        this.close();
      }
    } else {
      this.close(); // gone while answers are still queued: they cannot be delivered
    }
  }

  /** Also close the files of the responses that will not be sent now. */
  override close(): void {
    for (const entry of this.producerFifo) if (entry instanceof FileProducer) entry.release();
    this.server.channels.delete(this);
    super.close();
  }
}

function main(): number {
  const args = parseServerArgs({
    root: { type: 'string', default: '.' },
    'idle-timeout': { type: 'string', default: '60' },
    quiet: { type: 'boolean', default: false },
  });
  if (args.help) {
    process.stdout.write('usage: http_server [--root DIR] [--host 127.0.0.1] [--port 0] [--backend select|poll|epoll] [--idle-timeout 60] [--quiet]\n');
    return 0;
  }
  const idleTimeout = Number(args.values['idle-timeout']);
  if (!(idleTimeout > 0)) throw new Error('--idle-timeout must be a positive number of seconds');
  const backend: Backend = chooseBackend(args.backend);
  const server = new HttpServer([args.host, args.port], { root: String(args.values.root), quiet: args.values.quiet === true, idleTimeout });
  process.stdout.write(`listening on http://${hostPort(args.host, server.address[1])}/\n`);
  loop({ timeout: 30, backend }); // the idle timers end a pass's wait when one is due
  return 0;
}

if (require.main === module) process.exitCode = main();
