/**
 * loopAsync keeps its uv_poll_t on the epoll fd started from one turn to the
 * next (native/async_wait.cc: starting and stopping it around every turn
 * cost libuv three epoll_ctl calls per wake-up). The fd it watches must
 * never outlive its number: when the epoll set is rebuilt (invariant 3 of
 * lib/backends/epoll.ts), the old epoll fd is closed and the new one may get
 * the same number. Closing an fd through the addon makes a waiter let go of
 * it first, so the next block watches the new file. The scenario runs in a
 * child process (test/fixtures/rebuilt-epoll-wake.js) whose only wake-up is
 * the peer's byte: a waiter still watching the closed file would sleep out
 * the 5 s pass timeout instead.
 */
import './helpers/native';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { hasEpollBackend } from '../lib/backends';
import { compiledLib } from './helpers/dist';

const maybe = hasEpollBackend ? test : test.skip;

maybe('a rebuilt epoll set under loopAsync still wakes Node for readiness (the closed fd number reused)', () => {
  const fixture = path.join(__dirname, 'fixtures', 'rebuilt-epoll-wake.js');
  const r = spawnSync(process.execPath, [fixture, compiledLib()], { encoding: 'utf8', timeout: 20_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout.trim()) as { before: number; after: number; readAfterMs: number };
  expect(out.before).toBeGreaterThanOrEqual(0);
  expect(out.after).toBe(out.before); // the new set got the closed number back
  expect(out.readAfterMs).toBeGreaterThan(0);
  expect(out.readAfterMs).toBeLessThan(3000); // the peer's byte woke it, not the 5 s pass timeout
}, 30_000);
