/**
 * asyncore's `dispatcher` and `dispatcher_with_send`: a thin wrapper around
 * a non-blocking socket that the loop calls back when it is ready.
 *
 * Behaviour follows CPython 3.11's `Lib/asyncore.py` callback for callback
 * and flag for flag (the checklist items are cited as "item N").
 */
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import {
  AF_INET,
  SO_ERROR,
  SO_REUSEADDR,
  SOCK_STREAM,
  SOL_SOCKET,
  Socket,
  toBytes,
  type Address,
  type BytesLike,
} from './socket';
import { OSError } from './errors';
import { binding } from './native';
import type { FileWrapper } from './file';

const E = osConstants.errno;

/** The errnos that mean "the peer is gone": they close the channel instead of raising (item 3). */
export const DISCONNECTED: ReadonlySet<number> = new Set([E.ECONNRESET, E.ENOTCONN, binding.constants.ESHUTDOWN, E.ECONNABORTED, E.EPIPE, E.EBADF]);

/** A map of fd to channel; the loop serves every channel in it. */
export type SocketMap = Map<number, Dispatcher>;

/** The default map (`asyncore.socket_map`), used wherever a map argument is left out. */
export const socketMap: SocketMap = new Map();

/** Raise this from a handler to stop the loop: it always propagates and never reaches `handleError`. */
export class ExitNow extends Error {
  constructor(message?: string) {
    super(message);
  }
  override get name(): string {
    return 'ExitNow';
  }
}

/**
 * Error classes that always propagate out of the loop instead of going to
 * `handleError` (Python's `_reraised_exceptions`). Add your own to this set.
 */
export const reraisedExceptions: Set<Function> = new Set([ExitNow]);

/** True for an error that the loop must let through (see {@link reraisedExceptions}). */
export function mustReraise(err: unknown): boolean {
  for (const cls of reraisedExceptions) if (err instanceof cls) return true;
  return false;
}

const EMPTY = Buffer.alloc(0);
let nextId = 0x1000;

/** Python's `repr()` for the values an address can hold. */
function pyRepr(v: unknown): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `(${v.map(pyRepr).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (Buffer.isBuffer(v)) return `b'${v.toString('latin1')}'`;
  return String(v);
}

/** `'%s:%d' % addr` where that works, else `repr(addr)` (item 33). */
function formatAddr(addr: unknown): string {
  if (Array.isArray(addr) && addr.length === 2 && typeof addr[1] === 'number') return `${addr[0]}:${Math.trunc(addr[1])}`;
  return pyRepr(addr);
}

/** The compact traceback of an error, as `asyncore.compact_traceback()`: `[file|function|line]` per frame, outermost first. */
export function compactTraceback(err: unknown): { file: string; func: string; line: string; type: string; value: string; info: string } {
  const type = err instanceof Error ? err.name : typeof err;
  const value = err instanceof Error ? err.message : String(err);
  const frames: Array<[string, string, string]> = [];
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/.exec(line);
    if (m) frames.push([path.basename(m[2]), m[1] ?? '?', m[3]]);
  }
  frames.reverse(); // V8 lists innermost first; Python's info runs outermost to innermost
  const shown = frames.slice(-8);
  const [file, func, line] = shown.length ? shown[shown.length - 1] : ['?', '?', '?'];
  return { file, func, line, type, value, info: shown.map((f) => `[${f.join('|')}]`).join(' ') };
}

/**
 * A channel: asyncore's `dispatcher`. Subclass it and override the
 * `handle*` methods; `readable()`/`writable()` say what to wait for.
 *
 * @example
 * class Echo extends Dispatcher {
 *   override handleRead() { this.send(this.recv(8192)); }
 *   override writable() { return false; }
 * }
 */
export class Dispatcher {
  debug = false;
  connected = false;
  accepting = false;
  connecting = false;
  /** A convention for user code; asyncore itself never reads or writes it (item 29). */
  closing = false;
  addr: Address | null = null;
  /** Log types that `logInfo` drops; by default only 'warning' (item 56). */
  ignoreLogTypes: Set<string> = new Set(['warning']);
  socket: Socket | FileWrapper | null = null;
  /** `[family, type]`, set by `createSocket()`. */
  familyAndType?: [number, number];
  /** The fd this channel is registered under, or null. */
  _fileno: number | null = null;
  /** The map this channel registers in by default. */
  _map: SocketMap;
  /** A stable per-object number, shown in `toString()` as Python shows `id()`. */
  readonly objectId: number = nextId++;

  constructor(sock: Socket | null = null, map: SocketMap | null = null) {
    this._map = map ?? socketMap;
    if (sock) {
      // Set to non-blocking just to make sure; an accepted socket arrives blocking (item 43).
      sock.setblocking(false);
      this.setSocket(sock, map);
      this.connected = true;
      try {
        this.addr = sock.getpeername();
      } catch (err) {
        // ENOTCONN: the peer hung up before we got here. EINVAL: the same, on macOS (bpo-10340).
        if (err instanceof OSError && (err.errno === E.ENOTCONN || err.errno === E.EINVAL)) {
          this.connected = false;
        } else {
          this.delChannel(map);
          throw err;
        }
      }
    } else {
      this.socket = null;
    }
  }

  /** Like asyncore's repr: `<Name listening|connected host:port at 0x…>`. */
  toString(): string {
    const status = [this.constructor.name];
    if (this.accepting && this.addr) status.push('listening');
    else if (this.connected) status.push('connected');
    if (this.addr !== null) status.push(formatAddr(this.addr));
    return `<${status.join(' ')} at 0x${this.objectId.toString(16)}>`;
  }

  // ---- the map -----------------------------------------------------------------

  addChannel(map: SocketMap | null = null): void {
    (map ?? this._map).set(this._fileno as number, this);
  }

  delChannel(map: SocketMap | null = null): void {
    const m = map ?? this._map;
    const fd = this._fileno;
    if (fd !== null && m.has(fd)) m.delete(fd);
    this._fileno = null;
  }

  /** Create a non-blocking, close-on-exec socket and register it (item 36). */
  createSocket(family: number = AF_INET, type: number = SOCK_STREAM): void {
    this.familyAndType = [family, type];
    const sock = new Socket(family, type);
    sock.setblocking(false);
    this.setSocket(sock);
  }

  /** Adopt `sock` (anything with `fileno()`) and register it in the map. */
  setSocket(sock: Socket | FileWrapper, map: SocketMap | null = null): void {
    this.socket = sock;
    this._fileno = sock.fileno();
    this.addChannel(map);
  }

  /** Turn SO_REUSEADDR on, quietly doing nothing where that fails (item 38). */
  setReuseAddr(): void {
    try {
      const s = this.socket as Socket;
      s.setsockopt(SOL_SOCKET, SO_REUSEADDR, (s.getsockopt(SOL_SOCKET, SO_REUSEADDR) as number) | 1);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
  }

  // ---- predicates the loop asks every pass ------------------------------------------

  readable(): boolean {
    return true;
  }

  writable(): boolean {
    return true;
  }

  // ---- socket methods ----------------------------------------------------------------

  listen(num: number): void {
    this.accepting = true; // set first: it stays set even if listen() fails (item 40)
    (this.socket as Socket).listen(num);
  }

  bind(addr: Address): void {
    this.addr = addr; // set first: it stays set even if bind() fails (item 41)
    (this.socket as Socket).bind(addr);
  }

  /** Start connecting; completes through `handleConnectEvent` (at once for a connect that finishes now). */
  connect(address: Address): void {
    this.connected = false;
    this.connecting = true;
    const err = (this.socket as Socket).connectEx(address);
    if (err === E.EINPROGRESS || err === E.EALREADY || err === E.EWOULDBLOCK) {
      this.addr = address;
      return;
    }
    if (err === 0 || err === E.EISCONN) {
      this.addr = address;
      this.handleConnectEvent();
    } else {
      throw new OSError(err, 'connect');
    }
  }

  /** Accept a connection: `[socket, address]`, or null when there was none after all (item 43). */
  accept(): [Socket, Address] | null {
    try {
      return (this.socket as Socket).accept();
    } catch (err) {
      if (err instanceof TypeError) return null;
      if (err instanceof OSError && (err.errno === E.EWOULDBLOCK || err.errno === E.ECONNABORTED || err.errno === E.EAGAIN)) return null;
      throw err;
    }
  }

  /** Send what the kernel takes now; 0 when it takes nothing or the peer is gone (item 44). */
  send(data: BytesLike): number {
    try {
      return (this.socket as Socket).send(data);
    } catch (err) {
      if (err instanceof OSError) {
        if (err.errno === E.EWOULDBLOCK) return 0;
        if (DISCONNECTED.has(err.errno)) {
          this.handleClose();
          return 0;
        }
      }
      throw err;
    }
  }

  /**
   * Receive up to `bufferSize` bytes. At EOF or on a disconnect it calls
   * `handleClose()` and returns an empty Buffer; EAGAIN is thrown (item 45).
   */
  recv(bufferSize: number): Buffer {
    try {
      const data = (this.socket as Socket).recv(bufferSize);
      if (data.length === 0) {
        // A closed connection is indicated by signaling a read condition and having recv() return 0.
        this.handleClose();
        return EMPTY;
      }
      return data;
    } catch (err) {
      if (err instanceof OSError && DISCONNECTED.has(err.errno)) {
        this.handleClose();
        return EMPTY;
      }
      throw err;
    }
  }

  /**
   * Clear the flags, leave the map and close the socket. Safe to call twice:
   * the socket forgets its fd before closing it, so a reused fd number is never hit.
   */
  close(): void {
    this.connected = false;
    this.accepting = false;
    this.connecting = false;
    this.delChannel();
    if (this.socket !== null) {
      try {
        this.socket.close();
      } catch (err) {
        if (!(err instanceof OSError) || (err.errno !== E.ENOTCONN && err.errno !== E.EBADF)) throw err;
      }
    }
  }

  // ---- logging -----------------------------------------------------------------------

  /** Write `log: <message>` to stderr (item 55). */
  log(message: unknown): void {
    process.stderr.write(`log: ${String(message)}\n`);
  }

  /** Write `<type>: <message>` to stdout unless `type` is in `ignoreLogTypes` (item 56). */
  logInfo(message: unknown, type = 'info'): void {
    if (!this.ignoreLogTypes.has(type)) process.stdout.write(`${type}: ${String(message)}\n`);
  }

  // ---- events, as the loop delivers them --------------------------------------------------

  handleReadEvent(): void {
    if (this.accepting) {
      // accepting sockets are never connected, they "spawn" new sockets that are connected
      this.handleAccept();
    } else if (!this.connected) {
      if (this.connecting) this.handleConnectEvent();
      this.handleRead();
    } else {
      this.handleRead();
    }
  }

  /** Finish a connect: SO_ERROR non-zero throws; else `handleConnect()` runs, and only then `connected` turns true (item 48). */
  handleConnectEvent(): void {
    const err = (this.socket as Socket).getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) throw new OSError(err, 'connect');
    this.handleConnect();
    this.connected = true;
    this.connecting = false;
  }

  handleWriteEvent(): void {
    if (this.accepting) return; // accepting sockets shouldn't get a write event
    if (!this.connected && this.connecting) this.handleConnectEvent();
    this.handleWrite();
  }

  handleExptEvent(): void {
    // handle_expt_event() is called if there might be an error on the socket, or if there is OOB data
    const err = (this.socket as Socket).getsockopt(SOL_SOCKET, SO_ERROR) as number;
    if (err !== 0) {
      // we can get here when select.select() says that there is an exceptional condition on the socket
      this.handleClose();
    } else {
      this.handleExpt();
    }
  }

  /**
   * Called with the error a handler threw. The default logs one line at type
   * 'error' (the error's name, message and a compact stack) and closes the channel.
   */
  handleError(err: unknown): void {
    const { type, value, info } = compactTraceback(err);
    let self: string;
    try {
      self = this.toString();
    } catch {
      self = `<toString() failed for object at 0x${this.objectId.toString(16)}>`;
    }
    this.logInfo(`uncaptured exception, closing channel ${self} (${type}:${value} ${info})`, 'error');
    this.handleClose();
  }

  handleExpt(): void {
    this.logInfo('unhandled incoming priority event', 'warning');
  }

  handleRead(): void {
    this.logInfo('unhandled read event', 'warning');
  }

  handleWrite(): void {
    this.logInfo('unhandled write event', 'warning');
  }

  handleConnect(): void {
    this.logInfo('unhandled connect event', 'warning');
  }

  handleAccept(): void {
    const pair = this.accept();
    if (pair !== null) this.handleAccepted(pair[0], pair[1]);
  }

  handleAccepted(sock: Socket, addr: Address): void {
    sock.close();
    this.logInfo('unhandled accepted event', 'warning');
  }

  handleClose(): void {
    this.logInfo('unhandled close event', 'warning');
    this.close();
  }
}

/** Python's `repr()` of bytes, for debug lines. @internal */
export function reprBytes(data: BytesLike): string {
  if (typeof data === 'string') return pyRepr(data);
  const b = toBytes(data);
  return pyRepr(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * A dispatcher with an output buffer: `send()` queues and flushes, and the
 * channel is writable while anything is queued (asyncore's `dispatcher_with_send`).
 */
export class DispatcherWithSend extends Dispatcher {
  outBuffer: Buffer = EMPTY;

  constructor(sock: Socket | null = null, map: SocketMap | null = null) {
    super(sock, map);
  }

  /** One send of at most 65536 bytes from the front of `outBuffer` (item 58). */
  initiateSend(): void {
    const num = Dispatcher.prototype.send.call(this, this.outBuffer.subarray(0, 65536));
    this.outBuffer = this.outBuffer.subarray(num);
  }

  override handleWrite(): void {
    this.initiateSend();
  }

  override writable(): boolean {
    return !this.connected || this.outBuffer.length > 0;
  }

  /**
   * Queue `data` and try to send at once (item 60). Returns the number of
   * bytes queued (asyncore returns None).
   */
  override send(data: BytesLike): number {
    if (this.debug) this.logInfo(`sending ${reprBytes(data)}`);
    const bytes = toBytes(data);
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.outBuffer.length === 0) {
      // Same single send as initiateSend() would make, without first copying into outBuffer;
      // only the part the kernel did not take is copied (the caller may reuse its buffer).
      const num = Dispatcher.prototype.send.call(this, buf.subarray(0, 65536));
      this.outBuffer = num === buf.length ? EMPTY : Buffer.from(buf.subarray(num));
    } else {
      this.outBuffer = Buffer.concat([this.outBuffer, buf]);
      this.initiateSend();
    }
    return buf.length;
  }
}
