#!/usr/bin/env node
'use strict';
/*
 * Load test: one asyncore echo server holding many connections at once
 * (10,000 by default) while some of them (100) ping-pong, every byte checked.
 *
 *   node scripts/load.js                                     (10,000 held, 100 active, 20 s)
 *   node scripts/load.js --connections 1000 --active 50 --duration 3   (the CI form)
 *
 * The server runs in this process, the clients in a child process, so each
 * process holds about one fd per connection and stays under the hard
 * RLIMIT_NOFILE. Node cannot raise its own soft limit; when it is too low the
 * script re-runs itself as `sh -c 'ulimit -n <hard> && exec node …'` (the native
 * setNofileLimit is used instead when the library has it).
 *
 * Phases (in the client process):
 *   1. connect   open --connections connections in batches of --batch;
 *   2. ping-pong --active of them send a message of 1–--max-size bytes, wait for all of
 *                it to come back, compare it byte for byte, and go again, for --duration s;
 *   3. probe     every held connection (idle ones included) sends one message and checks
 *                its echo: proves all of them were still served at the end;
 *   4. close     all of them; the server must end up with only its listener.
 * Exit status 0 when every check passed, else 1; a JSON summary is the last stdout line.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { mb, fdCount, backendAvailable } = require('./process-figures');

const lib = require(path.resolve(__dirname, '..', 'dist', 'lib'));
const { Dispatcher, DispatcherWithSend, OSError, loop } = lib;
/** The epoll backend keeps an epoll fd per map until it is released (a no-op for select/poll). */
const releaseBackend = (map) => {
  if (typeof lib.releaseBackend === 'function') lib.releaseBackend(map);
};

const HELP = `usage: node scripts/load.js [options]

  --connections N   connections the server holds at once (default 10000)
  --active N        connections that ping-pong (default 100)
  --duration S      seconds of ping-pong (default 20)
  --max-size N      largest ping message in bytes (default 1024)
  --batch N         connects in flight at once while opening (default 500)
  --backend B       epoll | poll (default: epoll when loop() takes it, else poll)
  --json            print only the JSON summary
  --help            this text
`;

function parseArgs(argv) {
  const o = { connections: 10000, active: 100, duration: 20, maxSize: 1024, batch: 500, backend: null, json: false, role: 'server', port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const n = Number(val());
      if (!Number.isFinite(n) || n < 0) die(`${a} needs a non-negative number`);
      return n;
    };
    switch (a) {
      case '--connections': o.connections = Math.floor(num()); break;
      case '--active': o.active = Math.floor(num()); break;
      case '--duration': o.duration = num(); break;
      case '--max-size': o.maxSize = Math.max(1, Math.floor(num())); break;
      case '--batch': o.batch = Math.max(1, Math.floor(num())); break;
      case '--backend': o.backend = val(); break;
      case '--json': o.json = true; break;
      case '--role': o.role = val(); break;
      case '--port': o.port = num(); break;
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      default: die(`unknown option ${a}\n\n${HELP}`);
    }
  }
  o.active = Math.min(o.active, o.connections);
  if (o.backend === null) o.backend = backendAvailable(loop, 'epoll') ? 'epoll' : 'poll';
  if (o.backend === 'select' && o.connections > 900) die('the select backend cannot hold fds at or above FD_SETSIZE (1024); use epoll or poll');
  if (!backendAvailable(loop, o.backend)) die(`backend ${o.backend} is not available here`);
  return o;
}

function die(msg) {
  process.stderr.write(`load: ${msg}\n`);
  process.exit(2);
}


function log(o, line) {
  if (!o.json) process.stderr.write(`load${o.role === 'clients' ? ' (clients)' : ''}: ${line}\n`);
}


/** [soft, hard] RLIMIT_NOFILE of this process, from /proc/self/limits. */
function nofileLimits() {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return [soft, hard];
}

/** Make sure this process may open `need` fds: raise the soft limit natively, or re-run under `ulimit -n`. */
function ensureNofile(need) {
  let [soft, hard] = nofileLimits();
  if (soft >= need) return true;
  // The library's setNofileLimit (public, or on the addon while it is not exported yet).
  let setLimit = typeof lib.setNofileLimit === 'function' ? lib.setNofileLimit : null;
  if (setLimit === null) {
    try {
      const { binding } = require(path.resolve(__dirname, '..', 'dist', 'lib', 'native'));
      if (typeof binding.setNofileLimit === 'function') setLimit = binding.setNofileLimit;
    } catch {
      /* no addon access: use the re-run */
    }
  }
  if (setLimit !== null) {
    try {
      setLimit(Math.min(hard, Math.max(need, soft)));
      [soft] = nofileLimits();
      if (soft >= need) return true;
    } catch {
      /* fall through to the re-run */
    }
  }
  if (hard < need) die(`need ${need} fds per process but the hard RLIMIT_NOFILE is ${hard}; use fewer --connections`);
  if (process.env.LOAD_REEXEC) die(`the soft RLIMIT_NOFILE is still ${soft} after ulimit -n ${hard}`);
  const quoted = [process.execPath, ...process.execArgv, __filename, ...process.argv.slice(2)].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('sh', ['-c', `ulimit -n ${hard === Infinity ? need : hard} && exec ${quoted}`], { stdio: 'inherit', env: { ...process.env, LOAD_REEXEC: '1' } });
  child.on('exit', (code, signal) => process.exit(code === null ? 1 : code));
  return false;
}

// ---------------------------------------------------------------- server

function runServer(o) {
  if (!ensureNofile(o.connections + 200)) return;
  // Node keeps one fd (/dev/null) open from its first child process on: start one
  // before counting, so the count at start and at the end see the same Node internals.
  spawn(process.execPath, ['-e', ''], { stdio: ['inherit', 'pipe', 'inherit'] }).on('close', () => setImmediate(() => serve(o)));
}

function serve(o) {
  const map = new Map();
  const stats = { accepted: 0, closed: 0, bytes: 0, errors: [], passes: 0, passMsTotal: 0, passMsMax: 0, peakHeld: 0 };
  class Echo extends DispatcherWithSend {
    readable() {
      return this.outBuffer.length < 1 << 20;
    }
    handleRead() {
      const d = this.recv(65536);
      if (d.length > 0) {
        stats.bytes += d.length;
        this.send(d);
      }
    }
    handleClose() {
      if (!this.gone) {
        this.gone = true;
        stats.closed++;
      }
      this.close();
    }
    handleError(err) {
      stats.errors.push(`echo channel: ${String(err)}`);
      this.handleClose();
    }
  }
  class Listener extends Dispatcher {
    constructor() {
      super(null, map);
      this.createSocket();
      this.setReuseAddr();
      this.bind(['127.0.0.1', 0]);
      this.listen(4096);
      this.port = this.socket.getsockname()[1];
    }
    writable() {
      return false;
    }
    /** Accept everything pending (up to 256 per event), not one per pass. */
    handleAccept() {
      for (let i = 0; i < 256; i++) {
        const pair = this.accept();
        if (pair === null) return;
        stats.accepted++;
        new Echo(pair[0], map);
      }
    }
    handleError(err) {
      stats.errors.push(`listener: ${String(err)}`);
      if (!(err instanceof OSError && (err.code === 'EMFILE' || err.code === 'ENFILE'))) this.close();
    }
  }
  const fdStart = fdCount();
  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  const server = new Listener();
  log(o, `backend ${o.backend}, listening on ${server.port}; ${o.connections} connections, ${o.active} active, ${o.duration} s`);
  const args = [__filename, '--role', 'clients', '--port', String(server.port), '--connections', String(o.connections), '--active', String(o.active), '--duration', String(o.duration), '--max-size', String(o.maxSize), '--batch', String(o.batch), '--backend', o.backend];
  if (o.json) args.push('--json');
  const child = spawn(process.execPath, args, { stdio: ['inherit', 'pipe', 'inherit'] });
  let out = '';
  let exit = null;
  // (the server's fds are counted once the child is gone and its pipe closed)
  child.stdout.on('data', (d) => (out += d));
  child.on('close', (code, signal) => (exit = { code, signal }));
  const hard = Date.now() + (o.duration + 300) * 1000;
  const step = () => {
    const until = Date.now() + 100;
    while (Date.now() < until) {
      const t = process.hrtime.bigint();
      loop({ backend: o.backend, map, timeout: 0.02, count: 1 });
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      stats.passes++;
      stats.passMsTotal += ms;
      if (ms > stats.passMsMax) stats.passMsMax = ms;
    }
    if (map.size - 1 > stats.peakHeld) stats.peakHeld = map.size - 1;
    const r = process.memoryUsage.rss();
    if (r > rssPeak) rssPeak = r;
    if (exit === null && Date.now() < hard) return setImmediate(step);
    finish();
  };
  const finish = () => {
    if (exit === null) {
      child.kill('SIGKILL');
      stats.errors.push('the client process did not finish in time');
    }
    const end = Date.now() + 15000;
    while (map.size > 1 && Date.now() < end) loop({ backend: o.backend, map, timeout: 0.05, count: 1 });
    const leftOpen = map.size - 1;
    const rssEnd = process.memoryUsage.rss();
    server.close();
    for (const d of [...map.values()]) d.close();
    releaseBackend(map);
    const fdEnd = fdCount();
    const line = out.split('\n').find((l) => l.startsWith('CLIENTS '));
    const c = line ? JSON.parse(line.slice(8)) : null;
    const problems = [...stats.errors];
    if (!c) problems.push(`no figures from the client process (exit ${JSON.stringify(exit)})`);
    else problems.push(...c.failures);
    if (exit && exit.code !== 0) problems.push(`client process exited ${JSON.stringify(exit)}`);
    if (leftOpen !== 0) problems.push(`${leftOpen} server channels still open after the clients closed`);
    if (stats.peakHeld < o.connections) problems.push(`the server held at most ${stats.peakHeld} connections at once (wanted ${o.connections})`);
    if (c && c.connected < o.connections) problems.push(`only ${c.connected} of ${o.connections} connections were established`);
    if (c && c.probed !== o.connections) problems.push(`only ${c.probed} of ${o.connections} connections answered the final probe`);
    if (fdEnd !== fdStart) problems.push(`server fds: ${fdStart} at start, ${fdEnd} at the end`);
    const summary = {
      backend: o.backend,
      connections: o.connections,
      active: o.active,
      serverPeakHeld: stats.peakHeld,
      serverAccepted: stats.accepted,
      serverEchoedBytes: stats.bytes,
      serverPasses: stats.passes,
      serverPassMsMean: Math.round((stats.passMsTotal / Math.max(1, stats.passes)) * 1000) / 1000,
      serverPassMsMax: Math.round(stats.passMsMax * 10) / 10,
      serverFds: [fdStart, fdEnd],
      serverRssMb: { start: mb(rssStart), peak: mb(rssPeak), end: mb(rssEnd) },
      clients: c,
      problems: problems.slice(0, 20),
      ok: problems.length === 0,
    };
    if (!o.json) for (const p of problems) log(o, `FAIL ${p}`);
    process.stdout.write(JSON.stringify(summary) + '\n');
    process.exitCode = summary.ok ? 0 : 1;
  };
  step();
}

// ---------------------------------------------------------------- clients

function runClients(o) {
  if (!ensureNofile(o.connections + 200)) return;
  const map = new Map();
  const failures = [];
  const fail = (m) => {
    if (failures.length < 50) failures.push(m);
  };
  let connected = 0;
  let seed = 1;
  const lat = [];

  class Conn extends Dispatcher {
    constructor() {
      super(null, map);
      this.id = seed++;
      this.msg = null;
      this.sent = 0;
      this.got = 0;
      this.rounds = 0;
      this.bytes = 0;
      this.sentAt = 0n;
      this.createSocket();
      this.connect(['127.0.0.1', o.port]);
    }
    readable() {
      return this.connected;
    }
    writable() {
      return !this.connected || (this.msg !== null && this.sent < this.msg.length);
    }
    handleConnect() {
      connected++;
    }
    /** Start one ping: a message of random length and content. */
    ping() {
      const n = 1 + Math.floor(Math.random() * o.maxSize);
      const b = Buffer.allocUnsafe(n);
      const k = (this.id * 31 + this.rounds) & 0xff;
      for (let i = 0; i < n; i++) b[i] = (k + i * 7) & 0xff;
      this.msg = b;
      this.sent = 0;
      this.got = 0;
      this.sentAt = process.hrtime.bigint();
      this.handleWrite();
    }
    get waiting() {
      return this.msg !== null;
    }
    handleWrite() {
      if (this.msg === null || this.sent >= this.msg.length) return;
      this.sent += this.send(this.msg.subarray(this.sent));
    }
    handleRead() {
      const d = this.recv(65536);
      if (d.length === 0) return;
      if (this.msg === null || this.got + d.length > this.sent) {
        fail(`connection ${this.id}: ${d.length} unexpected bytes`);
        return this.close();
      }
      if (d.compare(this.msg, this.got, this.got + d.length) !== 0) {
        fail(`connection ${this.id}: echo differs from what was sent (round ${this.rounds})`);
        return this.close();
      }
      this.got += d.length;
      if (this.got === this.msg.length) {
        this.bytes += this.got;
        this.rounds++;
        if (lat.length < 200000) lat.push(Number(process.hrtime.bigint() - this.sentAt) / 1e3);
        this.msg = null;
      }
    }
    handleClose() {
      if (!this.closing) fail(`connection ${this.id}: closed by the server`);
      this.close();
    }
    handleError(err) {
      fail(`connection ${this.id}: ${String(err)}`);
      this.close();
    }
  }

  const pass = () => loop({ backend: o.backend, map, timeout: 0.05, count: 1 });
  const runUntil = (cond, ms) => {
    const end = Date.now() + ms;
    while (!cond() && Date.now() < end && failures.length === 0) pass();
    return cond();
  };

  // 1. connect, in batches
  const conns = [];
  const t0 = Date.now();
  while (conns.length < o.connections && failures.length === 0) {
    const n = Math.min(o.batch, o.connections - conns.length);
    for (let i = 0; i < n; i++) conns.push(new Conn());
    if (!runUntil(() => connected === conns.length, 60000)) {
      fail(`connect stalled at ${connected}/${conns.length}`);
      break;
    }
  }
  const connectSeconds = (Date.now() - t0) / 1000;
  const held = map.size;
  log(o, `${connected} connections established in ${connectSeconds.toFixed(1)} s; fds ${fdCount()}`);

  // 2. ping-pong on the active ones
  const active = conns.slice(0, o.active);
  const t1 = Date.now();
  let passes = 0;
  const tp = process.hrtime.bigint();
  while (Date.now() - t1 < o.duration * 1000 && failures.length === 0) {
    for (const c of active) if (!c.waiting) c.ping();
    pass();
    passes++;
  }
  runUntil(() => active.every((c) => !c.waiting), 30000);
  const pingSeconds = Number(process.hrtime.bigint() - tp) / 1e9;
  const rounds = active.reduce((n, c) => n + c.rounds, 0);
  const pingBytes = active.reduce((n, c) => n + c.bytes, 0);
  log(o, `${rounds} round trips on ${active.length} connections in ${pingSeconds.toFixed(1)} s`);

  // 3. probe every connection once
  const before = conns.map((c) => c.rounds);
  for (const c of conns) c.ping();
  runUntil(() => conns.every((c) => !c.waiting), 120000);
  const probed = conns.filter((c, i) => c.rounds === before[i] + 1 && map.get(c._fileno) === c).length;

  // 4. close
  for (const c of conns) {
    c.closing = true;
    c.close();
  }
  lat.sort((a, b) => a - b);
  const q = (p) => (lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]) : null);
  const result = {
    connected,
    heldAtOnce: held,
    connectSeconds: Math.round(connectSeconds * 100) / 100,
    pingSeconds: Math.round(pingSeconds * 100) / 100,
    roundTrips: rounds,
    roundTripsPerSecond: Math.round(rounds / pingSeconds),
    pingBytesVerified: pingBytes,
    latencyUs: { p50: q(0.5), p99: q(0.99), max: lat.length ? Math.round(lat[lat.length - 1]) : null },
    clientPasses: passes,
    probed,
    rssMb: mb(process.memoryUsage.rss()),
    failures,
  };
  process.stdout.write(`CLIENTS ${JSON.stringify(result)}\n`);
}

const o = parseArgs(process.argv.slice(2));
if (o.role === 'clients') runClients(o);
else runServer(o);
