/**
 * asyncore's `file_wrapper` and `file_dispatcher`: drive a pipe, a tty or a
 * regular file with the same loop as sockets (POSIX). "item N" is the
 * numbered list in [docs/asyncore-behaviour.md](../docs/asyncore-behaviour.md).
 */
import { constants as osConstants } from 'node:os';
import { binding } from './native';
import { OSError } from './errors';
import { SO_ERROR, SOL_SOCKET, toBytes, type BytesLike } from './socket';
import { Dispatcher, type SocketMap } from './dispatcher';

const { EBADF } = osConstants.errno;

// An unclosed wrapper that is garbage-collected closes its fd and warns, as Python's __del__ does (item 65).
const unclosed = new FinalizationRegistry<number>((fd) => {
  process.emitWarning(`unclosed file wrapper fd=${fd}`, 'ResourceWarning');
  try {
    binding.close(fd);
  } catch {
    /* already gone */
  }
});

/**
 * Makes a file descriptor look like a socket for the loop. It keeps a
 * `dup()` of the fd, so the caller may close the original. An unclosed
 * wrapper that is garbage-collected closes its fd and emits a ResourceWarning.
 * asyncore: `file_wrapper`.
 *
 * @example
 * const w = new FileWrapper(fs.openSync('data.txt', 'r')); w.read(256); w.close();
 */
export class FileWrapper {
  /** The duplicated fd, or -1 once closed. asyncore: `file_wrapper.fd`. */
  fd: number;

  /**
   * asyncore: `file_wrapper(fd)`.
   *
   * @param fd a file descriptor; the wrapper owns a `dup()` of it
   */
  constructor(fd: number) {
    this.fd = binding.dup(fd);
    unclosed.register(this, this.fd, this);
  }

  private live(op: string): number {
    if (this.fd < 0) throw new OSError(EBADF, op);
    return this.fd;
  }

  /** `os.read(fd, n)`: an empty Buffer at EOF; a non-blocking pipe with no data throws EAGAIN. asyncore: `file_wrapper.recv(*args)`. */
  recv(bufferSize: number, flags?: number): Buffer {
    return binding.read(this.live('read'), bufferSize);
  }

  /** `os.write(fd, data)`: the number of bytes written. asyncore: `file_wrapper.send(*args)`. */
  send(data: BytesLike, flags?: number): number {
    return binding.write(this.live('write'), toBytes(data));
  }

  /** Same as `recv()`. asyncore: `file_wrapper.read`. */
  read(bufferSize: number): Buffer {
    return this.recv(bufferSize);
  }

  /** Same as `send()`. asyncore: `file_wrapper.write`. */
  write(data: BytesLike): number {
    return this.send(data);
  }

  /** Only `getsockopt(SOL_SOCKET, SO_ERROR)` is meaningful for a file: it is always 0 (item 63). asyncore: `file_wrapper.getsockopt(level, optname, buflen=None)`. */
  getsockopt(level: number, optname: number, buflen?: number): number {
    if (level === SOL_SOCKET && optname === SO_ERROR && buflen === undefined) return 0;
    throw new Error('Only asyncore specific behaviour implemented.');
  }

  /** Close the dup. The fd is marked closed first, so a failing close still leaves the wrapper closed (item 64). asyncore: `file_wrapper.close()`. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    unclosed.unregister(this);
    binding.close(fd);
  }

  /** The duplicated fd, or -1 once closed. asyncore: `file_wrapper.fileno()`. */
  fileno(): number {
    return this.fd;
  }
}

/**
 * A dispatcher over a file descriptor: pass an fd, `{ fd }` (e.g. from
 * `fs.promises.open`) or anything with `fileno()`. The fd is made
 * non-blocking; it shares that flag with every other holder.
 * asyncore: `file_dispatcher`.
 *
 * @example
 * class Reader extends FileDispatcher {
 *   override writable() { return false; }
 *   override handleRead() { process.stdout.write(this.recv(256)); }
 * }
 * new Reader(fs.openSync('examples/lorem.txt', 'r'));
 */
export class FileDispatcher extends Dispatcher<FileWrapper> {
  /**
   * asyncore: `file_dispatcher(fd, map=None)`.
   *
   * @param fd an fd, `{ fd }` or an object with `fileno()`; a `dup()` of it is wrapped
   * @param map the map to register in (default {@link socketMap})
   */
  constructor(fd: number | { fd: number } | { fileno(): number }, map: SocketMap | null = null) {
    super(null, map);
    this.connected = true;
    let n: number;
    if (typeof fd === 'number') n = fd;
    else if (fd !== null && typeof (fd as { fileno?: unknown }).fileno === 'function') n = (fd as { fileno(): number }).fileno();
    else if (fd !== null && typeof (fd as { fd?: unknown }).fd === 'number') n = (fd as { fd: number }).fd;
    else throw new TypeError('FileDispatcher needs an fd, { fd } or an object with fileno()');
    this.setFile(n);
    binding.setBlocking(n, false);
  }

  /** Wrap `fd` and register the wrapper in the map. asyncore: `file_dispatcher.set_file(fd)`. */
  setFile(fd: number): void {
    this.socket = new FileWrapper(fd);
    this._fileno = this.socket.fileno();
    this.addChannel();
  }
}
