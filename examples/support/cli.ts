/**
 * Command-line helpers of the server examples (chat_server, http_server):
 * `--host`, `--port` and `--backend` parsing, and choosing a loop backend
 * that this platform has.
 *
 * Not an example itself (scripts/run-examples.js runs only examples/*.ts).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loop, type Backend } from '../../lib/index';

/** What {@link parseServerArgs} returns: the common options, and every option by name in `values`. */
export interface ServerArgs {
  host: string;
  port: number;
  backend: Backend;
  help: boolean;
  values: Record<string, string | boolean | undefined>;
}

/** The options both servers take, plus an example's own (`extra`). Accepts `--port 8000` and `--port=8000`. */
export function parseServerArgs(extra: NonNullable<ParseArgsConfig['options']> = {}, argv: string[] = process.argv.slice(2)): ServerArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      backend: { type: 'string', default: 'select' },
      help: { type: 'boolean', short: 'h', default: false },
      ...extra,
    },
    allowPositionals: false,
    strict: true,
  }) as { values: Record<string, string | boolean | undefined> };
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a number from 0 to 65535, not ${String(values.port)}`);
  const backend = String(values.backend);
  if (backend !== 'select' && backend !== 'poll' && backend !== 'epoll') throw new Error(`--backend must be select, poll or epoll, not ${backend}`);
  return { host: String(values.host), port, backend, help: values.help === true, values };
}

/**
 * `wanted` when `loop()` takes it here, else `'poll'`, with a note on
 * stderr (epoll is Linux-only, and arrives in its own module).
 */
export function chooseBackend(wanted: Backend): Backend {
  try {
    loop({ backend: wanted, map: new Map(), count: 1 }); // an empty map: checks the backend, runs no pass
    return wanted;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    process.stderr.write(`backend ${wanted} is not available (${why}); using poll instead\n`);
    return 'poll';
  }
}

/** A host and port as a URL authority: `127.0.0.1:8000`, `[::1]:8000`. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
