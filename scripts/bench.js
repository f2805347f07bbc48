#!/usr/bin/env node
'use strict';
/*
 * npm run bench [-- options]: echo-server benchmark of this library against
 * node:net (libuv), a C epoll server and CPython's asyncore.
 *
 * Each server runs alone in its own child process (pinned to core 0 with
 * taskset when there are two cores or more; the load generator goes on core
 * 1).  The load generator (scripts/bench/loadgen.c) checks every echoed byte.
 * Every figure is the median of --reps runs, each after its own warm-up; the
 * rounds are interleaved (rep 1 of every server, then rep 2, …) so that a
 * noisy neighbour spreads over all servers instead of hitting one.
 *
 * See scripts/bench/README.md, or run with --help.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const net = require('node:net');
const { spawn, spawnSync } = require('node:child_process');
const { PEERS, locatePeer } = require('./bench/peers');
const report = require('./bench/report');
const { NOISE_CORES, fmt } = report;

const ROOT = path.resolve(__dirname, '..');
const BENCH_DIR = path.join(__dirname, 'bench');
const SERVERS_DIR = path.join(BENCH_DIR, 'servers');
const BIN_DIR = path.join(ROOT, 'bench', 'bin');
const CMAKE_BIN_DIR = path.join(ROOT, 'build', 'bench');
const LIB_ENTRY = path.join(ROOT, 'dist', 'lib', 'index.js');
const HTTP_EXAMPLE_CANDIDATES = ['dist/examples/http_server.js', 'examples/http_server.js', 'examples/http_server.ts'];

// ---------------------------------------------------------------- options

const HELP = `usage: npm run bench -- [options]

  --servers a,b,c     servers to run (default: all available; see --list)
  --workloads x,y     workloads to run (default: all; see --list)
  --duration S        measured seconds per run (default 2; --quick 0.6)
  --warmup S          warm-up seconds before each run (default 0.5; --quick 0.25)
  --reps N            runs per figure, the figure is their median (default 3; --quick 1)
  --quick             short runs, about a minute in all
  --out DIR           where to write the JSON, Markdown and SVG (default bench/results)
  --no-pin            do not pin server and load generator to cores with taskset
  --no-build          do not compile the TypeScript when dist/ is missing or stale
  --http-backend B    the loop backend examples/http_server runs with (default epoll)
  --peers a,b         the non-libuv peers to run, fetched with npm into the cache when
                      missing: bun, deno (default: those already in the cache or on PATH;
                      none: neither)
  --peer-cache DIR    where fetched peers are kept (default bench/peers, or
                      $ASYNCORE_BENCH_CACHE)
  --wait-quiet S      before each run, wait up to S seconds for the machine to be idle
                      (other load under 0.2 of a core over half a second); default 0
  --list              list servers and workloads and exit
  --help              this text
`;

function parseArgs(argv) {
  const o = {
    servers: null,
    workloads: null,
    duration: null,
    warmup: null,
    reps: null,
    quick: false,
    out: path.join(ROOT, 'bench', 'results'),
    pin: true,
    build: true,
    list: false,
    httpBackend: 'epoll',
    waitQuiet: 0,
    peers: null, // null: those found without fetching; else the ids to run (and fetch)
    peerCache: process.env.ASYNCORE_BENCH_CACHE ? path.resolve(process.env.ASYNCORE_BENCH_CACHE) : path.join(ROOT, 'bench', 'peers'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) fail(`${name} needs a value`);
      return argv[++i];
    };
    const num = (v, min) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) fail(`${name}: bad value ${v}`);
      return n;
    };
    switch (name) {
      case '--servers': o.servers = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--workloads': o.workloads = value().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--duration': o.duration = num(value(), 0.05); break;
      case '--warmup': o.warmup = num(value(), 0); break;
      case '--reps': o.reps = Math.floor(num(value(), 1)); break;
      case '--quick': o.quick = true; break;
      case '--out': o.out = path.resolve(value()); break;
      case '--no-pin': o.pin = false; break;
      case '--no-build': o.build = false; break;
      case '--http-backend': o.httpBackend = value(); break;
      case '--peers': {
        const v = value().split(',').map((x) => x.trim()).filter(Boolean);
        o.peers = v.length === 1 && v[0] === 'none' ? [] : v;
        for (const id of o.peers) if (!PEERS[id]) fail(`--peers: unknown peer ${id} (${Object.keys(PEERS).join(', ')})`);
        break;
      }
      case '--peer-cache': o.peerCache = path.resolve(value()); break;
      case '--wait-quiet': o.waitQuiet = num(value(), 0); break;
      case '--list': o.list = true; break;
      case '-h': case '--help': process.stdout.write(HELP); process.exit(0); break;
      default: fail(`unknown option ${a}\n\n${HELP}`);
    }
  }
  if (o.duration === null) o.duration = o.quick ? 0.6 : 2;
  if (o.warmup === null) o.warmup = o.quick ? 0.25 : 0.5;
  if (o.reps === null) o.reps = o.quick ? 1 : 3;
  return o;
}

function fail(msg) {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(2);
}

// ------------------------------------------------- servers and workloads

const node = process.execPath;
const LOOP_NEEDS = ['Dispatcher', 'DispatcherWithSend', 'loop', 'socket'];
const SERVERS = [
  { id: 'asyncore-select', label: 'asyncore loop() select', lib: true, needs: LOOP_NEEDS, maxFds: 1024,
    cmd: () => [node, [path.join(SERVERS_DIR, 'asyncore-server.js'), '--backend', 'select']] },
  { id: 'asyncore-poll', label: 'asyncore loop() poll', lib: true, needs: LOOP_NEEDS,
    cmd: () => [node, [path.join(SERVERS_DIR, 'asyncore-server.js'), '--backend', 'poll']] },
  { id: 'asyncore-epoll', label: 'asyncore loop() epoll', lib: true, needs: LOOP_NEEDS,
    cmd: () => [node, [path.join(SERVERS_DIR, 'asyncore-server.js'), '--backend', 'epoll']] },
  { id: 'asyncore-async', label: 'asyncore loopAsync() epoll', lib: true, needs: [...LOOP_NEEDS, 'loopAsync'],
    cmd: () => [node, [path.join(SERVERS_DIR, 'asyncore-server.js'), '--backend', 'epoll', '--async']] },
  { id: 'net', label: 'node:net (libuv)',
    cmd: () => [node, [path.join(SERVERS_DIR, 'net-server.js')]] },
  { id: 'c-epoll', label: 'C epoll',
    cmd: (tools) => [tools.epoll_echo, []] },
  { id: 'python', label: 'CPython asyncore (poll)', python: true,
    cmd: () => ['python3', [path.join(SERVERS_DIR, 'asyncore_server.py'), '--use-poll']] },
  { id: 'python-select', label: 'CPython asyncore (select)', python: true, maxFds: 1024, optIn: true,
    cmd: () => ['python3', [path.join(SERVERS_DIR, 'asyncore_server.py')]] },
  // non-libuv peers (scripts/bench/peers.js): run when found, fetched when asked (--peers)
  { id: 'bun', label: 'Bun (Bun.listen)', peer: 'bun',
    cmd: (_tools, ctx) => [ctx.peers.bun.path, [path.join(SERVERS_DIR, 'bun-server.js')]] },
  { id: 'deno', label: 'Deno (Deno.listen)', peer: 'deno',
    env: (ctx) => ({ DENO_DIR: path.join(ctx.opts.peerCache, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }),
    cmd: (_tools, ctx) => [ctx.peers.deno.path, ['run', '--allow-net', '--no-prompt', '--no-config', '--no-lock',
      path.join(SERVERS_DIR, 'deno-server.js')]] },
];
const HTTP_SERVERS = [
  { id: 'http-asyncore', label: 'examples/http_server', http: true, example: true },
  { id: 'http-node', label: 'node:http', http: true,
    cmd: (_tools, ctx) => [node, [path.join(SERVERS_DIR, 'http-server.js'), '--root', ctx.httpRoot]] },
];
const WORKLOADS = [
  { id: 'pp1', label: 'ping-pong 64 B × 1 conn', chart: ['ping-pong 64 B', '× 1 conn'], mode: 'pingpong', conns: 1, size: 64, metric: 'ops_per_s', unit: 'rt/s', cpuUnit: 'µs/rt' },
  { id: 'pp100', label: 'ping-pong 64 B × 100 conns', chart: ['ping-pong 64 B', '× 100 conns'], mode: 'pingpong', conns: 100, size: 64, metric: 'ops_per_s', unit: 'rt/s', cpuUnit: 'µs/rt' },
  { id: 'pp1000', label: 'ping-pong 64 B × 1000 conns', chart: ['ping-pong 64 B', '× 1000 conns'], mode: 'pingpong', conns: 1000, size: 64, metric: 'ops_per_s', unit: 'rt/s', cpuUnit: 'µs/rt' },
  { id: 'stream', label: 'stream 64 KiB writes × 1 conn', chart: ['stream 64 KiB', '× 1 conn'], mode: 'stream', conns: 1, size: 65536, metric: 'mb_per_s', unit: 'MB/s', cpuUnit: 'µs/MB' },
  { id: 'churn', label: 'churn 64 B, 32 in flight', chart: ['churn 64 B', '32 in flight'], mode: 'churn', conns: 32, size: 64, metric: 'ops_per_s', unit: 'conn/s', cpuUnit: 'µs/conn' },
  { id: 'http', label: 'HTTP small file, keep-alive (wrk, 32 conns)', chart: ['HTTP 1 KiB file', 'keep-alive (wrk)'], http: true, conns: 32, metric: 'ops_per_s', unit: 'req/s', cpuUnit: 'µs/req' },
];
const HTTP_FILE = 'bench.html';

// -------------------------------------------------- children and cleanup

const children = new Set();
let interrupted = false;
let tmpDirs = [];

function killAll(sig) {
  for (const c of children) {
    try {
      c.kill(sig);
    } catch {
      /* gone */
    }
  }
}

process.on('exit', () => {
  killAll('SIGKILL');
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) process.exit(130); // second signal: leave at once
    interrupted = true;
    process.stderr.write(`\nbench: ${sig}, stopping (the results so far will be reported; again to quit at once)\n`);
    killAll('SIGKILL');
  });
}
process.on('uncaughtException', (err) => {
  killAll('SIGKILL');
  process.stderr.write(`bench: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

/** Spawn a tracked child; it is SIGKILLed once deadlineMs has passed. */
function spawnTracked(cmd, args, opts, deadlineMs) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    stdout += d;
    if (stdout.length > 1 << 20) stdout = stdout.slice(-(1 << 19));
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    if (stderr.length > 1 << 16) stderr = stderr.slice(-(1 << 15));
  });
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }, deadlineMs);
  const done = new Promise((resolve) => {
    const finish = (code, signal, error) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, error, timedOut, stdout, stderr });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('exit', (code, signal) => {
      // let the pipes drain
      let left = 2;
      const end = () => --left === 0 && finish(code, signal);
      if (child.stdout.readableEnded) end(); else child.stdout.once('end', end);
      if (child.stderr.readableEnded) end(); else child.stderr.once('end', end);
      setTimeout(() => finish(code, signal), 500).unref();
    });
  });
  return {
    child,
    done,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
  };
}

function runChild(cmd, args, deadlineMs, opts = {}) {
  return spawnTracked(cmd, args, opts, deadlineMs).done;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms) {
  let t;
  return Promise.race([promise, new Promise((r) => { t = setTimeout(() => r(undefined), ms); })]).finally(() => clearTimeout(t));
}

// -------------------------------------------------------------- tooling

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** The C tools: a fresh build under bench/bin or build/bench, else `cc -O2` into bench/bin. */
function ensureTools() {
  const tools = {};
  for (const name of ['loadgen', 'epoll_echo']) {
    const src = path.join(BENCH_DIR, `${name}.c`);
    const srcTime = mtime(src);
    const found = [path.join(BIN_DIR, name), path.join(CMAKE_BIN_DIR, name)].find((p) => mtime(p) >= srcTime);
    if (found) {
      tools[name] = found;
      continue;
    }
    const out = path.join(BIN_DIR, name);
    fs.mkdirSync(BIN_DIR, { recursive: true });
    const cc = process.env.CC || 'cc';
    progressNote(`compiling ${path.relative(ROOT, src)} with ${cc} -O2`);
    const r = spawnSync(cc, ['-O2', '-std=gnu11', '-Wall', '-o', `${out}.tmp`, src], { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) {
      fail(`could not compile ${src} (${cc}): ${r.error ? r.error.message : r.stderr}`);
    }
    fs.renameSync(`${out}.tmp`, out);
    tools[name] = out;
  }
  return tools;
}

/** Compile the TypeScript (library and examples) when dist/ is missing or older than a source. */
function ensureCompiled(opts) {
  let newest = -1;
  const walk = (d) => {
    let entries;
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, mtime(p));
    }
  };
  walk(path.join(ROOT, 'lib'));
  walk(path.join(ROOT, 'examples'));
  if (!opts.build || newest <= mtime(LIB_ENTRY)) return [];
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) return ['dist/ is missing or stale and typescript is not installed (npm ci)'];
  const notes = [];
  progressNote('compiling the TypeScript (dist/ is missing or older than lib/ or examples/)');
  for (const cfg of ['tsconfig.json', 'examples/tsconfig.json']) {
    if (!fs.existsSync(path.join(ROOT, cfg))) continue;
    const r = spawnSync(node, [tsc, '-p', path.join(ROOT, cfg)], { cwd: ROOT, encoding: 'utf8', timeout: 180000 });
    if (r.status !== 0) notes.push(`tsc -p ${cfg} reported errors (${((r.stdout || '') + (r.error ? r.error.message : '')).split('\n')[0].trim()}); using dist/ as it is`);
  }
  return notes;
}

/** Whether the compiled library loads, and what it exports. */
function checkLibrary() {
  const notes = [];
  if (!fs.existsSync(LIB_ENTRY)) return { ok: false, why: 'dist/lib/index.js is missing (run `npm run build`)', notes };
  const r = spawnSync(node, ['-e', `process.stdout.write(JSON.stringify(Object.keys(require(${JSON.stringify(LIB_ENTRY)}))))`],
    { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) {
    const why = (r.stderr || (r.error && r.error.message) || '').split('\n').find((l) => /Error/.test(l)) || 'require() failed';
    return { ok: false, why: `the library does not load: ${why.trim()}`, notes };
  }
  let exports = [];
  try { exports = JSON.parse(r.stdout); } catch { /* none */ }
  return { ok: true, exports: new Set(exports), notes };
}

/** Why a library server cannot run with this build of the library, or null. */
function libMissing(lib, spec) {
  if (!lib.ok) return lib.why;
  const missing = spec.needs.filter((k) => !lib.exports.has(k));
  return missing.length ? `dist/lib/index.js does not export ${missing.join(', ')} yet` : null;
}

function findHttpExample() {
  const found = HTTP_EXAMPLE_CANDIDATES.map((p) => path.join(ROOT, p)).filter((p) => fs.existsSync(p));
  const js = found.find((p) => p.endsWith('.js'));
  if (js) return { ok: true, file: js };
  if (found.length) return { ok: false, why: `${path.relative(ROOT, found[0])} exists but no compiled .js of it was found` };
  return { ok: false, why: 'examples/http_server does not exist' };
}

// ------------------------------------------------------------- progress

const tty = process.stderr.isTTY;
let progressWidth = 0;
function progress(text) {
  if (tty) {
    const line = text.length > (process.stderr.columns || 120) - 1 ? text.slice(0, (process.stderr.columns || 120) - 2) + '…' : text;
    process.stderr.write(`\r\x1b[K${line}`);
    progressWidth = line.length;
  } else {
    process.stderr.write(`${text}\n`);
  }
}
function progressNote(text) {
  if (tty && progressWidth) process.stderr.write('\r\x1b[K');
  progressWidth = 0;
  process.stderr.write(`bench: ${text}\n`);
}
function progressDone() {
  if (tty && progressWidth) process.stderr.write('\r\x1b[K');
  progressWidth = 0;
}

// --------------------------------------------------------- server control

function pinned(cmd, args, core, ctx) {
  if (!ctx.pin) return [cmd, args];
  return [ctx.taskset, ['-c', String(core), cmd, ...args]];
}

function tcpProbe(port, ms) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, ms);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

function httpGet(port, urlPath, ms) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: ms }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ error: e.message }));
  });
}

/** Start a server; resolves { proc, port } or throws with the reason. */
async function startServer(spec, ctx) {
  const STARTUP_MS = 30000;
  let cmd, args, port;
  const env = { ...process.env };
  let cwd = ROOT;
  if (spec.example) {
    cmd = node;
    args = [ctx.httpExample, '--host', '127.0.0.1', '--port', '0', '--root', ctx.httpRoot, '--backend', ctx.opts.httpBackend, '--quiet'];
    cwd = ctx.httpRoot;
  } else {
    [cmd, args] = spec.cmd(ctx.tools, ctx);
  }
  if (spec.python) env.PYTHONWARNINGS = 'ignore::DeprecationWarning';
  if (spec.env) Object.assign(env, spec.env(ctx));
  const [pc, pa] = pinned(cmd, args, 0, ctx);
  const proc = spawnTracked(pc, pa, { cwd, env }, 24 * 3600 * 1000);
  const t0 = Date.now();
  let exited = null;
  proc.done.then((r) => { exited = r; });
  while (Date.now() - t0 < STARTUP_MS && !interrupted) {
    if (exited) break;
    // the echo servers print the port alone; examples/http_server prints `listening on http://HOST:PORT/`
    const m = /^(\d+)\s*\n/.exec(proc.stdout) || /https?:\/\/\S*?:(\d+)\//.exec(proc.stdout);
    if (m) {
      port = Number(m[1]);
      break;
    }
    await sleep(20);
  }
  const tail = () => errorLine(proc.stderr);
  if (exited || !port || !(await tcpProbe(port, 2000))) {
    await stopServer(proc);
    if (interrupted) throw new Error('interrupted');
    if (exited) throw new Error(`exited during start-up (${exited.code ?? exited.signal}): ${tail()}`);
    throw new Error(`not listening after ${STARTUP_MS / 1000} s: ${tail()}`);
  }
  return { proc, port, pid: proc.child.pid };
}

/** The telling line of a child's stderr: the first that names an error, else the last. */
function errorLine(stderr) {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^\w*(Error|Exception)\b|Error:/.test(l)) || lines[lines.length - 1] || 'no output';
}

async function stopServer(proc) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.done;
  try { proc.child.kill('SIGTERM'); } catch { /* gone */ }
  let r = await withTimeout(proc.done, 3000);
  if (!r) {
    try { proc.child.kill('SIGKILL'); } catch { /* gone */ }
    r = await withTimeout(proc.done, 3000);
  }
  return r;
}

function alive(proc) {
  return proc.child.exitCode === null && proc.child.signalCode === null;
}

/** Busy CPU seconds of the whole machine (user nice system irq softirq), from /proc/stat. */
function machineBusy() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6]) / ctx.clkTck;
  } catch {
    return null;
  }
}

/** Wait (at most maxS seconds) until the machine is idle for half a second; returns the seconds waited. */
async function waitQuiet(maxS) {
  const t0 = Date.now();
  while (!interrupted) {
    const b0 = machineBusy();
    const s0 = Date.now();
    await sleep(500);
    const b1 = machineBusy();
    if (b0 === null || b1 === null) break;
    const cores = (b1 - b0) / ((Date.now() - s0) / 1000);
    if (cores < NOISE_CORES || Date.now() - t0 >= maxS * 1000) break;
  }
  return (Date.now() - t0) / 1000;
}

function cpuOf(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / ctx.clkTck; // utime, stime
  } catch {
    return null;
  }
}

// -------------------------------------------------------------- one run

async function runEcho(wl, srv, pid, port, ctx) {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--mode', wl.mode, '--conns', String(wl.conns),
    '--size', String(wl.size), '--duration', String(ctx.opts.duration), '--warmup', String(ctx.opts.warmup),
    '--cpu-pid', String(pid), '--connect-timeout', '15'];
  const [cmd, a] = pinned(ctx.tools.loadgen, args, 1, ctx);
  const deadline = (15 + ctx.opts.warmup + ctx.opts.duration + 20) * 1000;
  const r = await runChild(cmd, a, deadline);
  let res;
  try {
    res = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    throw new Error(r.timedOut ? `load generator killed after ${deadline / 1000} s` :
      `load generator failed (${r.code ?? r.signal}): ${(r.stderr || (r.error && r.error.message) || '').trim().slice(0, 200)}`);
  }
  const problems = [];
  if (!res.complete) problems.push(res.connect_timeout ? `only ${res.connected_at_end}/${wl.conns} connections established` : 'the run ended early');
  if (res.total_mismatches) problems.push(`${res.total_mismatches} echo mismatches (${res.mismatch_bytes} bytes in the window)`);
  if (res.total_errors) {
    const d = Object.entries(res.error_detail).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ');
    problems.push(`${res.total_errors} connection errors${d ? ` (in window: ${d})` : ''}`);
  }
  const dur = res.duration_s || 0;
  const value = res[wl.metric];
  // foreign load: CPU time the whole machine spent over the window beyond the server's and the generator's
  const sys = res.system_cpu;
  const otherLoad = sys && dur > 0 && res.server_cpu_s != null ? Math.max(0, (sys.busy_s - res.server_cpu_s - res.loadgen_cpu_s) / dur) : null;
  const steal = sys && dur > 0 ? sys.steal_s / dur : null;
  const work = wl.mode === 'stream' ? res.bytes / 1e6 : res.ops;
  return {
    value,
    ops: res.ops,
    durationS: dur,
    serverCpuS: res.server_cpu_s,
    cpuPerOpUs: res.server_cpu_s != null && work > 0 ? (res.server_cpu_s / work) * 1e6 : null,
    faultsPerOp: res.server_minflt != null && work > 0 ? res.server_minflt / work : null,
    serverUtil: res.server_cpu_s != null && dur > 0 ? res.server_cpu_s / dur : null,
    genUtil: dur > 0 ? res.loadgen_cpu_s / dur : null,
    latencyUs: res.latency_us || null,
    otherLoad,
    steal,
    disturbed: (otherLoad !== null && otherLoad > NOISE_CORES) || (steal !== null && steal > NOISE_CORES / 2),
    problems,
    raw: res,
  };
}

function parseWrk(out) {
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : null; };
  const lat = (label) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) return null;
    return Number(m[1]) * { us: 1, ms: 1e3, s: 1e6 }[m[2]];
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: sock ? sock.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    p50: lat('50'),
    p99: lat('99'),
  };
}

async function runHttp(wl, srv, pid, port, ctx) {
  // the file must come back whole before we measure anything
  const got = await httpGet(port, `/${HTTP_FILE}`, 3000);
  if (got.error || got.status !== 200 || !got.body.equals(ctx.httpBody)) {
    throw new Error(`GET /${HTTP_FILE} did not return the file (${got.error || `status ${got.status}, ${got.body.length} bytes`})`);
  }
  const url = `http://127.0.0.1:${port}/${HTTP_FILE}`;
  const wrkArgs = (secs) => ['-t1', `-c${wl.conns}`, `-d${secs}s`, '--timeout', '5s', '--latency', url];
  const secs = (s) => Math.max(1, Math.round(s)); // wrk takes whole seconds
  if (ctx.opts.warmup > 0) {
    const [c, a] = pinned(ctx.wrk, wrkArgs(secs(ctx.opts.warmup)), 1, ctx);
    await runChild(c, a, (secs(ctx.opts.warmup) + 20) * 1000);
  }
  const cpu0 = cpuOf(pid);
  const t0 = process.hrtime.bigint();
  const [c, a] = pinned(ctx.wrk, wrkArgs(secs(ctx.opts.duration)), 1, ctx);
  const r = await runChild(c, a, (secs(ctx.opts.duration) + 20) * 1000);
  const cpu1 = cpuOf(pid);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const w = parseWrk(r.stdout);
  if (w.rps === null) throw new Error(r.timedOut ? 'wrk killed after its deadline' : `wrk failed: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  const problems = [];
  if (w.non2xx) problems.push(`${w.non2xx} non-2xx responses`);
  if (w.socketErrors) problems.push(`${w.socketErrors} socket errors`);
  const cpu = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  return {
    value: w.rps,
    ops: w.requests,
    durationS: secs(ctx.opts.duration),
    serverCpuS: cpu,
    cpuPerOpUs: cpu !== null && w.requests ? (cpu / w.requests) * 1e6 : null,
    serverUtil: cpu !== null ? cpu / wall : null,
    genUtil: null,
    latencyUs: w.p50 !== null ? { p50: w.p50, p99: w.p99 } : null,
    otherLoad: null,
    steal: null,
    disturbed: false,
    problems,
    raw: w,
  };
}

// ----------------------------------------------------------------- main

let ctx;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    process.stdout.write('servers:\n');
    for (const s of [...SERVERS, ...HTTP_SERVERS]) {
      const how = s.optIn ? ' (only when named)' : s.peer ? ' (non-libuv peer: when found, or fetched with --peers)' : '';
      process.stdout.write(`  ${s.id.padEnd(16)} ${s.label}${how}\n`);
    }
    process.stdout.write('workloads:\n');
    for (const w of WORKLOADS) process.stdout.write(`  ${w.id.padEnd(16)} ${w.label}\n`);
    return;
  }
  const allIds = new Set([...SERVERS, ...HTTP_SERVERS].map((s) => s.id));
  for (const id of opts.servers || []) if (!allIds.has(id)) fail(`unknown server ${id} (see --list)`);
  for (const id of opts.workloads || []) if (!WORKLOADS.some((w) => w.id === id)) fail(`unknown workload ${id} (see --list)`);

  if (process.platform !== 'linux') fail('the benchmark needs Linux (its tools use epoll and /proc)');
  const taskset = which('taskset');
  const cores = os.cpus().length;
  ctx = {
    opts,
    tools: null,
    taskset,
    pin: opts.pin && !!taskset && cores >= 2,
    clkTck: Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100,
    workloads: WORKLOADS.filter((w) => !opts.workloads || opts.workloads.includes(w.id)),
    notes: [],
  };
  const startedAt = new Date();
  ctx.loadavgAtStart = os.loadavg();
  ctx.tools = ensureTools();
  ctx.notes.push(...ensureCompiled(opts));

  // which servers can run here
  const lib = SERVERS.some((s) => s.lib && (!opts.servers || opts.servers.includes(s.id))) ? checkLibrary() : { ok: true, exports: new Set(), notes: [] };
  ctx.notes.push(...lib.notes);
  let python = { ok: true };
  if (SERVERS.some((s) => s.python && (!opts.servers || opts.servers.includes(s.id)))) {
    const r = spawnSync('python3', ['-W', 'ignore', '-c', 'import asyncore'], { encoding: 'utf8', timeout: 20000 });
    if (r.status !== 0) python = { ok: false, why: `python3 cannot import asyncore (${r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop()})` };
  }
  // the peers: asked for (--peers, or named in --servers) are fetched when missing; else only found
  ctx.peers = {};
  const askedPeers = new Set([...(opts.peers || []), ...(opts.servers || []).filter((id) => PEERS[id])]);
  const wantedPeers = SERVERS.filter((s) => s.peer && (opts.servers ? opts.servers.includes(s.id) : opts.peers === null || opts.peers.includes(s.id)));
  if (ctx.workloads.some((w) => !w.http)) {
    for (const s of wantedPeers) {
      const found = locatePeer(s.peer, { cacheDir: opts.peerCache, fetch: askedPeers.has(s.peer), note: progressNote });
      ctx.peers[s.peer] = found;
      if (found.ok) s.label = `${PEERS[s.peer].name} ${found.version} (${s.peer === 'bun' ? 'Bun.listen' : 'Deno.listen'})`;
    }
  }
  const unavailable = (s) => (s.lib ? libMissing(lib, s) : s.python && !python.ok ? python.why :
    s.peer && ctx.peers[s.peer] && !ctx.peers[s.peer].ok ? ctx.peers[s.peer].why : null);
  const echoServers = SERVERS.filter((s) => (opts.servers ? opts.servers.includes(s.id) :
    s.peer ? wantedPeers.includes(s) : !s.optIn));
  const namedHttp = opts.servers ? HTTP_SERVERS.filter((s) => opts.servers.includes(s.id)) : [];
  const httpServers = namedHttp.length ? namedHttp : HTTP_SERVERS;
  ctx.serverNotes = new Set();
  for (const s of ctx.workloads.some((w) => !w.http) ? echoServers : []) {
    if (!unavailable(s)) continue;
    ctx.notes.push(`${s.label}: skipped, ${unavailable(s)}`);
    ctx.serverNotes.add(s.id);
  }

  // HTTP workload prerequisites
  const httpWl = ctx.workloads.find((w) => w.http);
  if (httpWl) {
    ctx.wrk = which('wrk');
    const ex = findHttpExample();
    if (!ctx.wrk) {
      ctx.notes.push('HTTP workload: skipped, wrk is not installed');
      ctx.workloads = ctx.workloads.filter((w) => !w.http);
    } else {
      ctx.httpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncore-bench-'));
      tmpDirs.push(ctx.httpRoot);
      const body = Buffer.from(`<!doctype html>\n<title>bench</title>\n<p>${'asyncore '.repeat(100)}</p>\n`.slice(0, 1024).padEnd(1024, '.'));
      fs.writeFileSync(path.join(ctx.httpRoot, HTTP_FILE), body);
      ctx.httpBody = body;
      if (ex.ok) ctx.httpExample = ex.file;
      else ctx.httpExampleWhy = ex.why;
    }
  }

  // the plan: interleaved rounds of one run per server
  const results = {};
  const plan = [];
  for (const wl of ctx.workloads) {
    const servers = wl.http ? httpServers : echoServers;
    const row = { workload: wl, servers, cells: {} };
    results[wl.id] = row;
    for (const srv of servers) {
      const cell = { runs: [], errors: [], skipped: null, summary: null };
      row.cells[srv.id] = cell;
      if (unavailable(srv)) cell.skipped = unavailable(srv);
      else if (srv.example && !ctx.httpExample) cell.skipped = ctx.httpExampleWhy;
      else if (srv.maxFds && wl.conns + 16 > srv.maxFds) cell.skipped = `select() cannot watch fds ≥ FD_SETSIZE (${srv.maxFds}); ${wl.conns} connections need more`;
    }
    for (let rep = 0; rep < opts.reps; rep++) {
      for (const srv of servers) if (!row.cells[srv.id].skipped) plan.push({ wl, srv, rep });
    }
  }
  const perRun = (opts.warmup + opts.duration + 0.6);
  const estimate = plan.reduce((s, p) => s + (p.wl.http ? Math.max(1, Math.round(opts.warmup)) * (opts.warmup > 0) + Math.max(1, Math.round(opts.duration)) + 0.6 : perRun), 0);
  progressNote(`${plan.length} runs, about ${Math.ceil(estimate)} s; servers on core 0, load generator on core 1${ctx.pin ? '' : ' (not pinned)'}`);
  // a last line of defence: whatever happens, never run for ever
  setTimeout(() => {
    progressNote('global deadline passed, giving up');
    killAll('SIGKILL');
    process.exit(1);
  }, (estimate * 3 + 300) * 1000).unref();

  const t0 = Date.now();
  const startFailures = new Map();
  let retries = 0;
  const maxRetries = Math.ceil(plan.length / 4);
  let i = 0;
  for (const step of plan) {
    if (interrupted) break;
    i++;
    const { wl, srv, rep } = step;
    const cell = results[wl.id].cells[srv.id];
    if (cell.errors.length >= 2) continue; // it failed twice, let it be
    if ((startFailures.get(srv.id) || 0) >= 3) {
      if (!cell.errors.length) cell.errors.push('not run: the server failed to start in 3 steps in a row');
      continue;
    }
    const eta = i > 1 ? Math.max(0, Math.round(((Date.now() - t0) / (i - 1)) * (plan.length - i + 1) / 1000)) : Math.round(estimate);
    progress(`[${i}/${plan.length}] ${wl.label} · ${srv.label} · run ${rep + 1}/${opts.reps} · ~${eta} s left`);
    for (let attempt = 0; attempt < 2 && !interrupted; attempt++) {
      let server;
      try {
        // a failed start is tried once more after a pause (the addon may be being rebuilt);
        // a server that failed to start in 3 steps in a row is given up
        for (let tries = 0; !server; tries++) {
          try {
            server = await startServer(srv, ctx);
            startFailures.set(srv.id, 0);
          } catch (err) {
            if (tries === 0 && !interrupted) {
              await sleep(1500);
              continue;
            }
            startFailures.set(srv.id, (startFailures.get(srv.id) || 0) + 1);
            throw new Error(`start-up failed: ${err.message}`);
          }
        }
        if (opts.waitQuiet > 0) await waitQuiet(opts.waitQuiet);
        const run = wl.http ? await runHttp(wl, srv, server.pid, server.port, ctx) : await runEcho(wl, srv, server.pid, server.port, ctx);
        if (!alive(server.proc)) {
          const r = await withTimeout(server.proc.done, 1000);
          throw new Error(`server died during the run (${r ? r.code ?? r.signal : '?'}): ${errorLine(server.proc.stderr)}`);
        }
        run.attempt = attempt + 1;
        const fallback = srv.example && /backend \w+ is not available[^\n]*/.exec(server.proc.stderr);
        if (fallback && !ctx.notes.includes(`examples/http_server: ${fallback[0]}`)) ctx.notes.push(`examples/http_server: ${fallback[0]}`);
        const tag = `[${i}/${plan.length}] ${wl.label} · ${srv.label} · run ${rep + 1}/${opts.reps}`;
        progress(`${tag}: ${fmt(run.value)} ${wl.unit}${run.problems.length ? ' ⚠' : ''}${run.disturbed ? ` (disturbed: other load ${fmt(run.otherLoad, 2)} cores)` : ''}`);
        if (attempt === 0) {
          cell.runs.push(run);
        } else if (run.otherLoad !== null && run.otherLoad < cell.runs[cell.runs.length - 1].otherLoad) {
          cell.runs[cell.runs.length - 1] = run;
        }
        if (!run.disturbed || retries >= maxRetries) break;
        retries++;
      } catch (err) {
        if (!interrupted) {
          cell.errors.push(err.message);
          progressNote(`${wl.label} / ${srv.label}: ${err.message}`);
        }
        break;
      } finally {
        if (server) await stopServer(server.proc);
      }
    }
  }
  progressDone();

  for (const row of Object.values(results)) for (const cell of Object.values(row.cells)) cell.summary = report.summarize(cell);

  // report
  const cpuModel = (os.cpus()[0] && os.cpus()[0].model) || 'unknown CPU';
  ctx.footer = `${startedAt.toISOString()} · ${os.hostname()} · ${cpuModel} × ${cores} · node ${process.version} · ` +
    `${opts.reps} run(s) × ${opts.duration} s after ${opts.warmup} s warm-up${ctx.pin ? ' · pinned' : ''}`;
  const { table, notes } = report.buildTables(results, ctx);
  const targets = report.evaluateTargets(results);
  const tt = report.targetsTable(targets);
  const allNotes = [...ctx.notes, ...notes];
  if (interrupted) allNotes.unshift('interrupted: partial results');
  let md = `## Echo benchmark\n\n${ctx.footer}\n\n${table}\n`;
  if (tt) {
    md += `\n### Targets (issue #15)\n\n${tt}\n\nEach status is judged on the ratio of the medians named in its row (throughput: higher is better; server CPU per op and p99: lower is better). For throughput targets the capacity ratio (the base's server CPU per operation over the server's) estimates the ratio of capacities when the load generator, not the server, was the limit.\n`;
  }
  if (allNotes.length) md += `\nNotes:\n${allNotes.map((n) => `- ${n}`).join('\n')}\n`;
  md += '\nServer CPU per op = the server process\'s user+system CPU time (all its threads) over the measured window divided by the operations (round trips, connections, requests; per MB for stream); server CPU = that time over the window\'s length. Latency: per round trip (ping-pong), per connection from connect() to the echo (churn), per 64 KiB write from its start to the end of its echo (stream; it includes queueing behind the 1 MiB window). "× C": the median over the C epoll server\'s median of the same run.\n';

  fs.mkdirSync(opts.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    interrupted,
    options: { duration: opts.duration, warmup: opts.warmup, reps: opts.reps, pinned: ctx.pin, quick: opts.quick },
    machine: { host: os.hostname(), cpu: cpuModel, cores, node: process.version, platform: `${os.platform()} ${os.release()}`, loadavgAtStart: ctx.loadavgAtStart, loadavg: os.loadavg() },
    peers: Object.fromEntries(Object.entries(ctx.peers).map(([id, p]) => [id, p.ok ? { version: p.version, path: p.path, source: p.source } : { skipped: p.why }])),
    notes: allNotes,
    targets,
    workloads: Object.values(results).map((row) => ({
      id: row.workload.id,
      label: row.workload.label,
      unit: row.workload.unit,
      cpuUnit: row.workload.cpuUnit,
      servers: row.servers.map((srv) => {
        const c = row.cells[srv.id];
        const ratios = c.summary ? report.ratiosOf(row, c.summary) : null;
        return { id: srv.id, label: srv.label, skipped: c.skipped, errors: c.errors, summary: c.summary, ratios, runs: c.runs };
      }),
    })),
  };
  const files = {
    json: path.join(opts.out, `bench-${stamp}.json`),
    md: path.join(opts.out, `bench-${stamp}.md`),
    svg: path.join(opts.out, `bench-${stamp}.svg`),
  };
  fs.writeFileSync(files.json, JSON.stringify(json, null, 2) + '\n');
  fs.writeFileSync(files.md, md);
  fs.writeFileSync(files.svg, report.buildSvg(results, ctx, 'asyncore-node echo benchmark'));
  for (const [k, f] of Object.entries(files)) fs.copyFileSync(f, path.join(opts.out, `latest.${k}`));

  process.stdout.write(`\n${md}\nraw figures: ${path.relative(process.cwd(), files.json)}\nchart: ${path.relative(process.cwd(), files.svg)}\n`);
  const bad = Object.values(results).some((row) => Object.values(row.cells).some((c) => c.errors.length || (c.summary && c.summary.problems.length)));
  process.exitCode = interrupted ? 130 : bad ? 1 : 0;
}

main().catch((err) => {
  killAll('SIGKILL');
  process.stderr.write(`bench: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
