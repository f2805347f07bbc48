/**
 * asyncore-node: Python's asyncore and asynchat for Node.js, on raw
 * non-blocking POSIX sockets and select()/poll()/epoll.
 */
export * as socket from './socket';
export * as select from './select';
export { OSError, errnoName, strerror } from './errors';
export type { Address, BytesLike } from './socket';
