/**
 * Driving the loop one pass at a time (the PyMOTW article's asyncore_loop.py):
 * instead of handing the thread to `loop()` until the map is empty, the
 * program runs `loop({ timeout: 1, count: 1 })` — one pass that waits at most
 * a second — and does its own work in between, as a GUI's idle handler or a
 * game's frame would. Here that work is printing the pass number.
 *
 * The channels are the HTTP example's: two HttpClients downloading from a
 * local HttpServer in the same map (or from the URLs given, http:// only).
 *
 *   node dist/examples/loop_count.js [URL …] [--backend=select|poll|epoll]
 */
import { loop, socketMap } from '../lib/index';
import { HttpClient, HttpServer, localPages } from './http_client';
import { backendOption, getLogger, positionalArgs } from './support/logger';

function main(): void {
  const root = getLogger();
  const urls = positionalArgs();
  if (urls.length === 0) {
    const server = new HttpServer(['127.0.0.1', 0], localPages(), 2);
    const [host, port] = server.address;
    urls.push(`http://${host}:${port}/lorem.txt`, `http://${host}:${port}/`);
  }
  const clients = urls.map((url) => new HttpClient(url));

  let loopCounter = 0;
  while (socketMap.size > 0) {
    loopCounter += 1;
    root.debug(`loopCounter=${loopCounter}`);
    loop({ timeout: 1, count: 1, ...backendOption() });
  }
  root.debug(`map empty after ${loopCounter} passes`);

  for (const c of clients) {
    console.log(`${c.url} got ${c.received} bytes`);
    if (c.summary === null || c.summary.status === 0) process.exitCode = 1;
  }
}

if (require.main === module) main();
