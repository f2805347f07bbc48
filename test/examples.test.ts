/**
 * The article's examples, run as a user runs them: compiled, as separate
 * processes (`node dist/examples/<name>.js`), with their output checked.
 * The examples are compiled first when dist/examples is missing or stale.
 */
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import './helpers/native';
import { socket } from '../lib';

interface Runner {
  ensureCompiled(options?: { quiet?: boolean; allowTypeErrors?: boolean }): void;
  compiledPath(name: string): string;
  portIn(line: string): number | null;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runner = require('../scripts/run-examples.js') as Runner;

const ROOT = path.resolve(__dirname, '..');
const LOREM = fs.readFileSync(path.join(ROOT, 'examples', 'lorem.txt'));
/** Each example finishes in well under a second; this bounds a hung one. */
const RUN_TIMEOUT_MS = 20000;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

function runExample(name: string, args: string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [runner.compiledPath(name), ...args],
      { cwd: ROOT, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        resolve({
          code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
          signal: e?.signal ?? null,
          stdout,
          stderr,
          lines: stdout.split('\n').filter((l) => l !== ''),
        });
      },
    );
  });
}

/** The chunks of `Name: handleRead() -> (N) "<json>"` lines of one logger, printed with --full. */
function chunksOf(lines: string[], logger: string): Buffer[] {
  const re = new RegExp(`^${logger}: handleRead\\(\\) -> \\((\\d+)\\) (".*")$`);
  const chunks: Buffer[] = [];
  for (const line of lines) {
    const m = re.exec(line);
    if (!m) continue;
    const chunk = Buffer.from(JSON.parse(m[2]) as string, 'latin1');
    expect(chunk.length).toBe(Number(m[1]));
    chunks.push(chunk);
  }
  return chunks;
}

function expectCleanExit(run: Run): void {
  if (run.code !== 0) throw new Error(`exit ${run.code} ${run.signal ?? ''}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  expect(run.stderr).toBe('');
}

/** Whether the compiled library offers loop({ backend: 'epoll' }) here (set once compiled). */
let epollAvailable = false;

beforeAll(() => {
  runner.ensureCompiled({ quiet: true, allowTypeErrors: true });
  const probe = spawnSync(process.execPath, ['-e', "require('./dist/lib/index.js').loop({ backend: 'epoll', map: new Map() })"], { cwd: ROOT, timeout: RUN_TIMEOUT_MS });
  epollAvailable = probe.status === 0;
}, 180000);

describe('examples', () => {
  test('echo: the client gets back exactly lorem.txt, then everything closes', async () => {
    const run = await runExample('echo', ['--full']);
    expectCleanExit(run);
    const { lines } = run;
    expect(lines[0]).toBe("EchoServer: binding to ['127.0.0.1', 0]");
    expect(lines).toContain('EchoServer: handleClose()');
    expect(lines).toContain('EchoHandler: handleClose()');
    expect(lines).not.toContain('EchoClient: ERROR IN TRANSMISSION');

    const echoed = Buffer.concat(chunksOf(lines, 'EchoClient'));
    expect(echoed.equals(LOREM)).toBe(true);
    const handlerReads = chunksOf(lines, 'EchoHandler');
    expect(Buffer.concat(handlerReads).equals(LOREM)).toBe(true);
    for (const c of handlerReads) expect(c.length).toBeLessThanOrEqual(256);

    // The client closes once the whole copy is back; the last lines are its verdict and the loop's end.
    const verdict = lines.indexOf('EchoClient: RECEIVED COPY OF MESSAGE');
    expect(verdict).toBeGreaterThan(0);
    expect(lines[verdict - 1]).toBe('EchoClient: handleClose()');
    expect(lines.slice(verdict + 1).some((l) => l.startsWith('EchoClient: handleRead()'))).toBe(false);
    expect(lines[lines.length - 1]).toBe('root: LOOP DONE');
  });

  test('file_dispatcher: 256-byte reads that add up to the file, then handleClose', async () => {
    const run = await runExample('file_dispatcher', ['--full']);
    expectCleanExit(run);
    const reads = chunksOf(run.lines, 'FileReader');
    expect(reads.length).toBe(Math.ceil(LOREM.length / 256) + 1); // the last read is the empty one at EOF
    expect(reads[reads.length - 1].length).toBe(0);
    for (const c of reads) expect(c.length).toBeLessThanOrEqual(256);
    expect(Buffer.concat(reads).equals(LOREM)).toBe(true);
    expect(run.lines).toContain(`FileReader: handleClose() after ${LOREM.length} bytes`);
  });

  test('file_dispatcher: without --full each read is shown by its length and first characters', async () => {
    const run = await runExample('file_dispatcher');
    expectCleanExit(run);
    const sizes = run.lines.map((l) => /^FileReader: handleRead\(\) -> \((\d+)\) "/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(LOREM.length);
    expect(run.lines).toContain('FileReader: handleRead() -> (256) "Lorem ipsum dolor sit amet, consectetur …"');
  });

  test('http_client: downloads both pages of the local server with the right sizes', async () => {
    const run = await runExample('http_client');
    expectCleanExit(run);
    const results = run.lines
      .map((l) => /^(http:\/\/127\.0\.0\.1:(\d+)(\/\S*)) got (\d+) bytes \(status (\d+), Content-Length (\d+), body (\d+) bytes\)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ path: m[3], port: Number(m[2]), total: Number(m[4]), status: Number(m[5]), contentLength: Number(m[6]), body: Number(m[7]) }));
    expect(results.map((r) => r.path)).toEqual(['/', '/lorem.txt']);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect(r.body).toBe(r.contentLength);
      expect(r.total).toBeGreaterThan(r.body); // headers came too
      expect(r.port).toBe(runner.portIn(run.lines[0]));
    }
    expect(results[1].body).toBe(LOREM.length);
    expect(run.lines).toContain('HttpServer: handleClose()');
    expect(run.lines.indexOf('root: LOOP DONE')).toBeGreaterThan(run.lines.indexOf('root: LOOP STARTING'));
  });

  test('http_client: a server that never answers the connect is given up on after --connect-timeout', async () => {
    // A listener with backlog 0 that never accepts: once a few connections fill its queue, the
    // kernel drops further SYNs and a connect hangs (loopback). Built with the library's raw sockets.
    const listener = new socket.Socket(socket.AF_INET, socket.SOCK_STREAM);
    const fillers: socket.Socket[] = [];
    try {
      listener.bind(['127.0.0.1', 0]);
      listener.listen(0);
      const port = (listener.getsockname() as [string, number])[1];
      for (let i = 0; i < 3; i++) {
        const f = new socket.Socket();
        f.setblocking(false);
        f.connectEx(['127.0.0.1', port]);
        fillers.push(f);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = `http://127.0.0.1:${port}/`;
      const t0 = Date.now();
      const run = await runExample('http_client', ['--connect-timeout=0.5', url]);
      const took = Date.now() - t0;
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('');
      expect(run.lines).toContain(`${url} got 0 bytes (connect timed out after 0.5 s)`);
      expect(run.lines).toContain(`${url}: no connection after 0.5 s: giving up`);
      expect(run.lines).not.toContain(`${url}: handleConnect()`);
      expect(took).toBeGreaterThanOrEqual(500);
      expect(took).toBeLessThan(RUN_TIMEOUT_MS);
    } finally {
      for (const f of fillers) f.close();
      listener.close();
    }
  });

  test('http_client: a connect timer does not outlive its client (the run ends with the downloads)', async () => {
    const t0 = Date.now();
    const run = await runExample('http_client', ['--connect-timeout=30']);
    expectCleanExit(run);
    expect(Date.now() - t0).toBeLessThan(15000); // a pending 30 s timer would keep loop() running
    expect(run.lines.filter((l) => /^http:\/\/\S+ got \d+ bytes \(status 200, /.test(l))).toHaveLength(2);
  });

  test('loop_count: one pass per loop() call, numbered, until the map is empty', async () => {
    const run = await runExample('loop_count');
    expectCleanExit(run);
    const passes = run.lines.map((l) => /^root: loopCounter=(\d+)$/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(passes).toEqual(passes.map((_, i) => i + 1));
    expect(run.lines).toContain(`root: map empty after ${passes.length} passes`);
    // Work happens between the counter lines: at least one handler ran after the first pass began.
    const first = run.lines.indexOf('root: loopCounter=1');
    const second = run.lines.indexOf('root: loopCounter=2');
    expect(second - first).toBeGreaterThan(1);
    const got = run.lines.map((l) => /^http:\/\/\S+(\/\S*) got (\d+) bytes$/.exec(l)).filter((m) => m !== null);
    expect(got.map((m) => m![1])).toEqual(['/lorem.txt', '/']);
    expect(Number(got[0]![2])).toBeGreaterThan(LOREM.length); // the body and the headers
  });
});

describe('examples under each loop backend (--backend=…)', () => {
  test.each(['select', 'poll', 'epoll'])('%s: echo, http_client and loop_count complete', async (backend) => {
    if (backend === 'epoll' && !epollAvailable) return; // no epoll pass in this build (non-Linux)
    const echo = await runExample('echo', ['--full', `--backend=${backend}`]);
    expectCleanExit(echo);
    expect(echo.lines).toContain('EchoClient: RECEIVED COPY OF MESSAGE');
    expect(Buffer.concat(chunksOf(echo.lines, 'EchoClient')).equals(LOREM)).toBe(true);
    const web = await runExample('http_client', [`--backend=${backend}`]);
    expectCleanExit(web);
    expect(web.lines.filter((l) => /^http:\/\/\S+ got \d+ bytes \(status 200, /.test(l))).toHaveLength(2);
    const count = await runExample('loop_count', [`--backend=${backend}`]);
    expectCleanExit(count);
  });

  test.each(['select', 'poll'])('%s: file_dispatcher reads the whole file', async (backend) => {
    const run = await runExample('file_dispatcher', ['--full', `--backend=${backend}`]);
    expectCleanExit(run);
    expect(Buffer.concat(chunksOf(run.lines, 'FileReader')).equals(LOREM)).toBe(true);
  });
});

describe('scripts/run-examples.js', () => {
  test('portIn finds the port in the lines servers print', () => {
    expect(runner.portIn("HttpServer: listening on ['127.0.0.1', 8080]")).toBe(8080);
    expect(runner.portIn('Serving HTTP on 0.0.0.0 port 8000 (http://0.0.0.0:8000/) ...')).toBe(8000);
    expect(runner.portIn('listening on http://localhost:3000/')).toBe(3000);
    expect(runner.portIn('hello 12345')).toBeNull();
  });

  test('runs a chosen example and reports success', async () => {
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, [path.join(ROOT, 'scripts', 'run-examples.js'), 'file_dispatcher', '--timeout=20'], { cwd: ROOT, timeout: RUN_TIMEOUT_MS }, (err, stdout) =>
        resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout }),
      );
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/ok {3}file_dispatcher/);
    expect(out.stdout).toContain('all 1 examples passed');
  });
});
