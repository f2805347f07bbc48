/**
 * What the examples share: a stand-in for Python's `logging` module as the
 * PyMOTW asyncore article configures it (level DEBUG, format
 * `'%(name)s: %(message)s'`), so every handler prints `Name: message` lines
 * to stdout, and the small formatting helpers those lines use.
 *
 * Not an example itself (scripts/run-examples.js runs only examples/*.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A named logger; `debug()` prints `<name>: <message>` on stdout. */
export class Logger {
  constructor(readonly name: string) {}

  debug(message: string): void {
    process.stdout.write(`${this.name}: ${message}\n`);
  }
}

const loggers = new Map<string, Logger>();

// `node dist/examples/echo.js | head` closes stdout early: end quietly instead of with an EPIPE stack.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

/** `logging.getLogger(name)`: one logger per name; `'root'` when left out. */
export function getLogger(name = 'root'): Logger {
  let logger = loggers.get(name);
  if (logger === undefined) {
    logger = new Logger(name);
    loggers.set(name, logger);
  }
  return logger;
}

/** An address as Python prints a tuple, with JS brackets: `['127.0.0.1', 8080]`. */
export function formatAddress(addr: unknown): string {
  if (Array.isArray(addr)) return `[${addr.map(formatAddress).join(', ')}]`;
  if (typeof addr === 'string') return `'${addr}'`;
  return String(addr);
}

/**
 * With `--full` on the command line every chunk is printed whole (as a JSON
 * string of its bytes read as latin1, so the bytes can be recovered from the
 * output); without it only the first `width` characters are shown.
 */
export const fullChunks: boolean = process.argv.includes('--full');

/** A chunk for a debug line: `"Lorem ipsum dolor sit amet, consectetu…"`, or all of it with `--full`. */
export function preview(data: Buffer | string, width = 40): string {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  if (fullChunks || text.length <= width) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, width)).slice(0, -1)}…"`;
}

/**
 * `{ backend }` from a `--backend=select|poll|epoll` argument, to spread into
 * `loop()`'s options; `{}` (asyncore's default, select) without one.
 */
export function backendOption(): { backend?: 'select' | 'poll' | 'epoll' } {
  const arg = process.argv.find((a) => a.startsWith('--backend='));
  if (arg === undefined) return {};
  const backend = arg.slice('--backend='.length);
  if (backend !== 'select' && backend !== 'poll' && backend !== 'epoll') throw new Error(`--backend must be select, poll or epoll, not ${backend}`);
  return { backend };
}

/** The command-line arguments that are not `--options`. */
export function positionalArgs(): string[] {
  return process.argv.slice(2).filter((a) => !a.startsWith('--'));
}

/**
 * The path of a data file of the examples (e.g. `lorem.txt`), whether this
 * code runs from `examples/` or compiled from `dist/examples/`.
 */
export function examplePath(name: string): string {
  const candidates = [
    path.resolve(__dirname, '..', name), // examples/support/.. or dist/examples/support/..
    path.resolve(__dirname, '..', '..', '..', 'examples', name), // dist/examples/support -> examples
  ];
  for (const p of candidates) if (fs.existsSync(p)) return p;
  throw new Error(`cannot find ${name} (looked in ${candidates.join(', ')})`);
}
