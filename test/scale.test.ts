/**
 * Scale (issue #5): 10,000 concurrent loopback connections echoing through
 * one loop({ backend: 'epoll' }), every byte checked. The clients run in a
 * child process (both ends in one process would need 20,000+ fds); each
 * process raises RLIMIT_NOFILE to its hard limit first.
 */
import './helpers/native';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Dispatcher, DispatcherWithSend, getNofileLimit, loop, releaseBackend, setNofileLimit, socket, type SocketMap } from '../lib';
import { hasEpollBackend } from '../lib/backends';
import { openFds } from './helpers/fds';

const N = 10_000;
const PAYLOAD = 100;
const NEEDED = N + 200; // the accepted sockets, the listener, and this process's own fds

const { hard } = getNofileLimit();
const why = !hasEpollBackend ? 'no epoll on this platform' : hard < NEEDED ? `RLIMIT_NOFILE hard limit ${hard} is below the ${NEEDED} fds each side needs` : '';
if (why) console.warn(`scale test skipped: ${why}`);
const maybe = why ? test.skip : test;

describe('scale', () => {
  maybe(`${N} concurrent connections echo through one loop({ backend: 'epoll' }), every byte checked`, async () => {
    const saved = getNofileLimit();
    setNofileLimit(hard);
    const before = openFds();
    const map: SocketMap = new Map();
    let accepted = 0;
    let closed = 0;
    let live = 0;
    let maxLive = 0;
    let bytes = 0;

    class Echo extends DispatcherWithSend {
      override handleRead(): void {
        const d = this.recv(65536);
        bytes += d.length;
        if (d.length) this.send(d);
      }
      override handleClose(): void {
        this.close();
        live--;
        if (++closed === N) server.close();
      }
    }
    class Server extends Dispatcher {
      override writable(): boolean {
        return false;
      }
      // accept everything pending: one accept per pass would make 10,000 passes over 10,000 channels
      override handleAccept(): void {
        for (let i = 0; i < 512; i++) {
          const pair = this.accept();
          if (pair === null) return;
          new Echo(pair[0], map);
          accepted++;
          if (++live > maxLive) maxLive = live;
        }
      }
    }
    const server = new Server(null, map);
    server.createSocket();
    server.setReuseAddr();
    server.bind(['127.0.0.1', 0]);
    server.listen(4096);
    const port = (server.socket as socket.Socket).getsockname()[1] as number;

    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'scale-clients.js'), String(port), String(N), String(PAYLOAD)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const t0 = Date.now();
    const deadline = t0 + 55_000;
    try {
      // One map, one kernel interest set, served by loop() in short stretches so the deadline holds.
      while (map.size > 0 && Date.now() < deadline) loop({ map, backend: 'epoll', timeout: 0.2, count: 200 });
      const seconds = (Date.now() - t0) / 1000;
      const code = await exited;
      const report = JSON.parse(out.trim().split('\n').pop() || '{}');
      expect({ code, report, stderr: err }).toMatchObject({ code: 0, report: { ok: true, verified: N, maxOpen: N }, stderr: '' });
      expect(accepted).toBe(N);
      expect(closed).toBe(N);
      expect(maxLive).toBe(N);
      expect(bytes).toBe(N * PAYLOAD);
      expect(map.size).toBe(0);
      console.log(`scale: ${N} connections echoed in ${seconds.toFixed(1)} s`);
    } finally {
      child.kill();
      for (const d of [...map.values()]) d.close();
      releaseBackend(map);
      setNofileLimit(saved.soft);
    }
    expect([...openFds()].filter((fd) => !before.has(fd))).toEqual([]);
  }, 70_000);
});
