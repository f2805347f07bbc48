/**
 * asyncore's `dispatcher` and `dispatcher_with_send`: a thin wrapper around
 * a non-blocking socket that the loop calls back when it is ready.
 *
 * Behaviour follows CPython 3.11's `Lib/asyncore.py` callback for callback
 * and flag for flag (the checklist items are cited as "item N": the numbered
 * list in [docs/asyncore-behaviour.md](../docs/asyncore-behaviour.md)).
 */
// Node's global Buffer is an accessor property: bind it once, off the hot paths.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { debuglog, inspect } from 'node:util';
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
import { OSError, describeValue } from './errors';
import { binding } from './native';
import type { FileWrapper } from './file';
import { channelTimer, type TimerHandle, type TimerOptions } from './timers';

const E = osConstants.errno;

/** `Symbol.dispose` where Node has it (18.18, 20.4 and later), else the symbol those versions use. */
const disposeSymbol: typeof Symbol.dispose =
  typeof Symbol.dispose === 'symbol' ? Symbol.dispose : (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

/** `NODE_DEBUG=asyncore`: what `logInfo` drops (asyncore's 'warning's) is written to stderr instead. */
const debug = debuglog('asyncore');

/**
 * The errnos that mean "the peer is gone": they close the channel instead of raising (item 3):
 * ECONNRESET, ENOTCONN, ESHUTDOWN, ECONNABORTED, EPIPE, EBADF.
 * asyncore: `_DISCONNECTED`.
 */
export const DISCONNECTED: ReadonlySet<number> = new Set([E.ECONNRESET, E.ENOTCONN, binding.constants.ESHUTDOWN, E.ECONNABORTED, E.EPIPE, E.EBADF]);

/**
 * A map of fd to channel; the loop serves every channel in it. asyncore: the
 * `map` dicts (`{fd: dispatcher}`) that `loop()`, `poll()` and `dispatcher(map=…)` take.
 *
 * @example
 * const map: SocketMap = new Map(); // a private map, served by loop({ map })
 */
export type SocketMap = Map<number, Dispatcher>;

/**
 * The default map, used wherever a map argument is left out.
 * asyncore: `socket_map`.
 */
export const socketMap: SocketMap = new Map();

/**
 * Throw this from a handler to stop the loop: it always propagates out of
 * `loop()` (and rejects `loopAsync()`), and never reaches `handleError`.
 * asyncore: `ExitNow`.
 *
 * @example
 * override handleRead() { if (this.recv(512).includes('stop')) throw new ExitNow('asked to stop'); }
 */
export class ExitNow extends Error {
  /**
   * asyncore: `ExitNow(message)`.
   *
   * @param message the error message
   */
  constructor(message?: string) {
    super(message);
  }
  /** `'ExitNow'`. */
  override get name(): string {
    return 'ExitNow';
  }
}

/**
 * Error classes that always propagate out of the loop instead of going to
 * `handleError`. Holds {@link ExitNow}; add your own to this set (Python's
 * tuple also holds KeyboardInterrupt and SystemExit, which have no JavaScript
 * counterpart). asyncore: `_reraised_exceptions`.
 *
 * @example
 * class Shutdown extends Error {}
 * reraisedExceptions.add(Shutdown); // now `throw new Shutdown()` in a handler ends loop()
 */
export const reraisedExceptions: Set<Function> = new Set([ExitNow]);

/** True for an error that the loop must let through (see {@link reraisedExceptions}). @internal */
export function mustReraise(err: unknown): boolean {
  for (const cls of reraisedExceptions) if (err instanceof cls) return true;
  return false;
}

const EMPTY = Buffer.alloc(0);
let nextId = 0x1000;

/** `d.toString()`, or a stand-in when an override of it throws. */
function reprOf(d: Dispatcher): string {
  try {
    return d.toString();
  } catch {
    return `<toString() failed for object at 0x${d.objectId.toString(16)}>`;
  }
}

/** The TypeError for a socket call on a dispatcher that has no socket (asyncore: AttributeError on None). */
function noSocket(d: Dispatcher, op: string): TypeError {
  return new TypeError(`${d.constructor.name}.${op}(): the dispatcher has no socket yet; call createSocket() first or pass a socket to the constructor`);
}

// The default handleWrite() ignores the event; with asyncore's default writable() (true) every
// pass then returns at once and the process spins at 100% CPU, silently: the 'warning' it logs
// is dropped by default. Counted only inside that default handler, so a channel that handles
// its writes pays nothing; checked against the clock once per IGNORED_WRITES_NOTICE events.
const IGNORED_WRITES_NOTICE = 1000;
let ignoredWritesNoticed = false;
const ignoredWrites: WeakMap<Dispatcher, { count: number; since: number }> = new WeakMap();

function countIgnoredWrite(d: Dispatcher): void {
  let run = ignoredWrites.get(d);
  if (run === undefined) ignoredWrites.set(d, (run = { count: 0, since: performance.now() }));
  if (++run.count < IGNORED_WRITES_NOTICE) return;
  const now = performance.now();
  if (now - run.since < 1000) {
    ignoredWritesNoticed = true;
    process.emitWarning(
      `${reprOf(d)} got ${IGNORED_WRITES_NOTICE} write events within a second that the default handleWrite() ignored: ` +
        'writable() is true unless overridden, so every pass of the loop returns at once (100% CPU). ' +
        'Override writable() to return true only while there is data to send, or override handleWrite(). ' +
        'This notice is shown once.',
      { type: 'AsyncoreWarning', code: 'ASYNCORE_IGNORED_WRITES' },
    );
  }
  run.count = 0;
  run.since = now;
}

/** Python's quote choice: `'` unless the text holds `'` and no `"` (both repr rules share it). */
function pickQuote(hasSingle: boolean, hasDouble: boolean): string {
  return hasSingle && !hasDouble ? '"' : "'";
}

/** `\xhh`, `\uhhhh` or `\Uhhhhhhhh`: the shortest escape Python writes for a code point. */
function hexEscape(cp: number): string {
  if (cp <= 0xff) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** Python's `str.isprintable()` is false for one code point beyond ASCII: categories C* (lone surrogates too) and Z*. */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/**
 * Python's `repr()` of a str: `'` quotes, or `"` when the text holds `'` and
 * no `"`; backslash, the quote, tab, newline and CR escaped; other control
 * characters and unprintable code points (Python's `str.isprintable()`) as
 * `\x`/`\u`/`\U` escapes; printable non-ASCII kept as it is (item 33).
 * @internal
 */
export function reprStr(text: string): string {
  const quote = pickQuote(text.includes("'"), text.includes('"'));
  let out = quote;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += hexEscape(cp);
    else if (cp < 0x7f) out += ch;
    else out += NOT_PRINTABLE.test(ch) ? hexEscape(cp) : ch;
  }
  return out + quote;
}

/**
 * Python's `repr()` of bytes: `b'…'`, with the quote chosen as for a str;
 * backslash, the quote, tab, newline and CR escaped; every other byte below
 * 0x20 or from 0x7f up as `\xhh` (item 60). @internal
 */
export function reprBytes(data: BytesLike): string {
  const v = toBytes(data);
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const quote = pickQuote(b.includes(0x27), b.includes(0x22));
  const q = quote.charCodeAt(0);
  let out = `b${quote}`;
  for (const c of b) {
    if (c === q || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c >= 0x7f) out += hexEscape(c);
    else out += String.fromCharCode(c);
  }
  return out + quote;
}

/** Python's `repr()` for the values an address can hold: str, bytes, numbers, tuples (arrays), None. */
function pyRepr(v: unknown): string {
  if (typeof v === 'string') return reprStr(v);
  if (Array.isArray(v)) return `(${v.map(pyRepr).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (ArrayBuffer.isView(v)) return reprBytes(v);
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/**
 * Python's `str()` for what a log line may be handed: a string as it is,
 * bytes as their repr, null/undefined as `None`, booleans as `True`/`False`
 * (item 55); anything else through `String()`.
 */
function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined || typeof v === 'boolean' || ArrayBuffer.isView(v)) return pyRepr(v);
  return String(v);
}

/** `'%s:%d' % addr` where that works, else `repr(addr)` (item 33). */
function formatAddr(addr: unknown): string {
  if (Array.isArray(addr) && addr.length === 2 && typeof addr[1] === 'number') {
    const host: unknown = addr[0];
    return `${typeof host === 'string' ? host : pyRepr(host)}:${Math.trunc(addr[1])}`; // %s is str(), which is repr() for bytes
  }
  return pyRepr(addr);
}

/**
 * The compact traceback of an error: `[file|function|line]` per frame,
 * outermost first (the last 8 frames), plus the innermost frame's parts and
 * the error's name and message. Python's reads `sys.exc_info()`; this one takes the error.
 * asyncore: `compact_traceback()`.
 *
 * @example
 * const { type, value, info } = compactTraceback(new Error('boom')); // 'Error', 'boom', '[file.js|fn|12] …'
 */
export function compactTraceback(err: unknown): {
  /** The innermost frame's file name. */ file: string;
  /** The innermost frame's function name (`'?'` when anonymous). */ func: string;
  /** The innermost frame's line number. */ line: string;
  /** The error's `name` (or `typeof` for a non-Error). */ type: string;
  /** The error's `message` (or `String(err)`). */ value: string;
  /** `[file|func|line]` per frame, outermost first, space-separated. */ info: string;
} {
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
 * Method names are asyncore's in camelCase (`handle_read` → `handleRead`).
 *
 * `S` is the type of {@link Dispatcher.socket}. Left out it is asyncore's
 * `socket.Socket | FileWrapper | null`; a subclass that always has a socket
 * of one family says so once, `extends Dispatcher<socket.Socket<IPv4Address>>`,
 * and reads `this.socket.getsockname()` with no cast (the field is still null
 * until `createSocket()` or the constructor's `sock` sets it).
 *
 * Subclass fields are defined after this constructor has run: don't
 * redeclare an inherited field with an initialiser (use `declare` to narrow
 * its type), and assign your own fields before calling `connect()`.
 *
 * `util.inspect()` shows `toString()`; `using d = new Handler(sock)` closes
 * it at the end of the block (`Symbol.dispose`).
 *
 * @example
 * class Echo extends Dispatcher {
 *   override handleRead() { this.send(this.recv(8192)); }
 *   override writable() { return false; }
 * }
 */
export class Dispatcher<S extends Socket | FileWrapper | null = Socket | FileWrapper | null> {
  /** When true, `DispatcherWithSend#send` logs what it sends; otherwise free for user code. asyncore: `dispatcher.debug`. */
  debug = false;
  /** True once connected (or for an accepted socket). asyncore: `dispatcher.connected`. */
  connected = false;
  /** True once `listen()` was called. asyncore: `dispatcher.accepting`. */
  accepting = false;
  /** True between `connect()` and the connect completing. asyncore: `dispatcher.connecting`. */
  connecting = false;
  /** A convention for user code; asyncore itself never reads or writes it (item 29). asyncore: `dispatcher.closing`. */
  closing = false;
  /** The peer's address (connected), the bound one (after `bind()`), or null. Left in place by `close()`. asyncore: `dispatcher.addr`. */
  addr: Address | null = null;
  /**
   * Opt-in half-close (bpo-35913): when true, end of stream in `recv()` calls
   * {@link Dispatcher.handleReadEof} instead of `handleClose()`, and the channel
   * stays open for sending. Default false: asyncore's behaviour. Not in asyncore.
   *
   * @example
   * class Upload extends Dispatcher {
   *   override allowHalfOpen = true;
   *   override handleReadEof() { this.send('got it\n'); this.close(); }
   * }
   */
  allowHalfOpen = false;
  /** True once `recv()` met end of stream under `allowHalfOpen`; the default `readable()` is then false. Not in asyncore. */
  readEof = false;
  private ownIgnoreLogTypes: Set<string> | null = null;
  /** Log types that `logInfo` drops; by default only 'warning' (item 56). Each channel's own set, made when first used. asyncore: `dispatcher.ignore_log_types`. */
  get ignoreLogTypes(): Set<string> {
    return (this.ownIgnoreLogTypes ??= new Set(['warning']));
  }
  set ignoreLogTypes(types: Set<string>) {
    if (!(types instanceof Set)) throw new TypeError(`ignoreLogTypes must be a Set of log types, got ${describeValue(types)}`);
    this.ownIgnoreLogTypes = types;
  }
  /**
   * The socket (or, for a `FileDispatcher`, the `FileWrapper`); null until one is
   * set. Left in place by `close()`. Its type is the class's `S` (see {@link Dispatcher}).
   * asyncore: `dispatcher.socket`.
   *
   * @example
   * class Server extends Dispatcher<socket.Socket<IPv4Address>> {} // server.socket.getsockname()[1] is a number
   */
  socket: S = null as S;
  /** `[family, type]`, set by `createSocket()`. asyncore: `dispatcher.family_and_type`. */
  familyAndType?: [number, number];
  /** The fd this channel is registered under, or null. asyncore: `dispatcher._fileno`. */
  _fileno: number | null = null;
  /** The map this channel registers in by default. asyncore: `dispatcher._map`. */
  _map: SocketMap;
  /** A stable per-object number, shown in `toString()` as Python shows `id()`. Not in asyncore. */
  readonly objectId: number = nextId++;
  /** Its pending timers (`callLater`/`callEvery`), cancelled by `close()`; null until it makes one. Not in asyncore. @internal */
  _timers: Set<TimerHandle> | null = null;

  /**
   * Wrap `sock` (made non-blocking, registered in the map, marked connected)
   * or, without one, wait for `createSocket()`.
   * asyncore: `dispatcher(sock=None, map=None)`.
   *
   * @param sock an accepted or connected socket to adopt
   * @param map the map to register in (default {@link socketMap})
   */
  constructor(sock: Socket | null = null, map: SocketMap | null = null) {
    if (map !== null && map !== undefined && !(map instanceof Map))
      throw new TypeError(`${new.target.name}(sock, map): map must be a Map (a SocketMap) or null, got ${describeValue(map)}`);
    if (sock !== null && sock !== undefined && !isSocketLike(sock))
      throw new TypeError(`${new.target.name}(sock, map): sock must be a socket.Socket or null, got ${describeValue(sock)}`);
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
      this.socket = null as S;
    }
  }

  /** Like asyncore's repr: `<Name listening|connected host:port at 0x…>`. asyncore: `dispatcher.__repr__()`. */
  toString(): string {
    const status = [this.constructor.name];
    if (this.accepting && this.addr) status.push('listening');
    else if (this.connected) status.push('connected');
    if (this.addr !== null) status.push(formatAddr(this.addr));
    return `<${status.join(' ')} at 0x${this.objectId.toString(16)}>`;
  }

  /** `util.inspect()` and `console.log()` show `toString()` rather than every field and the map. Not in asyncore. */
  [inspect.custom](): string {
    return reprOf(this);
  }

  /** The socket for a call named `op`: a TypeError that says what to do when there is none yet. */
  private socketFor(op: string): Socket {
    const s = this.socket;
    if (s === null) throw noSocket(this, op);
    return s as Socket;
  }

  /** As {@link socketFor}, for a socket-only call (`bind`, `listen`, …): a FileWrapper has none of these. */
  private netSocketFor(op: string, method: keyof Socket): Socket {
    const s = this.socketFor(op);
    if (typeof (s as Partial<Socket>)[method] !== 'function')
      throw new TypeError(`${this.constructor.name}.${op}(): its socket (${describeValue(s)}) has no ${String(method)}()`);
    return s;
  }

  // ---- the map -----------------------------------------------------------------

  /** Register this channel in `map` (default: its own) under its fd. asyncore: `dispatcher.add_channel(map=None)`. */
  addChannel(map: SocketMap | null = null): void {
    const m = map ?? this._map;
    m.set(this._fileno as number, this);
  }

  /** Remove this channel from `map` (default: its own) and forget its fd. asyncore: `dispatcher.del_channel(map=None)`. */
  delChannel(map: SocketMap | null = null): void {
    const m = map ?? this._map;
    const fd = this._fileno;
    if (fd !== null && m.has(fd)) {
      m.delete(fd);
    }
    this._fileno = null;
  }

  /**
   * Create a non-blocking, close-on-exec socket and register it (item 36).
   * asyncore: `dispatcher.create_socket(family=AF_INET, type=SOCK_STREAM)`.
   *
   * @example
   * this.createSocket(socket.AF_INET6, socket.SOCK_STREAM);
   */
  createSocket(family: number = AF_INET, type: number = SOCK_STREAM): void {
    this.familyAndType = [family, type];
    const sock = new Socket(family, type);
    sock.setblocking(false);
    this.setSocket(sock);
  }

  /** Adopt `sock` (anything with `fileno()`) and register it in the map. asyncore: `dispatcher.set_socket(sock, map=None)`. */
  setSocket(sock: Socket | FileWrapper, map: SocketMap | null = null): void {
    if (sock === null || typeof sock !== 'object' || typeof (sock as { fileno?: unknown }).fileno !== 'function')
      throw new TypeError(`${this.constructor.name}.setSocket(sock): sock must be a socket.Socket (or have fileno()), got ${describeValue(sock)}`);
    this.socket = sock as S; // the subclass's word (its S) that this is the socket it uses
    this._fileno = sock.fileno();
    this.addChannel(map);
  }

  /** Turn SO_REUSEADDR on, quietly doing nothing where that fails (item 38). asyncore: `dispatcher.set_reuse_addr()`. */
  setReuseAddr(): void {
    try {
      const s = this.netSocketFor('setReuseAddr', 'setsockopt');
      s.setsockopt(SOL_SOCKET, SO_REUSEADDR, (s.getsockopt(SOL_SOCKET, SO_REUSEADDR) as number) | 1);
    } catch (err) {
      if (!(err instanceof OSError)) throw err;
    }
  }

  // ---- predicates the loop asks every pass ------------------------------------------

  /**
   * Asked before every pass: should the loop wait for this channel to be
   * readable? Default true. asyncore: `dispatcher.readable()`.
   */
  readable(): boolean {
    return !this.readEof; // readEof is only ever set under allowHalfOpen: asyncore's `True` otherwise
  }

  /**
   * Asked before every pass: should the loop wait for this channel to be
   * writable? Default true; override it, or every pass wakes at once.
   * asyncore: `dispatcher.writable()`.
   *
   * @example
   * override writable() { return this.pending.length > 0; }
   */
  writable(): boolean {
    return true;
  }

  // ---- socket methods ----------------------------------------------------------------

  /** Listen for connections (`accepting` turns true first). asyncore: `dispatcher.listen(num)`. */
  listen(num: number): void {
    this.accepting = true; // set first: it stays set even if listen() fails (item 40)
    this.netSocketFor('listen', 'listen').listen(num);
  }

  /** Bind the socket (`addr` is set first). asyncore: `dispatcher.bind(addr)`. */
  bind(addr: Address): void {
    this.addr = addr; // set first: it stays set even if bind() fails (item 41)
    this.netSocketFor('bind', 'bind').bind(addr);
  }

  /**
   * Start connecting; completes through `handleConnectEvent` (at once for a
   * connect that finishes now). A refused connect throws or reaches
   * `handleError`. asyncore: `dispatcher.connect(address)`.
   *
   * @example
   * this.connect(['127.0.0.1', 8080]);
   */
  connect(address: Address): void {
    this.connected = false;
    this.connecting = true;
    const err = this.netSocketFor('connect', 'connectEx').connectEx(address);
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

  /** Accept a connection: `[socket, address]`, or null when there was none after all (item 43). asyncore: `dispatcher.accept()` (None there). */
  accept(): [Socket, Address] | null {
    const s = this.netSocketFor('accept', 'accept'); // no socket: asyncore's AttributeError, not its `except TypeError`
    try {
      return s.accept();
    } catch (err) {
      if (err instanceof TypeError) return null;
      if (err instanceof OSError && (err.errno === E.EWOULDBLOCK || err.errno === E.ECONNABORTED || err.errno === E.EAGAIN)) return null;
      throw err;
    }
  }

  /**
   * Send what the kernel takes now and return the count; 0 when it takes
   * nothing or the peer is gone (item 44). A string is sent as UTF-8.
   * asyncore: `dispatcher.send(data)`.
   */
  send(data: BytesLike): number {
    try {
      return this.socketFor('send').send(data);
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
   * Under {@link Dispatcher.allowHalfOpen}, EOF calls `handleReadEof()` instead.
   * asyncore: `dispatcher.recv(buffer_size)`.
   */
  recv(bufferSize: number): Buffer {
    const s = this.socketFor('recv');
    try {
      const data = s.recv(bufferSize);
      if (data.length === 0) {
        // A closed connection is indicated by signaling a read condition and having recv() return 0.
        if (this.allowHalfOpen) {
          this.readEof = true;
          this.handleReadEof();
        } else {
          this.handleClose();
        }
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
   * `socket` and `addr` are left in place. asyncore: `dispatcher.close()`.
   */
  close(): void {
    this.connected = false;
    this.accepting = false;
    this.connecting = false;
    if (this._timers !== null) for (const timer of this._timers) timer.cancel(); // its callLater/callEvery timers (not in asyncore)
    this.delChannel();
    if (this.socket !== null) {
      try {
        this.socket.close();
      } catch (err) {
        if (!(err instanceof OSError) || (err.errno !== E.ENOTCONN && err.errno !== E.EBADF)) throw err;
      }
    }
  }

  // ---- timers (not in asyncore) -----------------------------------------------------------

  /**
   * Call `fn(...args)` once, `seconds` from now, with `this` set to this
   * channel, from the loop serving its map (`_map`, the one given to the
   * constructor). What `fn` throws goes to `handleError` (or to the
   * `errback` of the options form `{ seconds, errback }`); ExitNow propagates.
   * `close()` cancels it. pyftpdlib: `AsyncChat.call_later`.
   *
   * @example
   * override handleConnect() { this.idle = this.callLater(30, this.close); }
   * override handleRead() { this.idle.reset(); … }
   */
  callLater<A extends unknown[]>(seconds: number | TimerOptions, fn: (this: this, ...args: A) => unknown, ...args: A): TimerHandle {
    return channelTimer(this, (this._timers ??= new Set()), false, seconds, fn, args);
  }

  /**
   * Call `fn(...args)` every `seconds`, with `this` set to this channel; as
   * {@link Dispatcher.callLater}, and as the module's `callEvery` for the
   * grid. If `fn` throws, `handleError` gets the error (by default it
   * closes the channel, which stops the timer). `close()` cancels it.
   *
   * @example
   * this.callEvery(10, () => this.send('ping\r\n'));
   */
  callEvery<A extends unknown[]>(seconds: number | TimerOptions, fn: (this: this, ...args: A) => unknown, ...args: A): TimerHandle {
    return channelTimer(this, (this._timers ??= new Set()), true, seconds, fn, args);
  }

  // ---- logging -----------------------------------------------------------------------

  /** Write `log: <message>` to stderr (item 55). asyncore: `dispatcher.log(message)`. */
  log(message: unknown): void {
    process.stderr.write(`log: ${pyStr(message)}\n`);
  }

  /**
   * Write `<type>: <message>` to stdout unless `type` is in `ignoreLogTypes` (item 56).
   * asyncore: `dispatcher.log_info(message, type='info')`.
   *
   * @example
   * this.logInfo('client went away', 'warning'); // dropped unless 'warning' is removed from ignoreLogTypes
   */
  logInfo(message: unknown, type = 'info'): void {
    if (!this.ignoreLogTypes.has(type)) process.stdout.write(`${type}: ${pyStr(message)}\n`);
    else if (debug.enabled) debug('%s: %s', type, pyStr(message)); // NODE_DEBUG=asyncore
  }

  // ---- events, as the loop delivers them --------------------------------------------------

  /**
   * What the loop calls when the fd is readable: `handleAccept()` when
   * listening, else (finishing a connect first if one is pending)
   * `handleRead()`. asyncore: `dispatcher.handle_read_event()`.
   */
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

  /** Finish a connect: SO_ERROR non-zero throws; else `handleConnect()` runs, and only then `connected` turns true (item 48). asyncore: `dispatcher.handle_connect_event()`. */
  handleConnectEvent(): void {
    const err = this.socketFor('handleConnectEvent').getsockopt(SOL_SOCKET, SO_ERROR);
    if (err !== 0) throw new OSError(err, 'connect');
    this.handleConnect();
    this.connected = true;
    this.connecting = false;
  }

  /**
   * What the loop calls when the fd is writable: finishes a pending connect,
   * then `handleWrite()`; ignored while listening. asyncore: `dispatcher.handle_write_event()`.
   */
  handleWriteEvent(): void {
    if (this.accepting) return; // accepting sockets shouldn't get a write event
    if (!this.connected && this.connecting) this.handleConnectEvent();
    this.handleWrite();
  }

  /**
   * What the loop calls on an exceptional condition: `handleClose()` when
   * SO_ERROR is set, else `handleExpt()` (out-of-band data).
   * asyncore: `dispatcher.handle_expt_event()`.
   */
  handleExptEvent(): void {
    // handle_expt_event() is called if there might be an error on the socket, or if there is OOB data
    const err = this.socketFor('handleExptEvent').getsockopt(SOL_SOCKET, SO_ERROR);
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
   * asyncore: `dispatcher.handle_error()`, which reads `sys.exc_info()`; here the error is passed.
   *
   * @example
   * override handleError(err: unknown) { console.error('channel failed:', err); this.close(); }
   */
  handleError(err: unknown): void {
    const { type, value, info } = compactTraceback(err);
    let self: string;
    try {
      self = this.toString();
    } catch {
      self = `<toString() failed for object at ${this.objectId.toString(16)}>`; // Python: `%0x`, no 0x
    }
    this.logInfo(`uncaptured exception, closing channel ${self} (${type}:${value} ${info})`, 'error');
    this.handleClose();
  }

  /** Out-of-band data arrived. Default: logs a warning. asyncore: `dispatcher.handle_expt()`. */
  handleExpt(): void {
    this.logInfo('unhandled incoming priority event', 'warning');
  }

  /**
   * The socket has data: call `recv()`. Default: logs a warning.
   * asyncore: `dispatcher.handle_read()`.
   *
   * @example
   * override handleRead() { const data = this.recv(8192); if (data.length) this.send(data); }
   */
  handleRead(): void {
    this.logInfo('unhandled read event', 'warning');
  }

  /**
   * The socket can take data: call `send()`. Default: logs a warning, and the
   * first time a channel gets 1000 such events within a second, emits a one-time
   * process warning (`AsyncoreWarning`): the loop is spinning because
   * `writable()` was left true. asyncore: `dispatcher.handle_write()`.
   */
  handleWrite(): void {
    this.logInfo('unhandled write event', 'warning');
    if (!ignoredWritesNoticed) countIgnoredWrite(this);
  }

  /** The connect succeeded (`connected` turns true right after). Default: logs a warning. asyncore: `dispatcher.handle_connect()`. */
  handleConnect(): void {
    this.logInfo('unhandled connect event', 'warning');
  }

  /** A listening socket is readable: accepts and calls `handleAccepted()`. asyncore: `dispatcher.handle_accept()`. */
  handleAccept(): void {
    const pair = this.accept();
    if (pair !== null) this.handleAccepted(pair[0], pair[1]);
  }

  /**
   * A connection was accepted: wrap `sock` in a channel of your own. Default:
   * closes it and logs a warning. asyncore: `dispatcher.handle_accepted(sock, addr)`.
   *
   * @example
   * override handleAccepted(sock: socket.Socket, addr: Address) { new EchoHandler(sock); }
   */
  handleAccepted(sock: Socket, addr: Address): void {
    sock.close();
    this.logInfo('unhandled accepted event', 'warning');
  }

  /** The peer closed, or the loop closes the channel: default logs a warning and calls `close()`. asyncore: `dispatcher.handle_close()`. */
  handleClose(): void {
    this.logInfo('unhandled close event', 'warning');
    this.close();
  }

  /**
   * End of stream under {@link Dispatcher.allowHalfOpen}: the peer will send no
   * more, but this channel may still send (finish a reply, then `close()`).
   * Default: `handleClose()`, so the flag alone changes nothing. While `readEof`
   * is set the default `readable()` is false; an override of `readable()` must
   * also return false then, or every pass calls this again. Not in asyncore (bpo-35913).
   *
   * @example
   * override handleReadEof() { this.send(`${this.total} bytes\n`); this.close(); }
   */
  handleReadEof(): void {
    this.handleClose();
  }
}

/** `close()`, so that `using d = new Handler(sock)` closes it at the end of the block. Not in asyncore. */
export interface Dispatcher<S extends Socket | FileWrapper | null = Socket | FileWrapper | null> extends Disposable {}
Object.defineProperty(Dispatcher.prototype, disposeSymbol, {
  value: function dispose(this: Dispatcher): void {
    this.close();
  },
  writable: true,
  configurable: true,
});

/** What the constructor adopts: a socket.Socket, or anything that quacks like one (asyncore takes any object). */
function isSocketLike(sock: unknown): boolean {
  if (sock instanceof Socket) return true;
  if (sock === null || typeof sock !== 'object') return false;
  const s = sock as { fileno?: unknown; setblocking?: unknown; getpeername?: unknown };
  return typeof s.fileno === 'function' && typeof s.setblocking === 'function' && typeof s.getpeername === 'function';
}

/**
 * A dispatcher with an output buffer: `send()` queues and flushes, and the
 * channel is writable while anything is queued. asyncore: `dispatcher_with_send`.
 *
 * @example
 * class Greeter extends DispatcherWithSend { override handleConnect() { this.send('hello\n'); } }
 */
export class DispatcherWithSend<S extends Socket | FileWrapper | null = Socket | FileWrapper | null> extends Dispatcher<S> {
  /** What is queued and not yet sent. asyncore: `dispatcher_with_send.out_buffer`. */
  outBuffer: Buffer = EMPTY;

  /** asyncore: `dispatcher_with_send(sock=None, map=None)`. */
  constructor(sock: Socket | null = null, map: SocketMap | null = null) {
    super(sock, map);
  }

  /** One send of at most 65536 bytes from the front of `outBuffer` (item 58). asyncore: `dispatcher_with_send.initiate_send()`. */
  initiateSend(): void {
    const num = Dispatcher.prototype.send.call(this, this.outBuffer.subarray(0, 65536));
    this.outBuffer = this.outBuffer.subarray(num);
  }

  /** Sends more of `outBuffer`. asyncore: `dispatcher_with_send.handle_write()`. */
  override handleWrite(): void {
    this.initiateSend();
  }

  /** While connecting, or while anything is queued. asyncore: `dispatcher_with_send.writable()`. */
  override writable(): boolean {
    return !this.connected || this.outBuffer.length > 0;
  }

  /**
   * Queue `data` and try to send at once (item 60). Returns the number of
   * bytes queued (asyncore returns None). asyncore: `dispatcher_with_send.send(data)`.
   */
  override send(data: BytesLike): number {
    const bytes = toBytes(data);
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.debug) this.logInfo(`sending ${reprBytes(buf)}`);
    if (this.outBuffer.length === 0 && this.initiateSend === DispatcherWithSend.prototype.initiateSend) {
      // initiateSend() without the concat: the caller's buffer is queued as it is, so that a
      // handleClose() run from inside the send sees it queued, as asyncore's would. Afterwards
      // only the part the kernel did not take is copied (the caller may reuse its buffer).
      // Taken only when initiateSend() is not overridden: asyncore's send() always calls it.
      this.outBuffer = buf;
      const num = Dispatcher.prototype.send.call(this, buf.length <= 65536 ? buf : buf.subarray(0, 65536));
      if (this.outBuffer === buf) {
        this.outBuffer = num === buf.length ? EMPTY : Buffer.from(buf.subarray(num));
      } else {
        // a handler replaced it: keep what it left, less what was sent, as initiateSend() does
        const rest = this.outBuffer.subarray(num);
        this.outBuffer = rest.buffer === buf.buffer ? Buffer.from(rest) : rest;
      }
    } else {
      this.outBuffer = Buffer.concat([this.outBuffer, buf]);
      this.initiateSend();
    }
    return buf.length;
  }
}
