/**
 * The one error shape of the library: `OSError`, as Python's. Every native
 * failure is built by the addon as `new OSError(errno, syscall)`; a failed
 * name lookup as its subclass `GaiError` (Python's `socket.gaierror`).
 */
import { constants as osConstants } from 'node:os';
import { binding } from './native';

const errnoNames: Map<number, string> = new Map();
for (const [name, value] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}
// Aliases that os.constants lists first on some platforms; prefer the usual names.
if (binding.constants.ESHUTDOWN !== undefined) errnoNames.set(binding.constants.ESHUTDOWN, 'ESHUTDOWN');
if (osConstants.errno.EAGAIN !== undefined) errnoNames.set(osConstants.errno.EAGAIN, 'EAGAIN');
if (osConstants.errno.EDEADLK !== undefined) errnoNames.set(osConstants.errno.EDEADLK, 'EDEADLK');

/**
 * The symbolic name of an errno value ('ECONNREFUSED'), or `E<number>` when unknown.
 * Python: `errno.errorcode[errno]`.
 *
 * @example
 * errnoName(os.constants.errno.EAGAIN); // 'EAGAIN'
 */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${String(errno)}`;
}

/**
 * The C library's text for an errno value. Python: `os.strerror(errno)`
 * (asyncore's `_strerror()` wraps it).
 *
 * @example
 * strerror(os.constants.errno.ECONNREFUSED); // 'Connection refused'
 */
export function strerror(errno: number): string {
  return binding.strerror(errno);
}

/** strerror() for OSError's message: never throws, whatever the caller passed as errno. */
function describeErrno(errno: unknown): string {
  return Number.isInteger(errno) && Math.abs(errno as number) <= 0x7fffffff ? strerror(errno as number) : 'Unknown error';
}

/**
 * An operating-system error (Python's `OSError`).
 *
 * `errno` is positive, as in `os.constants.errno`; `code` is its name
 * (`'EAGAIN'`, `'ECONNREFUSED'`, …); `syscall` names the failing call.
 * Python's subclasses (`BlockingIOError`, `ConnectionResetError`, …) are all
 * this one class: test `code` or `errno` instead of the class.
 *
 * @example
 * try { sock.connect(['127.0.0.1', 1]); } catch (e) { if (e instanceof OSError && e.code === 'ECONNREFUSED') … }
 */
export class OSError extends Error {
  /** The errno, positive (`os.constants.errno.EAGAIN`, …). Python: `OSError.errno`. */
  readonly errno: number;
  /** The errno's symbolic name: `'EAGAIN'`, `'ECONNRESET'`, …. Python: `errno.errorcode[e.errno]`. */
  readonly code: string;
  /** The failing call (`'connect'`, `'send'`, …), when known. Not in Python. */
  readonly syscall?: string;

  /**
   * Python: `OSError(errno, strerror)`; the message is built as Python's `str()` of it.
   *
   * @param errno the positive errno value
   * @param syscall the failing call's name
   * @param message replaces the default `[Errno N] CODE: strerror (syscall)` message
   */
  constructor(errno: number, syscall?: string, message?: string) {
    const code = errnoName(errno);
    super(message ?? `[Errno ${String(errno)}] ${code}: ${describeErrno(errno)}${syscall ? ` (${syscall})` : ''}`);
    this.errno = errno;
    this.code = code;
    if (syscall !== undefined) this.syscall = syscall;
  }

  /** `'OSError'`. */
  override get name(): string {
    return 'OSError';
  }
}

// EAI_* values to names, first name first (constants.cc lists the standard ones first).
const gaiNames: Map<number, string> = new Map();
for (const [name, value] of Object.entries(binding.constants)) {
  if (name.startsWith('EAI_') && !gaiNames.has(value)) gaiNames.set(value, name);
}

/**
 * A failed name lookup (getaddrinfo): Python's `socket.gaierror`, a subclass
 * of {@link OSError}. Thrown by `socket.getaddrinfo()`, `gethostbyname()` and
 * wherever an address's host name is resolved (`bind`, `connect`, `sendto`,
 * `createConnection`, …).
 *
 * Unlike other OSErrors, `errno` is the resolver's `EAI_*` value, as in
 * Python: negative on Linux/glibc (`socket.EAI_NONAME` is -2), positive on
 * macOS. `code` names it (`'EAI_NONAME'`, `'EAI_AGAIN'`, …); the message is
 * the resolver's own text (gai_strerror). A resolver failure that is really
 * a system error (EAI_SYSTEM) is thrown as a plain OSError with that errno.
 *
 * @example
 * try { socket.getaddrinfo('no-such-host.invalid', 80); }
 * catch (e) { if (e instanceof GaiError && e.code === 'EAI_NONAME') … }
 */
export class GaiError extends OSError {
  /** The host name that failed to resolve, when there was one. Not in Python. */
  readonly hostname?: string;

  /**
   * Python: `socket.gaierror(errno, strerror)`.
   *
   * @param errno the `EAI_*` value
   * @param syscall the failing call (`'getaddrinfo'`)
   * @param message replaces the default `[Errno N] EAI_…: text (syscall host)` message
   * @param hostname the name that was looked up
   */
  constructor(errno: number, syscall = 'getaddrinfo', message?: string, hostname?: string) {
    const code = gaiNames.get(errno) ?? `EAI_${String(errno)}`;
    const text = Number.isInteger(errno) && Math.abs(errno) <= 0x7fffffff ? binding.gaiStrerror(errno) : 'Unknown error';
    super(errno, syscall, message ?? `[Errno ${String(errno)}] ${code}: ${text} (${syscall}${hostname === undefined ? '' : ` ${hostname}`})`);
    // OSError named it from the errno table, which does not know EAI_* values.
    (this as { code: string }).code = code;
    if (hostname !== undefined) this.hostname = hostname;
  }

  /** `'GaiError'`. */
  override get name(): string {
    return 'GaiError';
  }
}

binding.init(OSError, GaiError);

/**
 * The one way a native result that carries `-errno` instead of throwing
 * becomes an error (the rule is stated in native/binding.h; today only
 * `epollCtl`, whose EEXIST/ENOENT/EBADF/EPERM steer the epoll backend's
 * recovery). `rc` is returned when it is not negative; a negative `rc` is
 * thrown as the addon's own `OSError(-rc, syscall)` (native/errors.cc).
 * @internal
 */
export function throwIfErrno(rc: number, syscall: string): number {
  if (rc < 0) throw binding.errnoException(-rc, syscall);
  return rc;
}

/** True for an OSError whose errno is `errno`. */
export function isErrno(err: unknown, errno: number): err is OSError {
  return err instanceof OSError && err.errno === errno;
}

/** What a value is, for a TypeError's message: 'a string', 'null', 'an object (Map)'. @internal */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  return `${/^[aeiou]/.test(typeof v) ? 'an' : 'a'} ${typeof v}`;
}
