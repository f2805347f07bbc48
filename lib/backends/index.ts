/**
 * The backends, by name: a static table, so that what a pass does never
 * depends on which modules happen to be loaded. The passes (lib/loop.ts) and
 * loopAsync (lib/loop-async.ts) look a backend up here and use it only
 * through the contract in `./backend.ts`.
 */
import type { Backend, PollerFactory } from './backend';
import { createSelectPoller } from './select';
import { createPollPoller } from './poll';
import { createEpollPoller, hasEpollBackend } from './epoll';

export type { Backend, Poller, PollerFactory, PollerOptions } from './backend';
export { hasEpollBackend } from './epoll';

/** Every backend this platform has (epoll on Linux only). */
export const BACKENDS: Readonly<Partial<Record<Backend, PollerFactory>>> = {
  select: createSelectPoller,
  poll: createPollPoller,
  ...(hasEpollBackend ? { epoll: createEpollPoller } : {}),
};

/** The backend `loopAsync()` uses unless told otherwise: the best the platform has. */
export const BEST_BACKEND: Backend = hasEpollBackend ? 'epoll' : 'poll';

/** The factory for `name`, or an error naming the backends there are. */
export function pollerFactory(name: Backend): PollerFactory {
  const factory = Object.prototype.hasOwnProperty.call(BACKENDS, name) ? BACKENDS[name] : undefined;
  if (factory !== undefined) return factory;
  const available = Object.keys(BACKENDS)
    .map((b) => `'${b}'`)
    .join(', ');
  if (name === 'epoll') return fail(new Error(`the epoll backend is not supported on this platform (${process.platform}); available backends: ${available}`));
  return fail(new RangeError(`unknown backend ${JSON.stringify(name)}; available backends: ${available}`));
}

function fail(err: Error): never {
  throw err;
}
