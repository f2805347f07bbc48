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
import { constants as osConstants } from 'node:os';
import { binding } from './native';
import { OSError } from './errors';

const c = binding.constants;
const { EBADF, EAGAIN } = osConstants.errno;

/** A socket address, as Python shapes it: `[host, port]` (AF_INET), `[host, port, flowinfo?, scopeId?]` (AF_INET6) or a path (AF_UNIX). */
export type Address = [string, number] | [string, number, number?, number?] | string;
/** Bytes as accepted wherever data is sent: strings are encoded as UTF-8. */
export type BytesLike = Buffer | Uint8Array | ArrayBufferView | string;

export const AF_INET = c.AF_INET;
export const AF_INET6 = c.AF_INET6;
export const AF_UNIX = c.AF_UNIX;
export const AF_UNSPEC = c.AF_UNSPEC;
export const SOCK_STREAM = c.SOCK_STREAM;
export const SOCK_DGRAM = c.SOCK_DGRAM;
export const SOCK_RAW = c.SOCK_RAW;
export const SOCK_SEQPACKET = c.SOCK_SEQPACKET;
export const SOL_SOCKET = c.SOL_SOCKET;
export const SO_REUSEADDR = c.SO_REUSEADDR;
export const SO_REUSEPORT: number | undefined = c.SO_REUSEPORT;
export const SO_ERROR = c.SO_ERROR;
export const SO_KEEPALIVE = c.SO_KEEPALIVE;
export const SO_RCVBUF = c.SO_RCVBUF;
export const SO_SNDBUF = c.SO_SNDBUF;
export const SO_LINGER = c.SO_LINGER;
export const SO_BROADCAST = c.SO_BROADCAST;
export const SO_TYPE = c.SO_TYPE;
export const SO_ACCEPTCONN = c.SO_ACCEPTCONN;
export const SO_OOBINLINE = c.SO_OOBINLINE;
export const SO_RCVLOWAT = c.SO_RCVLOWAT;
export const SO_SNDLOWAT = c.SO_SNDLOWAT;
export const IPPROTO_IP = c.IPPROTO_IP;
export const IPPROTO_TCP = c.IPPROTO_TCP;
export const IPPROTO_UDP = c.IPPROTO_UDP;
export const IPPROTO_IPV6 = c.IPPROTO_IPV6;
export const IPV6_V6ONLY = c.IPV6_V6ONLY;
export const TCP_NODELAY = c.TCP_NODELAY;
export const SHUT_RD = c.SHUT_RD;
export const SHUT_WR = c.SHUT_WR;
export const SHUT_RDWR = c.SHUT_RDWR;
export const MSG_OOB = c.MSG_OOB;
export const MSG_PEEK = c.MSG_PEEK;
export const MSG_DONTWAIT = c.MSG_DONTWAIT;
export const MSG_WAITALL = c.MSG_WAITALL;
export const MSG_TRUNC = c.MSG_TRUNC;
export const SOMAXCONN = c.SOMAXCONN;

/** Encode data for sending: strings as UTF-8, byte views as they are (no copy). */
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

function checkFamily(family: number): void {
  if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX)
    throw new OSError(osConstants.errno.EAFNOSUPPORT, 'socket');
}

/**
 * A socket, as Python's `socket.socket`. Created blocking and close-on-exec;
 * `setblocking(false)` makes it non-blocking (asyncore does this for you).
 */
export class Socket {
  readonly family: number;
  readonly type: number;
  readonly proto: number;
  private fd: number;
  private blocking = true;

  /**
   * @param family AF_INET (default), AF_INET6 or AF_UNIX
   * @param type SOCK_STREAM (default) or SOCK_DGRAM
   * @param proto protocol number, usually 0
   * @param fileno adopt an existing socket fd instead of creating one
   */
  constructor(family: number = AF_INET, type: number = SOCK_STREAM, proto = 0, fileno?: number) {
    this.family = family;
    this.type = type;
    this.proto = proto;
    if (fileno === undefined || fileno === null) {
      checkFamily(family);
      this.fd = binding.socket(family, type, proto);
    } else {
      binding.getBlocking(fileno); // validates the fd (EBADF if it is not open)
      this.fd = fileno;
      this.blocking = binding.getBlocking(fileno);
    }
  }

  /** The fd, or -1 once closed (as Python). */
  fileno(): number {
    return this.fd;
  }

  /** True once `close()` or `detach()` ran. */
  get closed(): boolean {
    return this.fd === -1;
  }

  /** The fd for a call named `op`: EBADF once closed, as Python. */
  private live(op: string): number {
    if (this.fd === -1) throw new OSError(EBADF, op);
    return this.fd;
  }

  /** Let go of the fd without closing it and return it. */
  detach(): number {
    const fd = this.fd;
    this.fd = -1;
    return fd;
  }

  setblocking(flag: boolean): void {
    binding.setBlocking(this.live('setblocking'), !!flag);
    this.blocking = !!flag;
  }

  getblocking(): boolean {
    return this.blocking;
  }

  /** `null` for a blocking socket, `0` for a non-blocking one (socket timeouts are not supported). */
  gettimeout(): number | null {
    return this.blocking ? null : 0;
  }

  getInheritable(): boolean {
    return binding.getInheritable(this.live('getInheritable'));
  }

  setInheritable(inheritable: boolean): void {
    binding.setInheritable(this.live('setInheritable'), !!inheritable);
  }

  bind(address: Address): void {
    binding.bind(this.live('bind'), this.family, address);
  }

  listen(backlog: number = Math.min(SOMAXCONN, 128)): void {
    binding.listen(this.live('listen'), backlog);
  }

  /** Accept a connection: `[socket, address]`. The new socket is blocking, as Python's (asyncore makes it non-blocking). */
  accept(): [Socket, Address] {
    const [fd, addr] = binding.accept(this.live('accept'));
    return [new Socket(this.family, this.type, this.proto, fd), addr as Address];
  }

  /** Connect; a non-blocking socket throws OSError EINPROGRESS, as Python's BlockingIOError. */
  connect(address: Address): void {
    const err = this.connectEx(address);
    if (err !== 0) throw new OSError(err, 'connect');
  }

  /** Connect and return 0 or the errno instead of throwing (resolver errors still throw). */
  connectEx(address: Address): number {
    return binding.connectEx(this.live('connect'), this.family, address);
  }

  /** Send what the kernel takes now; returns the count (possibly partial). Never raises SIGPIPE. */
  send(data: BytesLike, flags = 0): number {
    return binding.send(this.live('send'), toBytes(data), undefined, undefined, flags);
  }

  /** Send all of `data`. On a non-blocking socket a full buffer throws EAGAIN; `sent` on the error says how much went. */
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

  /** `sendto(data, address)` or `sendto(data, flags, address)`. */
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

  /** Receive up to `bufsize` bytes; an empty Buffer means the peer closed. */
  recv(bufsize: number, flags = 0): Buffer {
    return binding.recv(this.live('recv'), bufsize, flags);
  }

  /** Receive into `buffer` (up to `nbytes`, default its length) without allocating; returns the count. */
  recvInto(buffer: ArrayBufferView, nbytes = 0, flags = 0): number {
    if (!ArrayBuffer.isView(buffer)) throw new TypeError(`buffer must be a Buffer or TypedArray, got ${describe(buffer)}`);
    const n = nbytes === 0 || nbytes === undefined ? buffer.byteLength : nbytes;
    if (typeof n !== 'number' || n < 0 || n > buffer.byteLength)
      throw new RangeError(`nbytes (${String(nbytes)}) must be between 0 and the buffer's length (${buffer.byteLength})`);
    return binding.recvInto(this.live('recvInto'), buffer, 0, n, flags);
  }

  /** Receive a datagram: `[data, senderAddress]`. */
  recvfrom(bufsize: number, flags = 0): [Buffer, Address | null] {
    return binding.recvfrom(this.live('recvfrom'), bufsize, flags) as [Buffer, Address | null];
  }

  shutdown(how: number): void {
    binding.shutdown(this.live('shutdown'), how);
  }

  getsockname(): Address {
    return binding.getsockname(this.live('getsockname')) as Address;
  }

  getpeername(): Address {
    return binding.getpeername(this.live('getpeername')) as Address;
  }

  setsockopt(level: number, option: number, value: number | Buffer | Uint8Array): void {
    binding.setsockopt(this.live('setsockopt'), level, option, value);
  }

  getsockopt(level: number, option: number): number;
  getsockopt(level: number, option: number, buflen: number): Buffer;
  getsockopt(level: number, option: number, buflen?: number): number | Buffer {
    return binding.getsockopt(this.live('getsockopt'), level, option, buflen);
  }

  /**
   * Close the fd. Idempotent: the fd field is cleared *before* the close, so
   * a second call can never close a number the kernel has since reused.
   */
  close(): void {
    const fd = this.fd;
    if (fd === -1) return;
    this.fd = -1;
    binding.close(fd);
  }

  toString(): string {
    return `<socket fd=${this.fd}, family=${this.family}, type=${this.type}, proto=${this.proto}>`;
  }
}

/** A connected pair of sockets (AF_UNIX by default), as Python's `socket.socketpair()`. */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0): [Socket, Socket] {
  const [a, b] = binding.socketpair(family, type, proto);
  return [new Socket(family, type, proto, a), new Socket(family, type, proto, b)];
}

/** True when the kernel can create AF_INET6 sockets. */
export const hasIpv6: boolean = (() => {
  try {
    binding.close(binding.socket(AF_INET6, SOCK_STREAM, 0));
    return true;
  } catch {
    return false;
  }
})();
