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

/** An opaque native waiter (native/async_wait.cc). */
export type AsyncWaitHandle = { readonly __asyncWait: unique symbol };

export interface NativeBinding {
  init(osErrorClass: Function, gaiErrorClass?: Function): void;
  strerror(errno: number): string;
  gaiStrerror(code: number): string;
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
  connectWait: Fn<[fd: number, timeoutMs: number], void>;
  accept: Fn<[fd: number, compact?: boolean], [number, unknown]>;
  shutdown: Fn<[fd: number, how: number], void>;
  getsockname: Fn<[fd: number, compact?: boolean], unknown>;
  getpeername: Fn<[fd: number, compact?: boolean], unknown>;
  send: Fn<[fd: number, data: Bytes, offset?: number, length?: number, flags?: number], number>;
  sendto: Fn<[fd: number, data: Bytes, offset: number | undefined, length: number | undefined, flags: number, family: number, address: unknown], number>;
  recv: Fn<[fd: number, n: number, flags?: number], Buffer>;
  recvInto: Fn<[fd: number, buf: Bytes, offset?: number, length?: number, flags?: number], number>;
  recvBuffer: Fn<[size: number], [Buffer, number]>;
  recvScratch: Fn<[fd: number, bufsize: number, flags: number, generation: number], number>;
  recvfrom: Fn<[fd: number, n: number, flags?: number], [Buffer, unknown]>;
  read: Fn<[fd: number, n: number], Buffer>;
  write: Fn<[fd: number, data: Bytes, offset?: number, length?: number], number>;
  setsockopt: Fn<[fd: number, level: number, option: number, value: number | Bytes], void>;
  getsockopt: Fn<[fd: number, level: number, option: number, buflen?: number], number | Buffer>;

  sendmsg: Fn<[fd: number, buffers: Bytes[], ancdata: Array<[number, number, Bytes]>, flags: number, family: number, address?: unknown], number>;
  recvmsg: Fn<[fd: number, bufsize: number, ancbufsize: number, flags: number], [Buffer, Array<[number, number, Buffer]>, number, unknown]>;
  cmsgLen: Fn<[length: number], number>;
  cmsgSpace: Fn<[length: number], number>;

  getaddrinfo: Fn<[host: string | null, port: string | number | null, family: number, type: number, proto: number, flags: number], Array<[number, number, number, string, unknown]>>;
  gethostname: Fn<[], string>;
  gethostbyname: Fn<[hostname: string], string>;
  hostByAddr: Fn<[name: string], [string, string[], string[]] | null>;
  inetPton: Fn<[family: number, ipString: string], Buffer>;
  inetNtop: Fn<[family: number, packedIp: Bytes], string>;
  ifNametoindex: Fn<[ifname: string], number>;
  ifIndextoname: Fn<[ifindex: number], string>;
  ifNameindex: Fn<[], Array<[number, string]>>;

  selectInto: Fn<[fds: Int32Array | Float64Array, masks: Int32Array, n: number, timeoutSeconds: number | null], number>;
  pollInto: Fn<[fds: Int32Array, events: Int32Array, revents: Int32Array, n: number, timeoutMs: number | null], number>;
  epollCreate?: Fn<[], number>;
  /** 0, or -errno (not thrown: see native/binding.h; lib/ throws through throwIfErrno()). */
  epollCtl?: Fn<[epfd: number, op: number, fd: number, events: number, tag?: number], number>;
  epollWait?: Fn<[epfd: number, fds: Int32Array, events: Int32Array, maxevents: number, timeoutMs: number | null, tags?: Int32Array], number>;
  epollWaitSeconds?: Fn<[epfd: number, fds: Int32Array, events: Int32Array, maxevents: number, timeoutSeconds: number | null, tags?: Int32Array], number>;

  asyncWaitCreate: Fn<[mode: 'uv' | 'thread'], AsyncWaitHandle>;
  asyncWaitActivate: Fn<[handle: AsyncWaitHandle, onTurn: (why: number) => void], void>;
  asyncWaitBlock: Fn<[handle: AsyncWaitHandle, timeoutMs: number, fd: number, fds?: Int32Array, events?: Int32Array, n?: number], void>;
  asyncWaitDeactivate: Fn<[handle: AsyncWaitHandle], void>;
  asyncWaitClose: Fn<[handle: AsyncWaitHandle], void>;
  ownFd: Fn<[fd: number], void>;
  disownFd: Fn<[fd: number], void>;

  getNofileLimit: Fn<[], { soft: number; hard: number }>;
  setNofileLimit: Fn<[soft: number, hard?: number], { soft: number; hard: number }>;

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

/**
 * `ASYNCORE_NATIVE_PATH=/path/to/asyncore.node` loads that file instead of
 * the usual prebuild/build lookup: for testing a second build side by side,
 * e.g. the sanitizer build of `scripts/asan-test.sh` (build-asan/Release).
 * A file that cannot be loaded is an error; there is no fallback.
 */
function loadOverride(file: string): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.resolve(file)) as NativeBinding;
}

function load(): NativeBinding {
  const override = process.env.ASYNCORE_NATIVE_PATH;
  if (override) return loadOverride(override);
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

// The addon's exports object is built property by property and V8 keeps it
// in dictionary mode: every `binding.send` would be a hash lookup through the
// generic load IC (~400 instructions per echo round trip). A copy made by an
// object spread has fast properties, so those loads compile to a field read.
export const binding: NativeBinding = { ...load() };
