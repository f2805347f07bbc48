/**
 * Signals (issue #7), each in a child process running the compiled library:
 *
 * - SIGINT with no handler installed ends a process blocked in loop() at once,
 *   by the signal (the wait is a plain syscall, nothing swallows it);
 * - with loopAsync, a process.on('SIGINT') handler runs while the loop waits;
 * - SIGUSR1 sent every few milliseconds (a JS handler installed, so the process
 *   lives): each interrupted wait (EINTR) is retried with the time left, so
 *   idle waits still take their full timeout, and data that arrives meanwhile
 *   is all delivered, in order, with every dispatcher still in its map.
 */
import './fixtures/faults';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as lib from '../lib';
import { backendAvailable, ensureDist, FIXTURES, type BackendName } from './fixtures/faults';

jest.setTimeout(90000);

const backends: BackendName[] = ['select', 'poll'];
if (backendAvailable('epoll')) backends.push('epoll');
const hasLoopAsync = typeof (lib as Record<string, unknown>).loopAsync === 'function';

interface Child {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first line that matches. */
  waitLine(re: RegExp, ms?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stderr(): string;
}

function startChild(mode: string, backend: BackendName): Child {
  const proc = spawn(process.execPath, [path.join(FIXTURES, 'signal-child.js'), mode, backend], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  proc.stderr!.on('data', (d) => (err += d));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 60000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, at: Date.now() });
    }),
  );
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    waitLine(re, ms = 20000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; got: ${JSON.stringify(lines)}; stderr: ${err}`)), ms);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(() => ensureDist());

describe.each(backends)('signals, %s backend', (backend) => {
  test('SIGINT with no handler ends a process blocked in loop() by the signal, promptly', async () => {
    const c = startChild('block', backend);
    await c.waitLine(/^READY$/);
    await pause(300); // well inside the 30 s wait by now
    const sentAt = Date.now();
    c.proc.kill('SIGINT');
    const { code, signal, at } = await c.exited;
    expect(signal).toBe('SIGINT');
    expect(code).toBeNull();
    expect(at - sentAt).toBeLessThan(5000);
    expect(c.lines).not.toContain('RETURNED');
  });

  (hasLoopAsync ? test : test.skip)('with loopAsync, a process.on("SIGINT") handler runs while the loop waits', async () => {
    const c = startChild('async', backend);
    await c.waitLine(/^READY$/);
    await pause(300);
    const sentAt = Date.now();
    c.proc.kill('SIGINT');
    const handled = await c.waitLine(/^HANDLED /, 10000);
    expect(Date.now() - sentAt).toBeLessThan(5000);
    expect(Number(handled.split(' ')[1])).toBeGreaterThanOrEqual(250); // it ran during the wait, not after it
    const result = JSON.parse((await c.waitLine(/^RESULT /, 10000)).slice(7));
    expect(result).toEqual({ settled: 'rejected', reason: 'stopped by SIGINT', mapSize: 1 }); // the map as it was
    const { code, signal } = await c.exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
  });

  test('signals during waits (EINTR): no wait is cut short, no event or dispatcher is lost', async () => {
    const c = startChild('eintr', backend);
    let sent = 0;
    let stop = false;
    await c.waitLine(/^PHASE A$/);
    // Signal the child every 5 ms until it exits.
    const signaller = (async () => {
      while (!stop) {
        try {
          c.proc.kill('SIGUSR1');
          sent++;
        } catch {
          break;
        }
        await pause(5);
      }
    })();
    const portLine = await c.waitLine(/^PORT /, 30000);
    const port = Number(portLine.slice(5));
    // Phase B: 20 chunks of 1000 bytes, 50 ms apart, then FIN.
    const total = 20 * 1000;
    const data = Buffer.alloc(total);
    for (let i = 0; i < total; i++) data[i] = (i * 7 + (i >>> 8)) & 0xff;
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', async () => {
        for (let k = 0; k < 20; k++) {
          s.write(data.subarray(k * 1000, (k + 1) * 1000));
          await pause(50);
        }
        s.end(resolve);
      });
      s.on('error', reject);
    });
    const result = JSON.parse((await c.waitLine(/^RESULT /, 30000)).slice(7));
    stop = true;
    await signaller;
    // Only now may the child exit: a SIGUSR1 that met it while Node was tearing down
    // (signal handlers gone) would kill it, a race of the test and not of the library.
    c.proc.stdin!.end();
    const { code, signal } = await c.exited;
    expect(c.stderr()).toBe('');
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(sent).toBeGreaterThan(50);
    expect(result.errors).toEqual([]);
    // Phase A: four 0.5 s waits, interrupted every few ms, still took (at least) their 2 s.
    expect(result.idleWaitMs).toBeGreaterThanOrEqual(1950);
    expect(result.idleWaitMs).toBeLessThan(12000);
    expect(result.idleMapIntact).toBe(true);
    if (backend === 'select') expect(result.idleSleepMs).toBeGreaterThanOrEqual(975);
    expect(result.usr1AfterA).toBeGreaterThanOrEqual(1); // the signals really arrived (coalesced by the time JS runs)
    // Phase B: every byte, in order; the listener and the connection survived the signals.
    expect(result.accepted).toBe(1);
    expect(result.received).toBe(total);
    expect(result.firstBadByte).toBe(-1);
    expect(result.eof).toBe(true);
    expect(result.listenerIntact).toBe(true);
  });
});
