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

/** The symbolic name of an errno value ('ECONNREFUSED'), or `E<number>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** `os.strerror()`: the C library's text for an errno value. */
export function strerror(errno: number): string {
  return binding.strerror(errno);
}

/**
 * An operating-system error (Python's `OSError`).
 *
 * `errno` is positive, as in `os.constants.errno`; `code` is its name
 * (`'EAGAIN'`, `'ECONNREFUSED'`, …); `syscall` names the failing call.
 *
 * @example
 * try { sock.connect(['127.0.0.1', 1]); } catch (e) { if (e instanceof OSError && e.code === 'ECONNREFUSED') … }
 */
export class OSError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall?: string;

  constructor(errno: number, syscall?: string, message?: string) {
    const code = errnoName(errno);
    super(message ?? `[Errno ${errno}] ${code}: ${strerror(errno)}${syscall ? ` (${syscall})` : ''}`);
    this.errno = errno;
    this.code = code;
    if (syscall !== undefined) this.syscall = syscall;
  }

  override get name(): string {
    return 'OSError';
  }
}

binding.init(OSError);

/** True for an OSError whose errno is `errno`. */
export function isErrno(err: unknown, errno: number): err is OSError {
  return err instanceof OSError && err.errno === errno;
}
