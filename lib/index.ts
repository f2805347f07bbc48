/**
 * asyncore-node: Python's asyncore and asynchat for Node.js, on raw
 * non-blocking POSIX sockets and select()/poll()/epoll.
 */
export * as socket from './socket';
export * as select from './select';
export { OSError, errnoName, strerror } from './errors';
export type { Address, BytesLike } from './socket';
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
