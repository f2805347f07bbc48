/**
 * The raw socket layer, shaped like Python's `socket` module: a `Socket`
 * class over a non-blocking-capable POSIX fd, `socketpair()`, and the
 * platform's constants. Every failure throws {@link OSError}.
 *
 * @example
 * import { socket } from 'asyncore-node';
 * const [a, b] = socket.socketpair();
 * a.send('ping');
 * b.recv(4); // <Buffer 70 69 6e 67>
 * a.close(); b.close();
 */
// Node's global Buffer is an accessor property: bind it once, off the hot paths.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { inspect } from 'node:util';
import { binding } from './native';
import { OSError, GaiError, describeValue, strerror } from './errors';
import { getaddrinfo } from './netdb';

const c = binding.constants;
const { EBADF, EAGAIN } = osConstants.errno;

/**
 * An AF_INET address: `[host, port]`, the host a dotted quad (or a name,
 * on input). Python: the `(host, port)` tuple of `AF_INET`.
 *
 * @example
 * const [host, port]: IPv4Address = sock.getsockname(); // for a Socket<IPv4Address>
 */
export type IPv4Address = [host: string, port: number];
/**
 * An AF_INET6 address as the kernel reports it: `[host, port, flowinfo, scopeId]`.
 * On input the last two may be left out (see {@link Address}).
 * Python: the `(host, port, flowinfo, scope_id)` tuple of `AF_INET6`.
 */
export type IPv6Address = [host: string, port: number, flowinfo: number, scopeId: number];
/**
 * An AF_UNIX address: a path; `''` for an unnamed socket (a `socketpair()`
 * end, an unbound client). A leading NUL byte names Linux's abstract namespace.
 * Python: the `str` address of `AF_UNIX`.
 */
export type UnixAddress = string;
/**
 * A socket address, as Python shapes it: `[host, port]` (AF_INET),
 * `[host, port, flowinfo?, scopeId?]` (AF_INET6) or a path (AF_UNIX).
 * `''` as the host binds to every interface; host names are resolved with
 * getaddrinfo. What a call returns is one of {@link IPv4Address},
 * {@link IPv6Address} or {@link UnixAddress}; a `Socket<A>` whose family is
 * known returns `A` (see {@link AddressFamily}).
 *
 * Python: the address tuples of the `socket` module.
 *
 * @example
 * const addr: Address = ['127.0.0.1', 8080];
 */
export type Address = IPv4Address | [host: string, port: number, flowinfo?: number, scopeId?: number] | UnixAddress;

/** The brand that carries an address family's address type; never present at runtime. */
declare const addressOfFamily: unique symbol;
/**
 * An address family constant: a plain `number` at runtime, whose type also
 * says what addresses of that family look like, so that
 * `new Socket(AF_INET)` is a `Socket<IPv4Address>` and its `getsockname()[1]`
 * is a `number`. Any number is accepted where one is expected; a family
 * that is only known at runtime gives a `Socket<Address>`.
 *
 * @example
 * function listener<A extends Address>(family: AddressFamily<A>): Socket<A> { return new Socket(family); }
 */
export type AddressFamily<A extends Address = Address> = number & { readonly [addressOfFamily]?: A };
/**
 * Bytes as accepted wherever data is sent: strings are encoded as UTF-8.
 *
 * Python: `bytes` (and bytes-like objects); there is no `str` → `bytes` step to write.
 */
export type BytesLike = Buffer | Uint8Array | ArrayBufferView | string;

/** IPv4 address family; addresses are `[host, port]` ({@link IPv4Address}). Python: `socket.AF_INET`. */
export const AF_INET: AddressFamily<IPv4Address> = c.AF_INET;
/** IPv6 address family; addresses are `[host, port, flowinfo?, scopeId?]` ({@link IPv6Address}). Python: `socket.AF_INET6`. */
export const AF_INET6: AddressFamily<IPv6Address> = c.AF_INET6;
/** Unix-domain address family; addresses are path strings ({@link UnixAddress}). Python: `socket.AF_UNIX`. */
export const AF_UNIX: AddressFamily<UnixAddress> = c.AF_UNIX;
/** Unspecified address family (for name resolution). Python: `socket.AF_UNSPEC`. */
export const AF_UNSPEC: number = c.AF_UNSPEC;
/** Stream (TCP) socket type. Python: `socket.SOCK_STREAM`. */
export const SOCK_STREAM: number = c.SOCK_STREAM;
/** Datagram (UDP) socket type. Python: `socket.SOCK_DGRAM`. */
export const SOCK_DGRAM: number = c.SOCK_DGRAM;
/** Raw socket type. Python: `socket.SOCK_RAW`. */
export const SOCK_RAW: number = c.SOCK_RAW;
/** Sequenced-packet socket type. Python: `socket.SOCK_SEQPACKET`. */
export const SOCK_SEQPACKET: number = c.SOCK_SEQPACKET;
/** The socket-level option level for `setsockopt`/`getsockopt`. Python: `socket.SOL_SOCKET`. */
export const SOL_SOCKET: number = c.SOL_SOCKET;
/** Allow rebinding a recently used address (what `Dispatcher.setReuseAddr()` sets). Python: `socket.SO_REUSEADDR`. */
export const SO_REUSEADDR: number = c.SO_REUSEADDR;
/**
 * Let several sockets bind the same port. Linux (3.9 and later) and macOS have it; on a platform
 * without it the value is `undefined`, as Python's attribute is missing there (test with
 * `socket.SO_REUSEPORT !== undefined` if you support such a platform). Python: `socket.SO_REUSEPORT`.
 */
export const SO_REUSEPORT: number = c.SO_REUSEPORT;
/** Read (and clear) the pending socket error, e.g. a failed non-blocking connect. Python: `socket.SO_ERROR`. */
export const SO_ERROR: number = c.SO_ERROR;
/** Send TCP keepalive probes. Python: `socket.SO_KEEPALIVE`. */
export const SO_KEEPALIVE: number = c.SO_KEEPALIVE;
/** Receive buffer size in bytes. Python: `socket.SO_RCVBUF`. */
export const SO_RCVBUF: number = c.SO_RCVBUF;
/** Send buffer size in bytes. Python: `socket.SO_SNDBUF`. */
export const SO_SNDBUF: number = c.SO_SNDBUF;
/** Linger on close; the value is a `struct linger` Buffer. Python: `socket.SO_LINGER`. */
export const SO_LINGER: number = c.SO_LINGER;
/** Allow sending datagrams to a broadcast address. Python: `socket.SO_BROADCAST`. */
export const SO_BROADCAST: number = c.SO_BROADCAST;
/** The socket's type (read-only). Python: `socket.SO_TYPE`. */
export const SO_TYPE: number = c.SO_TYPE;
/** Whether the socket is listening (read-only). Python: `socket.SO_ACCEPTCONN`. */
export const SO_ACCEPTCONN: number = c.SO_ACCEPTCONN;
/** Receive out-of-band data inline. Python: `socket.SO_OOBINLINE`. */
export const SO_OOBINLINE: number = c.SO_OOBINLINE;
/** Receive low-water mark. Python: `socket.SO_RCVLOWAT`. */
export const SO_RCVLOWAT: number = c.SO_RCVLOWAT;
/** Send low-water mark. Python: `socket.SO_SNDLOWAT`. */
export const SO_SNDLOWAT: number = c.SO_SNDLOWAT;
/** The IPv4 protocol level. Python: `socket.IPPROTO_IP`. */
export const IPPROTO_IP: number = c.IPPROTO_IP;
/** The TCP option level (for `TCP_NODELAY`). Python: `socket.IPPROTO_TCP`. */
export const IPPROTO_TCP: number = c.IPPROTO_TCP;
/** The UDP protocol number. Python: `socket.IPPROTO_UDP`. */
export const IPPROTO_UDP: number = c.IPPROTO_UDP;
/** The IPv6 option level (for `IPV6_V6ONLY`). Python: `socket.IPPROTO_IPV6`. */
export const IPPROTO_IPV6: number = c.IPPROTO_IPV6;
/** Restrict an AF_INET6 socket to IPv6 traffic only. Python: `socket.IPV6_V6ONLY`. */
export const IPV6_V6ONLY: number = c.IPV6_V6ONLY;
/** Disable Nagle's algorithm: small writes go out at once. Python: `socket.TCP_NODELAY`. */
export const TCP_NODELAY: number = c.TCP_NODELAY;
/** `shutdown()`: no more receives. Python: `socket.SHUT_RD`. */
export const SHUT_RD: number = c.SHUT_RD;
/** `shutdown()`: no more sends (the peer reads EOF). Python: `socket.SHUT_WR`. */
export const SHUT_WR: number = c.SHUT_WR;
/** `shutdown()`: neither. Python: `socket.SHUT_RDWR`. */
export const SHUT_RDWR: number = c.SHUT_RDWR;
/** Send or receive out-of-band data. Python: `socket.MSG_OOB`. */
export const MSG_OOB: number = c.MSG_OOB;
/** Receive without removing the data from the queue. Python: `socket.MSG_PEEK`. */
export const MSG_PEEK: number = c.MSG_PEEK;
/** Make this one call non-blocking. Python: `socket.MSG_DONTWAIT`. */
export const MSG_DONTWAIT: number = c.MSG_DONTWAIT;
/** Wait for the full amount (blocking sockets). Python: `socket.MSG_WAITALL`. */
export const MSG_WAITALL: number = c.MSG_WAITALL;
/** Report the real length of a truncated datagram. Python: `socket.MSG_TRUNC`. */
export const MSG_TRUNC: number = c.MSG_TRUNC;
/** The kernel's largest `listen()` backlog. Python: `socket.SOMAXCONN`. */
export const SOMAXCONN: number = c.SOMAXCONN;
/** Marks the end of a record (SOCK_SEQPACKET). Python: `socket.MSG_EOR`. */
export const MSG_EOR: number = c.MSG_EOR;
/** `recvmsg()` flag in msgFlags: ancillary data was cut to fit the buffer. Python: `socket.MSG_CTRUNC`. */
export const MSG_CTRUNC: number = c.MSG_CTRUNC;
/** Ancillary data type (level SOL_SOCKET) carrying fds: the data is an array of C ints. Python: `socket.SCM_RIGHTS`. */
export const SCM_RIGHTS: number = c.SCM_RIGHTS;

/** Encode data for sending: strings as UTF-8, byte views as they are (no copy). @internal */
export function toBytes(data: BytesLike): ArrayBufferView {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return data;
  throw new TypeError(`data must be a Buffer, Uint8Array or string, got ${describe(data)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function checkFamily(family: unknown): void {
  // The native layer says the same of type and proto; a family must be checked here first,
  // where a number it does not know is EAFNOSUPPORT, as Python's.
  if (typeof family !== 'number' || !Number.isInteger(family))
    throw new TypeError(`family must be an integer (socket.AF_INET, AF_INET6 or AF_UNIX), got ${typeof family === 'number' ? String(family) : describeValue(family)}`);
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX)
    throw new OSError(osConstants.errno.EAFNOSUPPORT, 'socket');
}

// A Socket that is garbage-collected while its fd is open closes the fd, as CPython's
// socket.__del__ does, and says so once per process (Python's ResourceWarning, shown
// there once per place by the default filter). The held value is the fd alone: the
// Socket itself must stay collectable. close() and detach() unregister it.
let warnedUnclosed = false;
const unclosedSockets = new FinalizationRegistry<number>((fd) => {
  try {
    binding.close(fd);
  } catch {
    /* already gone */
  }
  if (warnedUnclosed) return;
  warnedUnclosed = true;
  process.emitWarning(
    `unclosed socket fd=${fd} was closed by the garbage collector; call close() (or use \`using\`) when done with a socket. This warning is shown once.`,
    'ResourceWarning',
  );
});

/** `Symbol.dispose` where Node has it (18.18, 20.4 and later), else the symbol those versions use. */
const disposeSymbol: typeof Symbol.dispose =
  typeof Symbol.dispose === 'symbol' ? Symbol.dispose : (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

// recv() reads into one reusable buffer, then copies exactly the bytes that
// came into a Buffer.allocUnsafe() (Node's pool, for small reads). Building
// the result in C++ instead (napi_create_buffer_copy) measured about 1.7 µs
// per call: a quarter of a whole echo round trip on loopback. The buffer is
// made and remembered by the addon (recvBuffer), so that a call passes only
// integers: looking up a Buffer argument was a fifth of the call's cost.
const RECV_SCRATCH_MAX = 1 << 20;
const EMPTY = Buffer.alloc(0);
let recvScratch: Buffer = EMPTY;
let recvGeneration = 0;
// The first bytes of recvScratch, kept for the next read of the same size:
// Buffer#copy() of part of a buffer makes such a view on every call.
let recvView: Uint8Array = new Uint8Array(0);

/** A new scratch buffer of `size` bytes, known to the addon. */
function newRecvScratch(size: number): void {
  const [b, generation] = binding.recvBuffer(size);
  // Viewed through a Buffer made here: one made in C++ has another hidden class, and every use missed V8's inline caches.
  recvScratch = Buffer.from(b.buffer, b.byteOffset, b.length);
  recvGeneration = generation;
  recvView = new Uint8Array(0); // a view of the old buffer: made again at the next read
}
newRecvScratch(65536);

// A stream reading large blocks (a socket whose last read filled a buffer of
// at least RECV_DIRECT_MIN bytes) reads straight into the Buffer recv() returns,
// a fresh Buffer.allocUnsafe(bufsize): no copy of the bytes in JavaScript. A
// read that fills it returns it as it is; one that does not copies its bytes
// out into a Buffer of their exact size, as the scratch path does, and keeps
// the block (never handed out) for the next direct read. Either way the caller
// gets a Buffer of its own holding exactly the bytes received: the same result
// as the scratch path's.
const RECV_DIRECT_MIN = 32768;
let recvSpare: Buffer | null = null;

function recvDirect(fd: number, bufsize: number): Buffer {
  const block = recvSpare !== null && recvSpare.length === bufsize ? recvSpare : Buffer.allocUnsafe(bufsize);
  recvSpare = block; // until it is handed out: a read that fails or comes short leaves it for the next
  const n = binding.recvInto(fd, block, 0, bufsize, 0);
  if (n === bufsize) {
    recvSpare = null;
    return block;
  }
  if (n <= 0) return EMPTY;
  const out = Buffer.allocUnsafe(n);
  block.copy(out, 0, 0, n);
  return out;
}

function recvCopy(fd: number, bufsize: number, flags: number): Buffer {
  // Anything unusual (bad arguments, huge reads) takes the native path, which validates and allocates.
  if (!Number.isInteger(bufsize) || bufsize < 0 || bufsize > RECV_SCRATCH_MAX) return binding.recv(fd, bufsize, flags);
  if (bufsize === 0) return Buffer.alloc(0); // as CPython: no syscall (recv(2) of 0 bytes could block)
  if (bufsize > recvScratch.length) newRecvScratch(Math.max(bufsize, 65536));
  let got = binding.recvScratch(fd, bufsize, flags, recvGeneration);
  if (got < 0) {
    // Our buffer was replaced (another caller of the addon's recvBuffer): take a new one; nothing was read.
    newRecvScratch(Math.max(bufsize, 65536));
    got = binding.recvScratch(fd, bufsize, flags, recvGeneration);
  }
  const n = Math.min(got, bufsize); // MSG_TRUNC may report more
  if (n <= 0) return EMPTY;
  if (n !== recvView.length) recvView = new Uint8Array(recvScratch.buffer, recvScratch.byteOffset, n);
  const out = Buffer.allocUnsafe(n);
  out.set(recvView);
  return out;
}

/**
 * An address from the addon's compact form: AF_INET comes as one number,
 * host * 65536 + port (building the array and string in C++ cost more than
 * the syscall); every other family comes as it is.
 */
function expandAddress<A extends Address>(a: unknown): A {
  if (typeof a !== 'number') return a as A;
  const port = a % 65536;
  return [ipv4Text((a - port) / 65536), port] as A;
}

// The dotted form of the IPv4 hosts seen last: a server hears from the same
// few peers over and over, and building the string (seven concatenations)
// cost a few percent of a whole accepted connection, twice (accept and
// getpeername). Strings are values: sharing one is not observable.
const HOST_TEXTS_MAX = 256;
const hostTexts = new Map<number, string>();

function ipv4Text(h: number): string {
  let text = hostTexts.get(h);
  if (text === undefined) {
    text = `${h >>> 24}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
    if (hostTexts.size >= HOST_TEXTS_MAX) hostTexts.clear();
    hostTexts.set(h, text);
  }
  return text;
}

/** Set by `Socket#accept()` while it wraps the fd accept(2) just returned. */
let adoptingAccepted = false;

/**
 * A socket, as Python's `socket.socket`. Created blocking and close-on-exec;
 * `setblocking(false)` makes it non-blocking (asyncore does this for you).
 * Every failure throws {@link OSError}; sending never raises SIGPIPE.
 *
 * `A` is the type of the addresses it returns: `new Socket(AF_INET)` is a
 * `Socket<IPv4Address>`, so `getsockname()[1]` is a `number`; with a family
 * only known at runtime it is `Socket<Address>`.
 *
 * Close it when done (or declare it with `using`): one that is garbage-collected
 * while open is closed then, with a one-time `ResourceWarning`, as in Python.
 *
 * Python: `socket.socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None)`.
 *
 * @example
 * const s = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
 * s.bind(['127.0.0.1', 0]);
 * const port: number = s.getsockname()[1];
 */
export class Socket<A extends Address = Address> {
  /** The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`). Python: `socket.family`. */
  readonly family: number;
  /** The socket type (`SOCK_STREAM`, `SOCK_DGRAM`). Python: `socket.type`. */
  readonly type: number;
  /** The protocol number, usually 0. Python: `socket.proto`. */
  readonly proto: number;
  private fd: number;
  private blocking = true;
  /** Whether the last recv() filled a large buffer: the next one reads straight into the Buffer it returns. */
  private streaming = false;

  /**
   * Python: `socket.socket(family=AF_INET, type=SOCK_STREAM, proto=0, fileno=None)`.
   *
   * @param family AF_INET (default), AF_INET6 or AF_UNIX; not an integer: TypeError; unknown: OSError EAFNOSUPPORT
   * @param type SOCK_STREAM (default) or SOCK_DGRAM
   * @param proto protocol number, usually 0
   * @param fileno adopt an existing socket fd instead of creating one (the Socket then owns it)
   */
  constructor(family: AddressFamily<A> = AF_INET as AddressFamily<A>, type: number = SOCK_STREAM, proto = 0, fileno?: number | null) {
    this.family = family;
    this.type = type;
    this.proto = proto;
    if (fileno === undefined || fileno === null) {
      checkFamily(family);
      this.fd = binding.socket(family, type, proto);
    } else {
      // also validates the fd (EBADF if it is not open); accept() knows its fd is open and blocking
      this.blocking = adoptingAccepted || binding.getBlocking(fileno);
      this.fd = fileno;
    }
    unclosedSockets.register(this, this.fd, this);
  }

  /** The fd, or -1 once closed (as Python). Python: `socket.fileno()`. */
  fileno(): number {
    return this.fd;
  }

  /** True once `close()` or `detach()` ran. Python: the private `socket._closed`. */
  get closed(): boolean {
    return this.fd === -1;
  }

  /** The fd for a call named `op`: EBADF once closed, as Python. */
  private live(op: string): number {
    if (this.fd === -1) throw new OSError(EBADF, op);
    return this.fd;
  }

  /** Let go of the fd without closing it and return it. Python: `socket.detach()`. */
  detach(): number {
    const fd = this.fd;
    if (fd !== -1) unclosedSockets.unregister(this);
    this.fd = -1;
    return fd;
  }

  /**
   * `false`: calls that would block throw OSError EAGAIN instead. A boolean or
   * a number (Python takes an int: `0`/`1`); anything else is a TypeError.
   * Python: `socket.setblocking(flag)`.
   */
  setblocking(flag: boolean | number): void {
    if (typeof flag !== 'boolean' && typeof flag !== 'number')
      throw new TypeError(`setblocking(flag): flag must be a boolean, got ${describeValue(flag)}`);
    binding.setBlocking(this.live('setblocking'), !!flag);
    this.blocking = !!flag;
  }

  /** Whether the socket is in blocking mode. Python: `socket.getblocking()`. */
  getblocking(): boolean {
    return this.blocking;
  }

  /** `null` for a blocking socket, `0` for a non-blocking one (socket timeouts are not supported). Python: `socket.gettimeout()`. */
  gettimeout(): number | null {
    return this.blocking ? null : 0;
  }

  /** Whether child processes inherit the fd (false by default: close-on-exec). Python: `socket.get_inheritable()`. */
  getInheritable(): boolean {
    return binding.getInheritable(this.live('getInheritable'));
  }

  /** Set or clear close-on-exec. Python: `socket.set_inheritable(flag)`. */
  setInheritable(inheritable: boolean): void {
    binding.setInheritable(this.live('setInheritable'), !!inheritable);
  }

  /** Bind to a local address, e.g. `['127.0.0.1', 0]` (port 0: the kernel picks one). Python: `socket.bind(address)`. */
  bind(address: Address): void {
    binding.bind(this.live('bind'), this.family, address);
  }

  /** Start listening for connections. Python: `socket.listen(backlog)`. */
  listen(backlog: number = Math.min(SOMAXCONN, 128)): void {
    binding.listen(this.live('listen'), backlog);
  }

  /** Accept a connection: `[socket, address]`. The new socket is blocking, as Python's (asyncore makes it non-blocking). Python: `socket.accept()`. */
  accept(): [Socket<A>, A] {
    const [fd, compact] = binding.accept(this.live('accept'), true);
    const addr = expandAddress<A>(compact);
    adoptingAccepted = true; // a fresh, blocking fd: nothing to validate (saves an fcntl per connection)
    try {
      return [new Socket<A>(this.family, this.type, this.proto, fd), addr];
    } finally {
      adoptingAccepted = false;
    }
  }

  /** Connect; a non-blocking socket throws OSError EINPROGRESS, as Python's BlockingIOError. Python: `socket.connect(address)`. */
  connect(address: Address): void {
    const err = this.connectEx(address);
    if (err !== 0) throw new OSError(err, 'connect');
  }

  /** Connect and return 0 or the errno instead of throwing (resolver errors still throw). Python: `socket.connect_ex(address)`. */
  connectEx(address: Address): number {
    return binding.connectEx(this.live('connect'), this.family, address);
  }

  /** Send what the kernel takes now; returns the count (possibly partial). Never raises SIGPIPE. Python: `socket.send(data, flags)`. */
  send(data: BytesLike, flags = 0): number {
    const fd = this.live('send');
    // Arguments not passed cost the addon nothing to look at: the common call passes two.
    return flags === 0 ? binding.send(fd, toBytes(data)) : binding.send(fd, toBytes(data), undefined, undefined, flags);
  }

  /** Send all of `data`. On a non-blocking socket a full buffer throws EAGAIN; `sent` on the error says how much went. Python: `socket.sendall(data, flags)`. */
  sendall(data: BytesLike, flags = 0): void {
    const buf = toBytes(data);
    let off = 0;
    while (off < buf.byteLength) {
      try {
        off += binding.send(this.live('sendall'), buf, off, buf.byteLength - off, flags);
      } catch (err) {
        if (err instanceof OSError && err.errno === EAGAIN && this.blocking) continue;
        if (err instanceof OSError) (err as OSError & { sent?: number }).sent = off;
        throw err;
      }
    }
  }

  /** `sendto(data, address)` or `sendto(data, flags, address)`: send a datagram. Python: `socket.sendto()`. */
  sendto(data: BytesLike, flagsOrAddress: number | Address, address?: Address): number {
    let flags = 0;
    let addr: Address;
    if (address === undefined) {
      addr = flagsOrAddress as Address;
    } else {
      if (typeof flagsOrAddress !== 'number') throw new TypeError('sendto(data, flags, address): flags must be an integer');
      flags = flagsOrAddress;
      addr = address;
    }
    return binding.sendto(this.live('sendto'), toBytes(data), undefined, undefined, flags, this.family, addr);
  }

  /** Receive up to `bufsize` bytes; an empty Buffer means the peer closed. Python: `socket.recv(bufsize, flags)`. */
  recv(bufsize: number, flags = 0): Buffer {
    const fd = this.live('recv');
    const data = this.streaming && flags === 0 && bufsize >= RECV_DIRECT_MIN && bufsize <= RECV_SCRATCH_MAX && Number.isInteger(bufsize)
      ? recvDirect(fd, bufsize)
      : recvCopy(fd, bufsize, flags);
    this.streaming = data.length >= RECV_DIRECT_MIN && data.length === bufsize;
    return data;
  }

  /** Receive into `buffer` (up to `nbytes`, default its length) without allocating; returns the count. Python: `socket.recv_into(buffer, nbytes, flags)`. */
  recvInto(buffer: ArrayBufferView, nbytes = 0, flags = 0): number {
    if (!ArrayBuffer.isView(buffer)) throw new TypeError(`buffer must be a Buffer or TypedArray, got ${describe(buffer)}`);
    const n = nbytes === 0 || nbytes === undefined ? buffer.byteLength : nbytes;
    if (typeof n !== 'number' || n < 0 || n > buffer.byteLength)
      throw new RangeError(`nbytes (${String(nbytes)}) must be between 0 and the buffer's length (${buffer.byteLength})`);
    return binding.recvInto(this.live('recvInto'), buffer, 0, n, flags);
  }

  /**
   * Receive a datagram: `[data, senderAddress]`. The address is `null` when
   * the kernel reports none, as Python's is `None`: on a connected stream
   * socket (TCP, AF_UNIX SOCK_STREAM), where there is only the peer
   * (`getpeername()`). A datagram socket always gets one (`''` from an
   * unbound AF_UNIX sender). Python: `socket.recvfrom(bufsize, flags)`.
   *
   * @example
   * const [data, from] = udp.recvfrom(2048); // from: IPv4Address | null for a Socket<IPv4Address>
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, A | null] {
    return binding.recvfrom(this.live('recvfrom'), bufsize, flags) as [Buffer, A | null];
  }

  /** Shut down one or both halves of the connection (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`). Python: `socket.shutdown(how)`. */
  shutdown(how: number): void {
    binding.shutdown(this.live('shutdown'), how);
  }

  /** The local address, e.g. the port the kernel picked for port 0. Python: `socket.getsockname()`. */
  getsockname(): A {
    return expandAddress<A>(binding.getsockname(this.live('getsockname'), true));
  }

  /** The remote address; OSError ENOTCONN when not connected. Python: `socket.getpeername()`. */
  getpeername(): A {
    return expandAddress<A>(binding.getpeername(this.live('getpeername'), true));
  }

  /**
   * Set a socket option: an integer value, or the raw bytes of a struct.
   * Python: `socket.setsockopt(level, optname, value)`.
   *
   * @example
   * sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
   */
  setsockopt(level: number, option: number, value: number | Buffer | Uint8Array): void {
    binding.setsockopt(this.live('setsockopt'), level, option, value);
  }

  /** Read an integer socket option. Python: `socket.getsockopt(level, optname)`. */
  getsockopt(level: number, option: number): number;
  /** Read a socket option as `buflen` raw bytes. Python: `socket.getsockopt(level, optname, buflen)`. */
  getsockopt(level: number, option: number, buflen: number): Buffer;
  getsockopt(level: number, option: number, buflen?: number): number | Buffer {
    return binding.getsockopt(this.live('getsockopt'), level, option, buflen);
  }

  // ---- messages with ancillary data, and fd passing (Python 3.3+/3.9+) ----

  /**
   * Send the bytes of `buffers` (gathered, one syscall) with ancillary data:
   * `[level, type, data]` items, e.g. `[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(fd)]`.
   * `address` (datagram sockets) as for `sendto()`. Returns the bytes sent.
   * Never raises SIGPIPE. Python: `socket.sendmsg(buffers, ancdata=(), flags=0, address=None)`.
   *
   * @example
   * a.sendmsg(['head', Buffer.from('body')]);
   */
  sendmsg(buffers: Iterable<BytesLike>, ancdata: Iterable<AncDataItem> = [], flags = 0, address?: Address | null): number {
    const bufs = bytesList(buffers, 'buffers');
    const anc = ancList(ancdata);
    const fd = this.live('sendmsg');
    return address === undefined || address === null
      ? binding.sendmsg(fd, bufs, anc, flags, this.family)
      : binding.sendmsg(fd, bufs, anc, flags, this.family, address);
  }

  /**
   * Receive up to `bufsize` bytes and up to `ancbufsize` bytes of ancillary
   * data (size it with {@link CMSG_SPACE}; 0, the default, takes none):
   * `[data, ancdata, msgFlags, address]`, Python's shape. `ancdata` items are
   * `[level, type, Buffer]`; `msgFlags` may hold MSG_TRUNC, MSG_CTRUNC;
   * `address` is null when the socket has none to report (connected streams).
   * Received fds are close-on-exec. When the ancillary buffer was too small
   * (MSG_CTRUNC), the fds that did arrive are closed and their SCM_RIGHTS
   * items left out, so a partial set never leaks (Python would return it).
   * Python: `socket.recvmsg(bufsize, ancbufsize=0, flags=0)`.
   *
   * @example
   * const [data, anc, flags] = b.recvmsg(1024, socket.CMSG_SPACE(4 * 4));
   */
  recvmsg(bufsize: number, ancbufsize = 0, flags = 0): [Buffer, AncDataItem<Buffer>[], number, Address | null] {
    return binding.recvmsg(this.live('recvmsg'), bufsize, ancbufsize, flags) as [Buffer, AncDataItem<Buffer>[], number, Address | null];
  }

  /** {@link sendFds} on this socket. Python: `socket.send_fds(sock, buffers, fds, flags=0, address=None)`. */
  sendFds(buffers: Iterable<BytesLike>, fds: Iterable<number>, flags = 0, address?: Address | null): number {
    return sendFds(this, buffers, fds, flags, address);
  }

  /** {@link recvFds} on this socket. Python: `socket.recv_fds(sock, bufsize, maxfds, flags=0)`. */
  recvFds(bufsize: number, maxfds: number, flags = 0): [Buffer, number[], number, Address | null] {
    return recvFds(this, bufsize, maxfds, flags);
  }

  /**
   * Close the fd. Idempotent: the fd field is cleared *before* the close, so
   * a second call can never close a number the kernel has since reused.
   * Python: `socket.close()`.
   */
  close(): void {
    const fd = this.fd;
    if (fd === -1) return;
    this.fd = -1;
    unclosedSockets.unregister(this);
    binding.close(fd);
  }

  /** Like Python's repr: `<socket fd=…, family=…, type=…, proto=…>`. Python: `socket.__repr__()`. */
  toString(): string {
    return `<socket fd=${this.fd}, family=${this.family}, type=${this.type}, proto=${this.proto}>`;
  }

  /** `util.inspect()` and `console.log()` show `toString()`. Not in Python. */
  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * `close()`, so that `using sock = new socket.Socket()` closes it at the end of the block.
 * Python: `socket.__exit__()` (`with socket.socket() as s:`).
 */
export interface Socket<A extends Address = Address> extends Disposable {}
Object.defineProperty(Socket.prototype, disposeSymbol, {
  value: function dispose(this: Socket): void {
    this.close();
  },
  writable: true,
  configurable: true,
});

/**
 * A connected pair of sockets (AF_UNIX by default), as Python's `socket.socketpair()`.
 *
 * @example
 * const [a, b] = socket.socketpair();
 */
export function socketpair<A extends Address = UnixAddress>(
  family: AddressFamily<A> = AF_UNIX as AddressFamily<A>,
  type: number = SOCK_STREAM,
  proto = 0,
): [Socket<A>, Socket<A>] {
  const [a, b] = binding.socketpair(family, type, proto);
  return [new Socket<A>(family, type, proto, a), new Socket<A>(family, type, proto, b)];
}

/** True when the kernel can create AF_INET6 sockets. Python: `socket.has_ipv6`. */
export const hasIpv6: boolean = (() => {
  try {
    binding.close(binding.socket(AF_INET6, SOCK_STREAM, 0));
    return true;
  } catch {
    return false;
  }
})();

// ---- module functions over sockets: fd passing, fromfd, create_connection/create_server ----

export * from './netdb';
export { GaiError, GaiError as gaierror } from './errors';

/**
 * One ancillary data item: `[level, type, data]`, e.g.
 * `[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(fd)]`. Python: an item of `ancdata`.
 */
export type AncDataItem<D = BytesLike> = [level: number, type: number, data: D];

/** `buffers` as byte views; a string is one buffer of text, never iterated by character. */
function bytesList(buffers: Iterable<BytesLike>, what: string): ArrayBufferView[] {
  if (typeof buffers === 'string' || buffers === null || typeof (buffers as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function')
    throw new TypeError(`${what} must be an iterable of bytes (Buffer, Uint8Array or string), got ${describe(buffers)}`);
  return Array.from(buffers, toBytes);
}

function ancList(ancdata: Iterable<AncDataItem>): Array<[number, number, ArrayBufferView]> {
  if (ancdata === null || typeof (ancdata as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function' || typeof ancdata === 'string')
    throw new TypeError(`ancdata must be an iterable of [level, type, data], got ${describe(ancdata)}`);
  return Array.from(ancdata, (item, i) => {
    if (!Array.isArray(item) || item.length !== 3) throw new TypeError(`ancdata[${i}] must be [level, type, data]`);
    return [item[0], item[1], toBytes(item[2])];
  });
}

/**
 * The control-buffer length of one ancillary item with `length` bytes of
 * data, without trailing padding. Python: `socket.CMSG_LEN(length)`.
 */
export function CMSG_LEN(length: number): number {
  return binding.cmsgLen(length);
}

/**
 * The control-buffer space one ancillary item with `length` bytes of data
 * takes, padding included: sum these for `recvmsg()`'s `ancbufsize`.
 * Python: `socket.CMSG_SPACE(length)`.
 *
 * @example
 * sock.recvmsg(1024, socket.CMSG_SPACE(3 * 4)); // room for three fds
 */
export function CMSG_SPACE(length: number): number {
  return binding.cmsgSpace(length);
}

const INT_SIZE = 4; // a C int, SCM_RIGHTS's element
const LITTLE_ENDIAN = new Uint8Array(Int32Array.of(1).buffer)[0] === 1;

/**
 * Send `buffers` together with the open fds `fds` over an AF_UNIX socket
 * (SCM_RIGHTS): the receiver gets its own fds for the same open files or
 * sockets, e.g. a listening socket handed to another process. At least one
 * byte of data should go with them (a stream receiver needs something to
 * read). Python: `socket.send_fds(sock, buffers, fds, flags=0, address=None)`.
 *
 * @example
 * socket.sendFds(channel, ['listener'], [server.fileno()]);
 */
export function sendFds(sock: Socket, buffers: Iterable<BytesLike>, fds: Iterable<number>, flags = 0, address?: Address | null): number {
  if (!(sock instanceof Socket)) throw new TypeError(`sendFds(): sock must be a socket.Socket, got ${describe(sock)}`);
  if (fds === null || typeof (fds as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function')
    throw new TypeError(`sendFds(): fds must be an iterable of integers, got ${describe(fds)}`);
  const list = Array.from(fds, (fd, i) => {
    if (typeof fd !== 'number' || !Number.isInteger(fd)) throw new TypeError(`sendFds(): fds[${i}] must be an integer, got ${describe(fd)}`);
    if (fd < 0 || fd > 0x7fffffff) throw new RangeError(`sendFds(): fds[${i}] must be between 0 and 2147483647, got ${fd}`);
    return fd;
  });
  return sock.sendmsg(buffers, [[SOL_SOCKET, SCM_RIGHTS, Int32Array.from(list)]], flags, address);
}

/**
 * Receive up to `bufsize` bytes and up to `maxfds` fds sent with
 * {@link sendFds}: `[data, fds, msgFlags, address]`. The fds are new,
 * close-on-exec, and the caller's to close (wrap a socket's with
 * `new socket.Socket(family, type, 0, fd)`). If more fds came than `maxfds`
 * allows, msgFlags has MSG_CTRUNC and `fds` is empty: the kernel dropped the
 * excess and the ones that fitted are closed (Python returns those).
 * Python: `socket.recv_fds(sock, bufsize, maxfds, flags=0)`.
 *
 * @example
 * const [msg, [fd]] = socket.recvFds(channel, 64, 1);
 * const server = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM, 0, fd);
 */
export function recvFds(sock: Socket, bufsize: number, maxfds: number, flags = 0): [Buffer, number[], number, Address | null] {
  if (!(sock instanceof Socket)) throw new TypeError(`recvFds(): sock must be a socket.Socket, got ${describe(sock)}`);
  if (typeof maxfds !== 'number' || !Number.isInteger(maxfds)) throw new TypeError(`recvFds(): maxfds must be an integer, got ${describe(maxfds)}`);
  if (maxfds < 0 || maxfds > 65536) throw new RangeError(`recvFds(): maxfds must be between 0 and 65536, got ${maxfds}`);
  const [data, anc, msgFlags, addr] = sock.recvmsg(bufsize, CMSG_LEN(maxfds * INT_SIZE), flags); // CMSG_LEN, as Python: SPACE's padding can fit one more
  const fds: number[] = [];
  for (const [level, type, d] of anc) {
    if (level !== SOL_SOCKET || type !== SCM_RIGHTS) continue;
    for (let off = 0; off + INT_SIZE <= d.length; off += INT_SIZE) fds.push(LITTLE_ENDIAN ? d.readInt32LE(off) : d.readInt32BE(off));
  }
  return [data, fds, msgFlags, addr];
}

/**
 * A Socket over a duplicate of `fd` (the original stays open and the
 * caller's). Python: `socket.fromfd(fd, family, type, proto=0)`.
 *
 * @example
 * const s = socket.fromfd(inheritedFd, socket.AF_INET, socket.SOCK_STREAM);
 */
export function fromfd(fd: number, family: number, type: number, proto = 0): Socket {
  const nfd = binding.dup(fd);
  try {
    return new Socket(family, type, proto, nfd);
  } catch (err) {
    binding.close(nfd);
    throw err;
  }
}

/** A connect that gives up after `timeout` seconds (OSError ETIMEDOUT "timed out", Python's socket.timeout). */
function connectWithin(sock: Socket, address: Address, timeout: number): void {
  sock.setblocking(false);
  const err = sock.connectEx(address);
  if (err === 0) return;
  if (err !== osConstants.errno.EINPROGRESS || timeout === 0) throw new OSError(err, 'connect');
  binding.connectWait(sock.fileno(), Math.ceil(timeout * 1000)); // rounded up, as CPython's waits
}

/** A socket timeout in seconds, Python's rules: null (block), else a finite number >= 0. */
function checkTimeout(timeout: number | null | undefined, where: string): void {
  if (timeout === null || timeout === undefined) return;
  if (typeof timeout !== 'number') throw new TypeError(`${where}: timeout must be a number or null, got ${describe(timeout)}`);
  if (!(timeout >= 0) || timeout * 1000 > 0x7fffffff)
    throw new RangeError(`${where}: timeout must be between 0 and 2147483.647 seconds, got ${String(timeout)}`);
}

/**
 * Connect to `[host, port]` over TCP, trying each address getaddrinfo gives
 * (IPv6 and IPv4) in turn, and return the first socket that connects; if
 * none does, throw the last error. `sourceAddress` binds first.
 *
 * Timeouts: `null`/absent connects in blocking mode, as Python's default.
 * A positive `timeout` (seconds) bounds each attempt (OSError ETIMEDOUT
 * "timed out"); `0` makes the attempt non-blocking, so, as in Python, it
 * throws EINPROGRESS unless the connection completes at once. Sockets here
 * have no per-call timeouts: after a timed connect the socket is back in
 * blocking mode (`gettimeout()` null), where Python's keeps the timeout.
 * This call blocks the event loop while it resolves and connects; for an
 * asyncore channel use `Dispatcher#connect()`.
 *
 * Python: `socket.create_connection(address, timeout=..., source_address=None)`.
 *
 * @example
 * const s = socket.createConnection(['localhost', 8080], 5);
 */
export function createConnection(address: [string, number | string], timeout: number | null = null, sourceAddress: Address | null = null): Socket {
  if (!Array.isArray(address) || address.length !== 2) throw new TypeError('createConnection(): address must be [host, port]');
  checkTimeout(timeout, 'createConnection()');
  const [host, port] = address;
  let last: unknown = null;
  for (const [family, type, proto, , sa] of getaddrinfo(host, port, 0, SOCK_STREAM)) {
    let sock: Socket | null = null;
    try {
      sock = new Socket(family, type, proto);
      if (sourceAddress !== null && sourceAddress !== undefined) sock.bind(sourceAddress);
      if (timeout === null || timeout === undefined) {
        sock.connect(sa);
      } else {
        connectWithin(sock, sa, timeout);
        if (timeout > 0) sock.setblocking(true);
      }
      return sock;
    } catch (err) {
      sock?.close();
      if (!(err instanceof OSError)) throw err; // as Python: only socket errors move on to the next address
      last = err;
    }
  }
  if (last !== null) throw last;
  throw new OSError(osConstants.errno.EADDRNOTAVAIL, 'getaddrinfo', 'getaddrinfo returns an empty list');
}

/**
 * `createServer()` options, Python's keyword arguments. `undefined` means
 * the default.
 */
export interface CreateServerOptions {
  /** AF_INET (default), AF_INET6 or AF_UNIX. */
  family?: number | undefined;
  /** The listen() backlog; default as `Socket#listen()`. */
  backlog?: number | undefined;
  /** Set SO_REUSEPORT (RangeError where the platform lacks it). */
  reusePort?: boolean | undefined;
  /** With AF_INET6: accept IPv4 connections too (IPV6_V6ONLY off). */
  dualstackIpv6?: boolean | undefined;
}
const CREATE_SERVER_KEYS = ['family', 'backlog', 'reusePort', 'dualstackIpv6'];

/**
 * True when an AF_INET6 socket can also accept IPv4 connections (IPV6_V6ONLY
 * can be cleared). Python: `socket.has_dualstack_ipv6()`.
 */
export function hasDualstackIpv6(): boolean {
  if (!hasIpv6) return false;
  let sock: Socket | null = null;
  try {
    sock = new Socket(AF_INET6, SOCK_STREAM);
    sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
    return true;
  } catch (err) {
    if (err instanceof OSError) return false;
    throw err;
  } finally {
    sock?.close();
  }
}

/**
 * A listening TCP (or AF_UNIX stream) socket bound to `address`, made as
 * Python makes it: SO_REUSEADDR set, SO_REUSEPORT if asked, AF_INET6
 * IPv6-only unless `dualstackIpv6`. A bind failure's message names the
 * address. The socket is blocking; hand it to a `Dispatcher` (which makes it
 * non-blocking) or accept() on it.
 *
 * Python: `socket.create_server(address, *, family=AF_INET, backlog=None, reuse_port=False, dualstack_ipv6=False)`.
 *
 * @example
 * const server = socket.createServer(['127.0.0.1', 0], { backlog: 64 });
 * const [host, port] = server.getsockname() as [string, number];
 */
export function createServer(address: Address, options: CreateServerOptions = {}): Socket {
  if (options === null || typeof options !== 'object') throw new TypeError(`createServer(): options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options))
    if (!CREATE_SERVER_KEYS.includes(key)) throw new TypeError(`createServer(): unknown option '${key}' (known: ${CREATE_SERVER_KEYS.join(', ')})`);
  const { family = AF_INET, backlog, reusePort = false, dualstackIpv6 = false } = options;
  if (reusePort && SO_REUSEPORT === undefined) throw new RangeError('SO_REUSEPORT not supported on this platform');
  if (dualstackIpv6) {
    if (!hasDualstackIpv6()) throw new RangeError('dualstack_ipv6 not supported on this platform');
    if (family !== AF_INET6) throw new RangeError('dualstack_ipv6 requires AF_INET6 family');
  }
  const sock = new Socket(family, SOCK_STREAM);
  try {
    try {
      sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    } catch (err) {
      if (!(err instanceof OSError)) throw err; // as Python: not every family takes it
    }
    if (reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT as number, 1);
    if (hasIpv6 && family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstackIpv6 ? 0 : 1);
    try {
      sock.bind(address);
    } catch (err) {
      if (!(err instanceof OSError) || err instanceof GaiError) throw err;
      throw new OSError(err.errno, 'bind', `[Errno ${err.errno}] ${err.code}: ${strerror(err.errno)} (while attempting to bind on address ${JSON.stringify(address)})`);
    }
    if (backlog === undefined) sock.listen();
    else sock.listen(backlog);
    return sock;
  } catch (err) {
    sock.close();
    throw err;
  }
}
