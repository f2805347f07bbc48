#!/usr/bin/env node
'use strict';
/*
 * Soak test: churn connections and echo messages through an asyncore echo
 * server for a long time, checking every byte, and fail if file descriptors
 * or memory leak.
 *
 *   node scripts/soak.js --duration 10                         (the CI form)
 *   node scripts/soak.js --connections 100000 --messages 10000000
 *
 * What runs (one asyncore map per process):
 *   server    a listener and echo channels (DispatcherWithSend). At EOF a
 *             channel stops reading, flushes what it still owes, then closes.
 *   churners  --churners concurrent short connections, replaced between passes
 *             as they finish: connect, 1–4 request/response messages, then a
 *             plain close (80 %), a half-close read to EOF (15 %) or an
 *             abortive reset right after a message is sent (5 %).
 *   streamers --streamers long-lived connections pipelining messages of
 *             12–512 bytes with up to --window bytes in flight.
 * A message is [u16 length][u32 connection][u32 sequence][payload]; every
 * byte echoed is compared with what was sent, and a message counts once all
 * of its bytes came back intact.
 *
 * With --clients child (the default) the clients run in a child process (so
 * the two sides use both cores); --clients inline puts them in the server's map.
 *
 * Leak checks: fds are counted from /proc/self/fd before anything is created
 * and after everything is closed again (must be equal), and sampled during
 * the run; RSS and the V8 heap in use are taken as a baseline after the
 * warm-up (after a GC), and the run fails if at the end, with every
 * connection closed and after a GC, RSS grew by more than --rss-tolerance MB
 * (or more than doubled), or the heap in use or the Buffer memory by more than
 * --heap-tolerance MB. Both processes check themselves.
 *
 * Exit status: 0 when every check passed, 1 otherwise. A JSON summary goes to
 * stdout as the last line (--json prints only that).
 */
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { spawn } = require('node:child_process');
const { MB, mb, fdCount, backendAvailable } = require('./process-figures');

const lib = require(path.resolve(__dirname, '..', 'dist', 'lib'));
const { Dispatcher, DispatcherWithSend, ExitNow, OSError, loop, socket } = lib;
/** The epoll backend keeps an epoll fd per map until it is released (a no-op for select/poll). */
const releaseBackend = (map) => {
  if (typeof lib.releaseBackend === 'function') lib.releaseBackend(map);
};

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// ---------------------------------------------------------------- options

const HELP = `usage: node scripts/soak.js [options]

  --duration S          run for S seconds (default 10 unless --connections/--messages are given)
  --connections N       stop once N churned connections are done (with --messages: both)
  --messages N          stop once N messages were echoed and verified
  --max-duration S      hard stop even if the targets are not reached (default 1800)
  --backend B           epoll | poll | select (default: epoll when loop() takes it, else poll)
  --clients MODE        child (default) | inline
  --churners N          concurrent churning connections (default 64)
  --streamers N         long-lived pipelining connections (default 16)
  --window BYTES        bytes in flight per streamer (default 16384)
  --warmup S            seconds before the memory baseline (default: half of a run under 60 s, else a quarter, at most 60 s)
  --rss-tolerance MB    allowed RSS growth after warm-up (default 64, or the baseline itself if more)
  --heap-tolerance MB   allowed growth of the V8 heap in use, and of Buffer memory, after a GC (default 16)
  --report S            progress line every S seconds (default 5; 0: none)
  --json                print only the JSON summary
  --help                this text
`;

function parseArgs(argv) {
  const o = {
    duration: null,
    connections: null,
    messages: null,
    maxDuration: 1800,
    backend: null,
    clients: 'child',
    churners: 64,
    streamers: 16,
    window: 16384,
    warmup: null,
    rssTolerance: 64,
    heapTolerance: 16,
    report: 5,
    json: false,
    role: 'main',
    port: 0,
  };
  const num = (v, name) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) die(`--${name} needs a non-negative number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--duration': o.duration = num(next(), 'duration'); break;
      case '--connections': o.connections = num(next(), 'connections'); break;
      case '--messages': o.messages = num(next(), 'messages'); break;
      case '--max-duration': o.maxDuration = num(next(), 'max-duration'); break;
      case '--backend': o.backend = next(); break;
      case '--clients': o.clients = next(); break;
      case '--churners': o.churners = num(next(), 'churners'); break;
      case '--streamers': o.streamers = num(next(), 'streamers'); break;
      case '--window': o.window = Math.max(600, num(next(), 'window')); break;
      case '--warmup': o.warmup = num(next(), 'warmup'); break;
      case '--rss-tolerance': o.rssTolerance = num(next(), 'rss-tolerance'); break;
      case '--heap-tolerance': o.heapTolerance = num(next(), 'heap-tolerance'); break;
      case '--report': o.report = num(next(), 'report'); break;
      case '--json': o.json = true; break;
      case '--role': o.role = next(); break;
      case '--port': o.port = num(next(), 'port'); break;
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      default: die(`unknown option ${a}\n\n${HELP}`);
    }
  }
  if (o.duration === null && o.connections === null && o.messages === null) o.duration = 10;
  if (!['child', 'inline'].includes(o.clients)) die(`--clients must be child or inline`);
  if (o.backend === null) o.backend = backendAvailable(loop, 'epoll') ? 'epoll' : 'poll';
  if (!backendAvailable(loop, o.backend)) die(`backend ${o.backend} is not available here`);
  return o;
}

function die(msg) {
  process.stderr.write(`soak: ${msg}\n`);
  process.exit(2);
}


// ---------------------------------------------------------------- process figures


function rss() {
  return process.memoryUsage.rss();
}


/** RSS and fd samples, a baseline after the warm-up, and the checks at the end. */
class Monitor {
  constructor(name, warmupMs, toleranceMb, heapToleranceMb) {
    this.name = name;
    this.warmupMs = warmupMs;
    this.toleranceMb = toleranceMb;
    this.heapToleranceMb = heapToleranceMb;
    this.t0 = Date.now();
    gc();
    this.fdStart = fdCount();
    this.rssStart = rss();
    this.rssPeak = this.rssStart;
    this.rssBaseline = null;
    this.fdPeak = this.fdStart;
    this.samples = [];
    this.lastSample = 0;
  }
  sample(force = false) {
    const now = Date.now();
    if (!force && now - this.lastSample < 1000) return;
    this.lastSample = now;
    const r = rss();
    const f = fdCount();
    if (r > this.rssPeak) this.rssPeak = r;
    if (f > this.fdPeak) this.fdPeak = f;
    if (this.rssBaseline === null && now - this.t0 >= this.warmupMs) {
      gc();
      this.rssBaseline = rss();
      this.memBaseline = process.memoryUsage();
    }
    if (this.rssBaseline !== null) this.samples.push([(now - this.t0) / 1000, r]);
  }
  /** Call with everything still open (RSS) … */
  endRss() {
    // ArrayBuffer memory is returned by a concurrent sweeper after a GC: give it a moment.
    gc();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    gc();
    this.rssEnd = rss();
    if (this.rssEnd > this.rssPeak) this.rssPeak = this.rssEnd;
    this.memEnd = process.memoryUsage();
    if (this.rssBaseline === null) {
      this.rssBaseline = this.rssStart; // a run shorter than its warm-up
      this.memBaseline = this.memEnd;
    }
  }
  /** … and once everything is closed again (fds). */
  endFds() {
    this.fdEnd = fdCount();
  }
  /** Least-squares slope of RSS after the warm-up, MB per minute. */
  slope() {
    const s = this.samples;
    if (s.length < 3) return 0;
    const n = s.length;
    const mx = s.reduce((a, p) => a + p[0], 0) / n;
    const my = s.reduce((a, p) => a + p[1], 0) / n;
    let num = 0;
    let den = 0;
    for (const [x, y] of s) {
      num += (x - mx) * (y - my);
      den += (x - mx) * (x - mx);
    }
    return den === 0 ? 0 : ((num / den) * 60) / MB;
  }
  summary() {
    const growth = this.rssEnd - this.rssBaseline;
    // V8's young generation and malloc's arenas grow for a while under load before RSS levels off
    // (about 120 MB here), so RSS gets a wide margin; the heap in use after a GC is the sharp check.
    const tolerance = Math.max(this.toleranceMb * MB, this.rssBaseline);
    const heapGrowth = this.memEnd.heapUsed - this.memBaseline.heapUsed;
    const externalGrowth = this.memEnd.external - this.memBaseline.external;
    const failures = [];
    if (this.fdEnd !== this.fdStart) failures.push(`${this.name}: fd count ${this.fdStart} at start, ${this.fdEnd} at the end`);
    if (growth > tolerance) failures.push(`${this.name}: RSS grew ${mb(growth)} MB after warm-up (tolerance ${mb(tolerance)} MB)`);
    if (externalGrowth > this.heapToleranceMb * MB) failures.push(`${this.name}: Buffer memory (external) after GC grew ${mb(externalGrowth)} MB after warm-up (tolerance ${this.heapToleranceMb} MB)`);
    if (heapGrowth > this.heapToleranceMb * MB) failures.push(`${this.name}: V8 heap in use after GC grew ${mb(heapGrowth)} MB after warm-up (tolerance ${this.heapToleranceMb} MB)`);
    return {
      fdStart: this.fdStart,
      fdPeak: this.fdPeak,
      fdEnd: this.fdEnd,
      rssStartMb: mb(this.rssStart),
      rssBaselineMb: mb(this.rssBaseline),
      rssPeakMb: mb(this.rssPeak),
      rssEndMb: mb(this.rssEnd),
      rssGrowthAfterWarmupMb: mb(growth),
      rssSlopeMbPerMin: Math.round(this.slope() * 100) / 100,
      // V8's view at the baseline and at the end (both right after a GC): a leak of JS objects shows here.
      heapUsedMb: [mb(this.memBaseline.heapUsed), mb(this.memEnd.heapUsed)],
      externalMb: [mb(this.memBaseline.external), mb(this.memEnd.external)],
      failures,
    };
  }
}

// ---------------------------------------------------------------- messages

const HEADER = 10;

/** Append `count` messages of random length for connection `conn` from sequence `seq` to `parts`; returns [bytes, ends]. */
function makeMessages(conn, seq, count, maxLen, out) {
  let total = 0;
  const lens = new Array(count);
  for (let i = 0; i < count; i++) {
    lens[i] = HEADER + 2 + Math.floor(Math.random() * (maxLen - HEADER - 1));
    total += lens[i];
  }
  const b = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < count; i++) {
    const len = lens[i];
    const s = (seq + i) >>> 0;
    b.writeUInt16LE(len, off);
    b.writeUInt32LE(conn >>> 0, off + 2);
    b.writeUInt32LE(s, off + 6);
    for (let j = HEADER; j < len; j++) b[off + j] = (s + j * 31) & 0xff;
    off += len;
    out.push(off);
  }
  return b;
}

/**
 * What has been sent and not yet echoed: a queue of buffers to compare the
 * echo with, and the stream offsets where messages end.
 */
class Expect {
  constructor() {
    this.chunks = [];
    this.head = 0; // offset into chunks[0]
    this.base = 0; // stream offset of the first byte of `ends` numbering
    this.ends = []; // absolute stream offsets of message ends, ascending
    this.endHead = 0;
    this.sent = 0;
    this.received = 0;
    this.pendingBytes = 0;
  }
  /** `buf` went out; `ends` are message ends relative to its first byte (or null: no new messages). */
  push(buf, relEnds) {
    if (buf.length === 0) return;
    this.chunks.push(buf);
    if (relEnds) for (const e of relEnds) this.ends.push(this.sent + e);
    this.sent += buf.length;
    this.pendingBytes += buf.length;
  }
  /** Check `data` against the front of the queue; returns messages completed, or -1 on a mismatch. */
  take(data) {
    let off = 0;
    while (off < data.length) {
      const c = this.chunks[0];
      if (c === undefined) return -1; // more came back than was sent
      const n = Math.min(c.length - this.head, data.length - off);
      if (data.compare(c, this.head, this.head + n, off, off + n) !== 0) return -1;
      off += n;
      this.head += n;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.received += data.length;
    this.pendingBytes -= data.length;
    let done = 0;
    while (this.endHead < this.ends.length && this.ends[this.endHead] <= this.received) {
      this.endHead++;
      done++;
    }
    if (this.endHead > 4096) {
      this.ends = this.ends.slice(this.endHead);
      this.endHead = 0;
    }
    return done;
  }
}

// ---------------------------------------------------------------- server

function startServer(map, stats) {
  class EchoConn extends DispatcherWithSend {
    constructor(sock) {
      super(sock, map);
      this.eof = false;
      this.gone = false;
    }
    readable() {
      return !this.eof && this.outBuffer.length < 256 * 1024;
    }
    writable() {
      return this.outBuffer.length > 0;
    }
    handleRead() {
      const d = this.recv(65536);
      if (d.length > 0) {
        stats.bytes += d.length;
        this.send(d);
      }
    }
    handleWrite() {
      this.initiateSend();
      if (this.eof && this.outBuffer.length === 0) this.finish();
    }
    handleClose() {
      // EOF (recv gave b'') with bytes still owed: stop reading, flush, then close.
      if (!this.eof && this.connected && this.outBuffer.length > 0) {
        this.eof = true;
        return;
      }
      this.finish();
    }
    finish() {
      if (this.gone) return;
      this.gone = true;
      stats.closed++;
      this.close();
    }
    handleError(err) {
      stats.errors.push(`server channel: ${String(err)}`);
      this.finish();
    }
  }
  class Listener extends Dispatcher {
    constructor() {
      super(null, map);
      this.createSocket();
      this.setReuseAddr();
      this.bind(['127.0.0.1', 0]);
      this.listen(1024);
      this.port = this.socket.getsockname()[1];
    }
    writable() {
      return false;
    }
    handleAccepted(sock) {
      stats.accepted++;
      new EchoConn(sock);
    }
    handleError(err) {
      stats.errors.push(`listener: ${String(err)}`);
      if (!(err instanceof OSError && (err.code === 'EMFILE' || err.code === 'ENFILE'))) this.close();
    }
  }
  return new Listener();
}

// ---------------------------------------------------------------- clients

function makeClients(map, port, o, stats) {
  const maxLen = 512;
  let nextConnId = 1;

  class Streamer extends Dispatcher {
    constructor() {
      super(null, map);
      this.id = nextConnId++;
      this.seq = 0;
      this.exp = new Expect();
      this.out = null;
      this.outEnds = null;
      this.stopping = false;
      this.dead = false;
      this.createSocket();
      this.connect(['127.0.0.1', port]);
    }
    readable() {
      return !this.dead;
    }
    writable() {
      if (this.dead) return false;
      if (!this.connected) return true;
      if (this.out !== null) return true;
      return !this.stopping && this.exp.pendingBytes < o.window - maxLen;
    }
    handleConnect() {}
    handleWrite() {
      if (this.out === null) {
        if (this.stopping) return;
        const room = o.window - this.exp.pendingBytes;
        const count = Math.max(1, Math.floor(room / 270));
        const ends = [];
        this.out = makeMessages(this.id, this.seq, count, maxLen, ends);
        this.outEnds = ends;
        this.seq += count;
      }
      const n = this.send(this.out);
      if (n === 0) return;
      // Message ends are relative to the start of this.out; pass those now covered.
      const sentPart = this.out.subarray(0, n);
      const ends = [];
      while (this.outEnds.length > 0 && this.outEnds[0] <= n) ends.push(this.outEnds.shift());
      this.exp.push(sentPart, ends);
      if (n === this.out.length) {
        this.out = null;
        this.outEnds = null;
      } else {
        this.out = this.out.subarray(n);
        for (let i = 0; i < this.outEnds.length; i++) this.outEnds[i] -= n;
      }
    }
    handleRead() {
      const d = this.recv(65536);
      if (d.length === 0) return;
      const done = this.exp.take(d);
      if (done < 0) {
        stats.failures.push(`streamer ${this.id}: echoed bytes differ from what was sent (stream offset ${this.exp.received})`);
        this.kill();
        return;
      }
      stats.messages += done;
      stats.streamMessages += done;
    }
    get drained() {
      return this.out === null && this.exp.pendingBytes === 0;
    }
    handleClose() {
      if (!this.dead) stats.failures.push(`streamer ${this.id}: closed by the server (${this.exp.received}/${this.exp.sent} bytes back)`);
      this.kill();
    }
    handleError(err) {
      stats.failures.push(`streamer ${this.id}: ${String(err)}`);
      this.kill();
    }
    kill() {
      this.dead = true;
      this.close();
    }
  }

  class Churner extends Dispatcher {
    constructor() {
      super(null, map);
      this.id = nextConnId++;
      const r = Math.random();
      this.mode = r < 0.8 ? 'close' : r < 0.95 ? 'halfclose' : 'abort';
      this.total = 1 + Math.floor(Math.random() * 4);
      this.done = 0;
      this.exp = new Expect();
      this.out = null;
      this.finished = false;
      this.shut = false;
      this.createSocket();
      this.connect(['127.0.0.1', port]);
    }
    readable() {
      return !this.finished;
    }
    writable() {
      return !this.finished && (!this.connected || this.out !== null || (this.exp.pendingBytes === 0 && this.done < this.total));
    }
    handleConnect() {}
    handleWrite() {
      if (this.out === null) {
        if (this.exp.pendingBytes !== 0 || this.done >= this.total) return;
        const ends = [];
        this.out = makeMessages(this.id, this.done, 1, maxLen, ends);
      }
      const n = this.send(this.out);
      if (n === 0) return;
      const all = n === this.out.length;
      // The message's end is recorded with its last piece.
      this.exp.push(this.out.subarray(0, n), all ? [n] : null);
      this.out = all ? null : this.out.subarray(n);
      if (this.mode === 'abort' && all) this.finish('abort');
    }
    handleRead() {
      const d = this.recv(65536);
      if (d.length === 0) return; // EOF: handleClose ran
      const done = this.exp.take(d);
      if (done < 0) {
        stats.failures.push(`churner ${this.id}: echoed bytes differ from what was sent`);
        this.finish('failed');
        return;
      }
      this.done += done;
      stats.messages += done;
      if (this.done >= this.total && this.exp.pendingBytes === 0) {
        if (this.mode === 'halfclose') {
          if (!this.shut) {
            this.shut = true;
            this.socket.shutdown(socket.SHUT_WR); // then read on until the server's FIN
          }
        } else {
          this.finish('close');
        }
      }
    }
    handleClose() {
      if (this.finished) return;
      if (this.mode === 'halfclose' && this.shut) this.finish('halfclose');
      else {
        stats.failures.push(`churner ${this.id} (${this.mode}): closed by the server after ${this.done}/${this.total} messages`);
        this.finish('failed');
      }
    }
    handleError(err) {
      if (this.finished) return;
      stats.failures.push(`churner ${this.id} (${this.mode}): ${String(err)}`);
      this.finish('failed');
    }
    finish(how) {
      if (this.finished) return;
      this.finished = true;
      if (how === 'abort') {
        const v = Buffer.alloc(8);
        v.writeInt32LE(1, 0);
        v.writeInt32LE(0, 4);
        this.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, v);
      }
      this.close();
      if (how !== 'failed') {
        stats.connections++;
        stats.byMode[how]++;
      }
    }
  }

  const churners = new Set();
  const streamers = [];
  for (let i = 0; i < o.streamers; i++) streamers.push(new Streamer());
  return {
    /** Between passes: replace finished churners (never inside a handler: see bpo-30931). */
    replenish(allowNew) {
      for (const c of churners) if (c.finished) churners.delete(c);
      if (!allowNew) return;
      while (churners.size < o.churners) churners.add(new Churner());
    },
    stopStreaming() {
      for (const s of streamers) s.stopping = true;
    },
    idle() {
      return churners.size === 0 && streamers.every((s) => s.dead || s.drained);
    },
    closeAll() {
      for (const s of streamers) {
        s.dead = true;
        s.close();
      }
      for (const c of churners) c.close();
      churners.clear();
    },
  };
}

// ---------------------------------------------------------------- the run

function newStats() {
  return { accepted: 0, closed: 0, bytes: 0, connections: 0, messages: 0, streamMessages: 0, byMode: { close: 0, halfclose: 0, abort: 0 }, failures: [], errors: [], passes: 0 };
}

function warmupMs(o) {
  if (o.warmup !== null) return o.warmup * 1000;
  // RSS climbs for the first tens of seconds (V8's young generation, malloc arenas) before it
  // levels off: a short run takes its baseline half-way, a long one after a quarter (at most 60 s).
  const planned = o.duration !== null ? o.duration : 60;
  return (planned < 60 ? planned * 0.5 : Math.min(60, planned * 0.25)) * 1000;
}

/** Run passes until the targets or the time are reached; `tick` is called between passes. */
function drive(map, o, isDone, tick) {
  const t0 = Date.now();
  const hard = t0 + o.maxDuration * 1000;
  for (;;) {
    try {
      loop({ backend: o.backend, map, timeout: 0.05, count: 1 });
    } catch (err) {
      if (!(err instanceof ExitNow)) throw err;
    }
    if (tick() === false) break;
    if (isDone(Date.now() - t0) || Date.now() > hard) break;
  }
}

function log(o, line) {
  if (!o.json) process.stderr.write(`soak: ${line}\n`);
}

/** The clients' side; inline (same map as the server) or alone in the child. */
function clientRun(map, port, o, stats, mon, reporter) {
  const clients = makeClients(map, port, o, stats);
  const t0 = Date.now();
  let stopping = false;
  let stopAt = 0;
  const targetsMet = () =>
    (o.connections === null || stats.connections >= o.connections) && (o.messages === null || stats.messages >= o.messages);
  const timeUp = (elapsed) => (o.duration !== null ? elapsed >= o.duration * 1000 : targetsMet());
  drive(
    map,
    o,
    () => stopping && clients.idle(),
    () => {
      stats.passes++;
      const elapsed = Date.now() - t0;
      if (!stopping && (timeUp(elapsed) || elapsed > o.maxDuration * 1000 || stats.failures.length > 20)) {
        stopping = true;
        stopAt = Date.now();
        clients.stopStreaming();
      }
      if (stopping && Date.now() - stopAt > 30000) return false; // could not drain: reported below
      clients.replenish(!stopping);
      mon.sample();
      reporter(elapsed);
      return true;
    },
  );
  if (!clients.idle()) stats.failures.push('clients did not drain within 30 s of stopping');
  stats.seconds = (Date.now() - t0) / 1000;
  clients.closeAll();
}

function progress(o, stats, mon, every) {
  let last = 0;
  return (elapsed) => {
    if (every <= 0 || elapsed - last < every * 1000) return;
    last = elapsed;
    log(o, `${(elapsed / 1000).toFixed(0)} s: ${stats.connections} connections, ${stats.messages} messages, fds ${fdCount()}, RSS ${mb(rss())} MB`);
  };
}

function mainInline(o) {
  const stats = newStats();
  const mon = new Monitor('process', warmupMs(o), o.rssTolerance, o.heapTolerance);
  const map = new Map();
  const server = startServer(map, stats);
  clientRun(map, server.port, o, stats, mon, progress(o, stats, mon, o.report));
  // Let the server close what the clients closed.
  const end = Date.now() + 10000;
  while (map.size > 1 && Date.now() < end) loop({ backend: o.backend, map, timeout: 0.05, count: 1 });
  if (map.size > 1) stats.failures.push(`${map.size - 1} server channels still open after the clients closed`);
  mon.endRss(); // with every connection closed: what is left over is what leaked
  server.close();
  for (const d of [...map.values()]) d.close();
  releaseBackend(map);
  mon.endFds();
  return finish(o, { mode: 'inline', backend: o.backend, ...pick(stats), process: mon.summary() }, [...stats.failures, ...stats.errors]);
}

function pick(stats) {
  return {
    seconds: stats.seconds,
    connections: stats.connections,
    connectionsByEnd: stats.byMode,
    messages: stats.messages,
    streamedMessages: stats.streamMessages,
    echoedBytes: stats.bytes,
    serverAccepted: stats.accepted,
    serverClosed: stats.closed,
    passes: stats.passes,
    failures: stats.failures.slice(0, 20),
    errors: stats.errors.slice(0, 20),
  };
}

function finish(o, summary, problems) {
  const failed = [...problems, ...(summary.process ? summary.process.failures : []), ...(summary.server ? summary.server.failures : []), ...(summary.clients ? summary.clients.failures || [] : [])];
  summary.ok = failed.length === 0;
  if (summary.seconds) {
    summary.connectionsPerSecond = Math.round(summary.connections / summary.seconds);
    summary.messagesPerSecond = Math.round(summary.messages / summary.seconds);
  }
  if (!o.json) for (const f of failed) log(o, `FAIL ${f}`);
  process.stdout.write(JSON.stringify(summary) + '\n');
  return summary.ok ? 0 : 1;
}

/** The child: clients only; reports its figures as one JSON line. */
function mainClientRole(o) {
  const stats = newStats();
  const mon = new Monitor('clients', warmupMs(o), o.rssTolerance, o.heapTolerance);
  const map = new Map();
  clientRun(map, o.port, o, stats, mon, progress(o, stats, mon, o.report));
  for (const d of [...map.values()]) d.close();
  mon.endRss(); // with every connection closed: what is left over is what leaked
  releaseBackend(map);
  mon.endFds();
  process.stdout.write(`CLIENTS ${JSON.stringify({ ...pick(stats), monitor: mon.summary() })}\n`);
  return 0;
}

/** The parent: the server, with the clients in a child process. */
function mainServerRole(o) {
  const stats = newStats();
  const mon = new Monitor('server', warmupMs(o), o.rssTolerance, o.heapTolerance);
  const map = new Map();
  const server = startServer(map, stats);
  const args = [__filename, '--role', 'clients', '--port', String(server.port), '--backend', o.backend, '--churners', String(o.churners), '--streamers', String(o.streamers), '--window', String(o.window), '--max-duration', String(o.maxDuration), '--rss-tolerance', String(o.rssTolerance), '--heap-tolerance', String(o.heapTolerance), '--report', String(o.report), '--warmup', String(warmupMs(o) / 1000)];
  if (o.duration !== null) args.push('--duration', String(o.duration));
  if (o.connections !== null) args.push('--connections', String(o.connections));
  if (o.messages !== null) args.push('--messages', String(o.messages));
  if (o.json) args.push('--json');
  const child = spawn(process.execPath, args, { stdio: ['inherit', 'pipe', 'inherit'] });
  let childOut = '';
  let childExit = null;
  child.stdout.on('data', (d) => (childOut += d));
  child.on('close', (code, signal) => (childExit = { code, signal }));
  // The server's loop blocks the thread; the child's output and exit are
  // picked up by letting Node's own loop run for a moment every ~100 ms.
  const t0 = Date.now();
  let lastReport = t0;
  const hard = t0 + (o.maxDuration + 90) * 1000;
  const pump = () =>
    new Promise((resolve) => {
      const step = () => {
        const until = Date.now() + 100;
        while (Date.now() < until) {
          loop({ backend: o.backend, map, timeout: 0.02, count: 1 });
          stats.passes++;
        }
        mon.sample();
        if (o.report > 0 && Date.now() - lastReport >= o.report * 1000) {
          lastReport = Date.now();
          const m = process.memoryUsage();
          log(o, `server: ${stats.accepted} accepted, fds ${fdCount()}, RSS ${mb(m.rss)} MB (heap ${mb(m.heapUsed)} MB, external ${mb(m.external)} MB)`);
        }
        if (childExit !== null || Date.now() > hard) return resolve();
        setImmediate(step);
      };
      step();
    });
  return pump().then(async () => {
    if (childExit === null) {
      child.kill('SIGKILL');
      stats.errors.push('the client process did not finish in time');
      await new Promise((r) => child.once('close', r));
    }
    await new Promise((r) => setImmediate(r));
    stats.seconds = (Date.now() - t0) / 1000;
    const end = Date.now() + 10000;
    while (map.size > 1 && Date.now() < end) loop({ backend: o.backend, map, timeout: 0.05, count: 1 });
    if (map.size > 1) stats.errors.push(`${map.size - 1} server channels still open after the clients exited`);
    mon.endRss(); // with every connection closed: what is left over is what leaked
    server.close();
    for (const d of [...map.values()]) d.close();
    releaseBackend(map);
    await new Promise((r) => setImmediate(r));
    mon.endFds();
    const line = childOut.split('\n').find((l) => l.startsWith('CLIENTS '));
    const clients = line ? JSON.parse(line.slice(8)) : null;
    const problems = [...stats.errors];
    if (!clients) problems.push(`no figures from the client process (exit ${JSON.stringify(childExit)})`);
    else problems.push(...clients.failures, ...clients.errors);
    if (childExit && childExit.code !== 0) problems.push(`client process exited ${JSON.stringify(childExit)}`);
    if (clients && clients.serverAccepted !== undefined && stats.accepted < clients.connections) problems.push('the server accepted fewer connections than the clients completed');
    const summary = {
      mode: 'child',
      backend: o.backend,
      seconds: clients ? clients.seconds : stats.seconds,
      connections: clients ? clients.connections : 0,
      connectionsByEnd: clients ? clients.connectionsByEnd : null,
      messages: clients ? clients.messages : 0,
      streamedMessages: clients ? clients.streamedMessages : 0,
      echoedBytes: stats.bytes,
      serverAccepted: stats.accepted,
      serverClosed: stats.closed,
      serverPasses: stats.passes,
      clientPasses: clients ? clients.passes : 0,
      server: mon.summary(),
      clients: clients ? clients.monitor : null,
      failures: problems.slice(0, 20),
    };
    return finish(o, summary, problems);
  });
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.role === 'clients') return Promise.resolve(mainClientRole(o));
  log(o, `backend ${o.backend}, clients ${o.clients}, ${o.churners} churners, ${o.streamers} streamers; ` +
    (o.duration !== null ? `${o.duration} s` : `until ${o.connections ?? '-'} connections / ${o.messages ?? '-'} messages`));
  if (o.clients === 'inline') return Promise.resolve(mainInline(o));
  // Node keeps one fd (/dev/null) open from its first child process on: start one
  // before counting, so the count at start and at the end see the same Node internals.
  return new Promise((resolve) => spawn(process.execPath, ['-e', ''], { stdio: ['inherit', 'pipe', 'inherit'] }).on('close', () => setImmediate(resolve))).then(() =>
    mainServerRole(o),
  );
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`soak: crashed: ${err && err.stack}\n`);
    process.exitCode = 1;
  },
);
