/**
 * The one error shape of the library: `OSError`, as Python's. Every native
 * failure is built by the addon as `new OSError(errno, syscall)`.
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

binding.init(OSError);

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
