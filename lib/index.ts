/**
 * asyncore-node: Python's asyncore and asynchat for Node.js, on raw
 * non-blocking POSIX sockets and select()/poll()/epoll.
 *
 * Every name is the Python one in camelCase: `asyncore.dispatcher` is
 * {@link Dispatcher}, `handle_read()` is `handleRead()`, `asynchat.async_chat`
 * is {@link AsyncChat}. The README has the full table; docs/porting-from-python.md
 * walks through porting a program.
 *
 * @example
 * import { Dispatcher, loop, socket } from 'asyncore-node';
 *
 * @packageDocumentation
 */

/**
 * The raw socket layer, shaped like Python's `socket` module: the `Socket`
 * class, `socketpair()`, `hasIpv6` and the platform's `AF_*`, `SOCK_*`,
 * `SOL_SOCKET`, `SO_*`, `IPPROTO_*`, `TCP_NODELAY`, `SHUT_*` and `MSG_*` constants;
 * the module functions `getaddrinfo()`, `gethostname()`, `getfqdn()`,
 * `gethostbyname()`, `inetPton()`/`inetNtop()`, `ifNametoindex()` & co,
 * `fromfd()`, `createConnection()`, `createServer()`, `sendFds()`/`recvFds()`.
 * Every failure throws {@link OSError} ({@link GaiError} for a failed name
 * lookup). Python: the `socket` module.
 *
 * @example
 * const [a, b] = socket.socketpair();
 * a.send('ping');
 * b.recv(4); // <Buffer 70 69 6e 67>
 */
export * as socket from './socket';
/**
 * Readiness calls, shaped like Python's `select` module: `select()` (timeout
 * in seconds), `poll()` objects (milliseconds), `epoll()` objects (Linux;
 * seconds), the `POLL*` and `EPOLL*` constants and `FD_SETSIZE`.
 * Python: the `select` module.
 *
 * @example
 * const [r, w] = select.select([sock], [sock], [], 1.5);
 */
export * as select from './select';
export { OSError, GaiError, errnoName, strerror } from './errors';
export type { Address, AddressFamily, BytesLike, IPv4Address, IPv6Address, UnixAddress } from './socket';
export {
  Dispatcher,
  DispatcherWithSend,
  ExitNow,
  socketMap,
  reraisedExceptions,
  compactTraceback,
  DISCONNECTED,
  type SocketMap,
} from './dispatcher';
export { FileWrapper, FileDispatcher } from './file';
export { loop, poll, poll2, poll3, readwrite, read, write, closeAll, type LoopOptions, type Backend } from './loop';
export { AsyncChat, SimpleProducer, findPrefixAtEnd, BufferOverflowError, NotImplementedError, type Producer, type Terminator, type FifoEntry } from './asynchat';
export { loopAsync, wakeLoop, type LoopAsyncOptions } from './loop-async';
export { releaseBackend } from './loop';
export { getNofileLimit, setNofileLimit } from './limits';
export {
  callLater,
  callEvery,
  timersFor,
  Timers,
  TimerHandle,
  FakeClock,
  monotonicClock,
  type Clock,
  type Errback,
  type TimerOptions,
  type MapTimerOptions,
  type TimersOptions,
} from './timers';
