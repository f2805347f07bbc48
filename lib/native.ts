/**
 * Loads the C++ addon (a prebuild from `prebuilds/<platform>-<arch>/` when one
 * matches, else `build/Release`) and describes what it exports. Internal: the
 * public surface is `socket`, `select` and the asyncore classes.
 * @internal
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type Fn<A extends unknown[], R> = (...args: A) => R;
type Bytes = ArrayBufferView | ArrayBuffer;

export interface NativeBinding {
  init(osErrorClass: Function): void;
  strerror(errno: number): string;
  errnoException(errno: number, syscall: string): Error;

  socket: Fn<[family: number, type: number, proto?: number], number>;
  socketpair: Fn<[family: number, type: number, proto?: number], [number, number]>;
  pipe: Fn<[], [number, number]>;
  close: Fn<[fd: number], void>;
  dup: Fn<[fd: number], number>;
  setBlocking: Fn<[fd: number, blocking: boolean], void>;
  getBlocking: Fn<[fd: number], boolean>;
  getInheritable: Fn<[fd: number], boolean>;
  setInheritable: Fn<[fd: number, inheritable: boolean], void>;
  bind: Fn<[fd: number, family: number, address: unknown], void>;
  listen: Fn<[fd: number, backlog: number], void>;
  connectEx: Fn<[fd: number, family: number, address: unknown], number>;
  accept: Fn<[fd: number], [number, unknown]>;
  shutdown: Fn<[fd: number, how: number], void>;
  getsockname: Fn<[fd: number], unknown>;
  getpeername: Fn<[fd: number], unknown>;
  send: Fn<[fd: number, data: Bytes, offset?: number, length?: number, flags?: number], number>;
  sendto: Fn<[fd: number, data: Bytes, offset: number | undefined, length: number | undefined, flags: number, family: number, address: unknown], number>;
  recv: Fn<[fd: number, n: number, flags?: number], Buffer>;
  recvInto: Fn<[fd: number, buf: Bytes, offset?: number, length?: number, flags?: number], number>;
  recvfrom: Fn<[fd: number, n: number, flags?: number], [Buffer, unknown]>;
  read: Fn<[fd: number, n: number], Buffer>;
  write: Fn<[fd: number, data: Bytes, offset?: number, length?: number], number>;
  setsockopt: Fn<[fd: number, level: number, option: number, value: number | Bytes], void>;
  getsockopt: Fn<[fd: number, level: number, option: number, buflen?: number], number | Buffer>;

  selectInto: Fn<[fds: Int32Array, masks: Int32Array, n: number, timeoutSeconds: number | null], number>;
  pollInto: Fn<[fds: Int32Array, events: Int32Array, revents: Int32Array, n: number, timeoutMs: number | null], number>;
  epollCreate?: Fn<[], number>;
  epollCtl?: Fn<[epfd: number, op: number, fd: number, events: number], number>;
  epollWait?: Fn<[epfd: number, fds: Int32Array, events: Int32Array, maxevents: number, timeoutMs: number | null], number>;

  FD_SETSIZE: number;
  platform: string;
  constants: Record<string, number>;
}

function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'binding.gyp'))) {
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..');
    dir = up;
  }
  return dir;
}

function load(): NativeBinding {
  const root = packageRoot();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node-gyp-build')(root) as NativeBinding;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(
      `asyncore-node: no native addon for ${process.platform}-${process.arch} (Node ${process.version}). ` +
        `No prebuild in ${path.join(root, 'prebuilds')} matches and no local build exists; ` +
        `build one with 'npm rebuild' (needs a C++ compiler and python3). ` +
        `Supported platforms: Linux and macOS. (${why})`,
    );
  }
}

export const binding: NativeBinding = load();
