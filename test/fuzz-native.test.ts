/**
 * Fuzz the raw layer in a child process (test/fixtures/fuzz-child.js, plain
 * JavaScript over dist/): thousands of random calls to every native function
 * and every Socket / select / Poll / Epoll method, with random argument
 * types, sizes, fds and addresses. The child must exit normally, and every
 * call must have returned or thrown a TypeError, RangeError or OSError.
 *
 * The seed is printed (and is in the failure message): reproduce a failure
 * with `FUZZ_SEED=<seed> npx jest test/fuzz-native.test.ts`, or directly with
 * `node test/fixtures/fuzz-child.js <seed> [iterations] [budgetMs]`.
 * FUZZ_ITERATIONS and FUZZ_BUDGET_MS change the run's size.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compiledLib } from './helpers/dist';

const root = path.join(__dirname, '..');
const child = path.join(__dirname, 'fixtures', 'fuzz-child.js');

interface Summary {
  seed: number;
  stdioUntouched: boolean;
  iterations: number;
  elapsedMs: number;
  counts: Record<'returned' | 'TypeError' | 'RangeError' | 'OSError' | 'accessorError' | 'other', number>;
  unexpected: Array<{ i: number; op: string; error: string; message: string }>;
  slow: Array<{ i: number; op: string; ms: number }>;
  byOp: Record<string, Record<string, number>>;
}

function runChild(seed: number, iterations: number, budgetMs: number): { summary: Summary; stderr: string } {
  const lib = compiledLib();
  const r = spawnSync(process.execPath, [child, String(seed), String(iterations), String(budgetMs)], {
    cwd: root,
    encoding: 'utf8',
    timeout: budgetMs + 60_000,
    killSignal: 'SIGKILL', // a hung child must not outlive the test
    maxBuffer: 16 << 20,
    env: { ...process.env, ASYNCORE_LIB: lib },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const where = `fuzz seed ${seed} (reproduce: node test/fixtures/fuzz-child.js ${seed} ${iterations} ${budgetMs})`;
  if (r.error) throw new Error(`${where}: ${r.error.message}\n${r.stderr}`);
  if (r.signal !== null || r.status !== 0) {
    throw new Error(`${where}: child ended with status ${r.status}, signal ${r.signal}\nstderr:\n${String(r.stderr).slice(-4000)}`);
  }
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { summary: JSON.parse(line) as Summary, stderr: r.stderr };
}

const seeds = process.env.FUZZ_SEED
  ? [Number(process.env.FUZZ_SEED) >>> 0]
  : [(Date.now() ^ (process.pid << 10)) >>> 0, 0x5eed];
const iterations = Number(process.env.FUZZ_ITERATIONS ?? 20_000);
const budgetMs = Number(process.env.FUZZ_BUDGET_MS ?? 10_000);

test('the compiled library the child runs exists and is current', () => {
  expect(fs.existsSync(compiledLib())).toBe(true);
}, 120_000);

describe.each(seeds)('fuzz, seed %i', (seed) => {
  test(
    `${iterations} random calls: only returns, TypeError, RangeError or OSError; the child exits normally`,
    () => {
      const { summary: s, stderr } = runChild(seed, iterations, budgetMs);
      // eslint-disable-next-line no-console
      console.log(
        `fuzz seed ${s.seed}: ${s.iterations} calls in ${s.elapsedMs} ms — ` +
          Object.entries(s.counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
      );
      expect(stderr).toContain(`seed=${seed}`);
      expect(s.seed).toBe(seed);
      expect(s.unexpected).toEqual([]);
      // fds 0-2 were never touched (closed, made non-blocking, wrapped in a Socket).
      expect(s.stdioUntouched).toBe(true);
      expect(s.counts.other).toBe(0);
      const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
      expect(total).toBe(s.iterations);
      // The budget may stop it early on a slow machine, never at a trickle.
      expect(s.iterations).toBeGreaterThanOrEqual(Math.min(iterations, 2000));
      // Every class of outcome happened, so the run did reach the syscalls.
      for (const k of ['returned', 'TypeError', 'RangeError', 'OSError'] as const) expect(s.counts[k]).toBeGreaterThan(0);
      // Every operation was tried.
      expect(Object.keys(s.byOp).length).toBeGreaterThan(60);
      expect(s.slow).toEqual([]);
    },
    budgetMs + 90_000,
  );
});
