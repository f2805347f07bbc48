/**
 * An HTTP client built on Dispatcher (the PyMOTW article's
 * asyncore_http_client.py): each HttpClient connects in its constructor, is
 * writable while its request is unsent, collects the response in handleRead
 * and sums it up in handleClose. Several clients download at once, in one loop.
 *
 *   node dist/examples/http_client.js                 fetch two pages from a local server
 *   node dist/examples/http_client.js URL [URL …]     fetch those (http:// only)
 *   --backend=select|poll|epoll picks loop()'s readiness call (default select)
 *   --connect-timeout=SECONDS gives up on a server that does not answer (default 10)
 *
 * Each client arms a connect timeout (`callLater`) before it connects and
 * cancels it in handleConnect(); if it fires first, the client closes and
 * reports `connect timed out`. The loop wakes for that timer only, and a
 * pending connect timer keeps it running (see the README's "Timers").
 *
 * With no URL it runs offline: a tiny HTTP/1.0 server made of Dispatchers
 * (HttpServer, one HttpResponder per connection) joins the same socket map,
 * serves `/` and `/lorem.txt`, and stops listening after two requests.
 * (Node's own http server could not answer here: `loop()` blocks the thread,
 * so Node's event loop never runs until it returns.)
 */
import * as fs from 'node:fs';
import { Dispatcher, DispatcherWithSend, loop, socket, type Address, type IPv4Address, type TimerHandle } from '../lib/index';
import { backendOption, examplePath, formatAddress, getLogger, type Logger, positionalArgs, preview } from './support/logger';

/** The parts of an HTTP response a client prints. */
export interface ResponseSummary {
  /** The status line, e.g. `HTTP/1.0 200 OK`; `''` when nothing came back. */
  statusLine: string;
  status: number;
  contentLength: number | null;
  bodyLength: number;
}

/** Split a raw response into status line, headers and body. */
export function summarize(response: Buffer): ResponseSummary {
  const end = response.indexOf('\r\n\r\n');
  const head = (end < 0 ? response : response.subarray(0, end)).toString('latin1').split('\r\n');
  const statusLine = head[0] ?? '';
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const lengthHeader = head.find((h) => /^content-length:/i.test(h));
  return {
    statusLine,
    status,
    contentLength: lengthHeader === undefined ? null : Number(lengthHeader.slice(lengthHeader.indexOf(':') + 1).trim()),
    bodyLength: end < 0 ? 0 : response.length - end - 4,
  };
}

/** Downloads one http:// URL. Its logger is named after the URL, as in the article. */
export class HttpClient extends Dispatcher {
  readonly url: string;
  readonly logger: Logger;
  private writeBuffer: Buffer;
  private readBuffer: Buffer[] = [];
  /** Bytes of response (headers included) received so far. */
  received = 0;
  /** Set by handleClose(). */
  summary: ResponseSummary | null = null;
  /** Closes the client if it is not connected within `connectTimeout` seconds; cancelled by handleConnect(). */
  private connectTimer: TimerHandle | null = null;
  /** The connect timer fired: the server never answered. */
  timedOut = false;

  /**
   * @param url the http:// URL to fetch
   * @param connectTimeout seconds to wait for the connection before giving up
   */
  constructor(
    url: string,
    readonly connectTimeout = 10,
  ) {
    super();
    this.url = url;
    this.logger = getLogger(url);
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:') throw new Error(`only http:// URLs are supported, not ${url}`);
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] -> ::1
    const port = parsed.port === '' ? 80 : Number(parsed.port);
    this.writeBuffer = Buffer.from(`GET ${parsed.pathname}${parsed.search} HTTP/1.0\r\nHost: ${parsed.host}\r\nConnection: close\r\n\r\n`);
    this.createSocket(host.includes(':') ? socket.AF_INET6 : socket.AF_INET, socket.SOCK_STREAM);
    const address: Address = [host, port];
    this.logger.debug(`connecting to ${formatAddress(address)}`);
    this.connectTimer = this.callLater(connectTimeout, this.handleConnectTimeout); // before connect(): it may complete at once
    this.connect(address);
  }

  override handleConnect(): void {
    this.logger.debug('handleConnect()');
    this.connectTimer?.cancel();
  }

  /** The server did not answer in time: give up (close() also cancels the timer). */
  private handleConnectTimeout(): void {
    this.logger.debug(`no connection after ${this.connectTimeout} s: giving up`);
    this.timedOut = true;
    this.handleClose();
  }

  override handleClose(): void {
    if (this.summary !== null) return; // a poll() pass may report the hang-up again after recv() saw it
    this.close();
    this.summary = summarize(Buffer.concat(this.readBuffer));
    const { statusLine, bodyLength } = this.summary;
    this.logger.debug(`handleClose() -> got ${this.received} bytes: ${statusLine || 'no response'}, body ${bodyLength} bytes`);
  }

  /** Writable only while part of the request is unsent. */
  override writable(): boolean {
    const isWritable = this.writeBuffer.length > 0;
    if (isWritable) this.logger.debug(`writable() -> ${isWritable}`);
    return isWritable;
  }

  override readable(): boolean {
    this.logger.debug('readable() -> true');
    return true;
  }

  override handleWrite(): void {
    const sent = this.send(this.writeBuffer);
    this.logger.debug(`handleWrite() -> ${preview(this.writeBuffer.subarray(0, sent))}`);
    this.writeBuffer = this.writeBuffer.subarray(sent);
  }

  override handleRead(): void {
    const data = this.recv(8192);
    this.logger.debug(`handleRead() -> ${data.length} bytes`);
    this.readBuffer.push(data);
    this.received += data.length;
  }
}

/** A page the local server serves. */
export interface Page {
  contentType: string;
  body: Buffer;
}

/** The local site: an index page and examples/lorem.txt. */
export function localPages(): Map<string, Page> {
  const index = [
    '<!DOCTYPE html>',
    '<html><head><title>asyncore-node examples</title></head>',
    '<body><h1>asyncore-node examples</h1>',
    '<p>Served by an HttpServer Dispatcher from the same socket map as the clients.</p>',
    '<ul><li><a href="/lorem.txt">lorem.txt</a></li></ul>',
    '</body></html>',
    '',
  ].join('\n');
  return new Map([
    ['/', { contentType: 'text/html; charset=utf-8', body: Buffer.from(index) }],
    ['/lorem.txt', { contentType: 'text/plain; charset=utf-8', body: fs.readFileSync(examplePath('lorem.txt')) }],
  ]);
}

/** Listens and hands each connection to an {@link HttpResponder}; stops after `maxRequests` connections. */
export class HttpServer extends Dispatcher<socket.Socket<IPv4Address>> {
  readonly logger: Logger = getLogger('HttpServer');
  private served = 0;

  constructor(
    address: Address,
    readonly pages: Map<string, Page>,
    readonly maxRequests = Infinity,
  ) {
    super();
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.setReuseAddr();
    this.bind(address);
    this.listen(5);
    this.logger.debug(`listening on ${formatAddress(this.address)}`);
  }

  /** Where the server really listens (port 0 asks the kernel to pick one). */
  get address(): IPv4Address {
    return this.socket.getsockname();
  }

  override handleAccepted(sock: socket.Socket, addr: Address): void {
    this.logger.debug(`handleAccepted() -> ${formatAddress(addr)}`);
    new HttpResponder(sock, this.pages);
    if (++this.served >= this.maxRequests) this.handleClose();
  }

  override handleClose(): void {
    this.logger.debug('handleClose()');
    this.close();
  }
}

/**
 * Answers one HTTP/1.0 GET and closes. DispatcherWithSend keeps what the
 * kernel did not take yet and stays writable until it is all sent.
 */
export class HttpResponder extends DispatcherWithSend {
  readonly logger: Logger = getLogger('HttpResponder');
  private request: Buffer = Buffer.alloc(0);
  private responded = false;

  constructor(
    sock: socket.Socket,
    readonly pages: Map<string, Page>,
  ) {
    super(sock);
  }

  /** Read until the request's blank line; after that only write. */
  override readable(): boolean {
    return !this.responded;
  }

  override handleRead(): void {
    const data = this.recv(8192);
    if (data.length === 0) return; // the client left before asking: handleClose() has run
    this.request = Buffer.concat([this.request, data]);
    if (this.request.includes('\r\n\r\n')) this.respond();
  }

  private respond(): void {
    this.responded = true;
    const requestLine = this.request.toString('latin1', 0, this.request.indexOf('\r\n'));
    this.logger.debug(`handleRead() -> ${preview(requestLine, 60)}`);
    const [method, target] = requestLine.split(' ');
    const page = this.pages.get((target ?? '').split('?')[0]);
    let status = '200 OK';
    let type = page?.contentType ?? 'text/plain';
    let body = page?.body ?? Buffer.from('not found\n');
    if (method !== 'GET') [status, type, body] = ['405 Method Not Allowed', 'text/plain', Buffer.from('GET only\n')];
    else if (page === undefined) status = '404 Not Found';
    const head = `HTTP/1.0 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    this.logger.debug(`responding ${status}, ${body.length} bytes`);
    this.send(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    this.closeIfDone();
  }

  override handleWrite(): void {
    super.handleWrite();
    this.closeIfDone();
  }

  /** HTTP/1.0: the end of the response is the end of the connection. */
  private closeIfDone(): void {
    if (this.responded && this.outBuffer.length === 0 && this.connected) this.handleClose();
  }

  override handleClose(): void {
    this.logger.debug('handleClose()');
    this.close();
  }
}

/** `--connect-timeout=SECONDS`, default 10. */
function connectTimeoutOption(): number {
  const arg = process.argv.find((a) => a.startsWith('--connect-timeout='));
  if (arg === undefined) return 10;
  const seconds = Number(arg.slice('--connect-timeout='.length));
  if (!(seconds > 0)) throw new Error(`--connect-timeout must be a positive number of seconds, not ${arg.slice(18)}`);
  return seconds;
}

function main(): void {
  const root = getLogger();
  const urls = positionalArgs();
  const connectTimeout = connectTimeoutOption();
  const unsupported = urls.filter((u) => !u.startsWith('http://'));
  if (unsupported.length > 0) {
    console.error(`only http:// URLs are supported: ${unsupported.join(' ')}`);
    process.exitCode = 2;
    return;
  }
  if (urls.length === 0) {
    const server = new HttpServer(['127.0.0.1', 0], localPages(), 2);
    const [host, port] = server.address;
    urls.push(`http://${host}:${port}/`, `http://${host}:${port}/lorem.txt`);
  }
  const clients = urls.map((url) => new HttpClient(url, connectTimeout));

  root.debug('LOOP STARTING');
  loop(backendOption());
  root.debug('LOOP DONE');

  for (const c of clients) {
    const s = c.summary;
    const detail = c.timedOut
      ? `connect timed out after ${c.connectTimeout} s`
      : s === null || s.statusLine === ''
        ? 'no response'
        : `status ${s.status}, Content-Length ${s.contentLength ?? '-'}, body ${s.bodyLength} bytes`;
    console.log(`${c.url} got ${c.received} bytes (${detail})`);
    if (s === null || s.status === 0) process.exitCode = 1;
  }
}

if (require.main === module) main();
