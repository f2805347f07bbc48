#!/usr/bin/env node
/**
 * `npm run examples`: run every program in examples/, compiled, one after the
 * other, each with a time limit; exit 1 if any of them fails.
 *
 *   node scripts/run-examples.js [name …] [--timeout=SECONDS]
 *
 * The examples are compiled first (tsc -p examples/tsconfig.json, which also
 * rebuilds dist/lib) when dist/examples is missing or older than a source in
 * examples/ or lib/. Every top-level examples/*.ts is an example; helpers live
 * in subfolders (examples/support/). Most examples run to completion and must
 * exit 0. Two are driven specially when present:
 *   - chat_server runs with `--demo` (it drives its own clients and exits);
 *   - http_server is a server: it is started, must print the port it listens
 *     on, is asked for `/` over HTTP, and is then stopped with SIGTERM.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples');
const DIST = path.join(ROOT, 'dist');

/** The order examples run in; any other example runs after these, alphabetically. */
const ORDER = ['echo', 'file_dispatcher', 'http_client', 'loop_count', 'chat_server', 'http_server'];
/** How to run the examples that are not a plain run-to-completion program. */
const SPECIAL = {
  chat_server: { args: ['--demo'] },
  http_server: { server: true },
};

// ---- compiling ---------------------------------------------------------------------

/** `[source, output]` for every .ts under `dir` (relative to ROOT), recursively. */
function sourcesUnder(dir) {
  const out = [];
  const walk = (rel) => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) return;
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(r);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push([path.join(ROOT, r), path.join(DIST, r.replace(/\.ts$/, '.js'))]);
    }
  };
  walk(dir);
  return out;
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** The first reason dist/examples needs a compile, or null when it is up to date. */
function staleReason() {
  const config = path.join(EXAMPLES, 'tsconfig.json');
  const lib = sourcesUnder('lib');
  for (const [src, out] of [...sourcesUnder('examples'), ...lib]) {
    const built = mtime(out);
    // A lib/ file no example imports is never emitted by this compile: only its staleness counts.
    if (built < 0 && lib.some(([l]) => l === src)) continue;
    if (built < 0) return `${path.relative(ROOT, out)} is missing`;
    if (mtime(src) > built || mtime(config) > built) return `${path.relative(ROOT, src)} is newer than its output`;
  }
  return null;
}

/**
 * Compile the examples (and the library they import) when dist/examples is
 * missing or stale. A type error fails, unless `allowTypeErrors` (tsc still
 * emits JavaScript then; the tests use this, type checking being
 * `npm run typecheck`'s job).
 */
function ensureCompiled({ quiet = false, allowTypeErrors = false } = {}) {
  const why = staleReason();
  if (why === null) return;
  if (!quiet) console.log(`compiling examples (${why}): tsc -p examples/tsconfig.json`);
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(EXAMPLES, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    if (allowTypeErrors && r.status === 2 && staleReason() === null) {
      if (!quiet) console.warn(`tsc reported errors but emitted everything:\n${r.stdout}${r.stderr}`);
      return;
    }
    throw new Error(`tsc -p examples/tsconfig.json failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}):\n${r.stdout}${r.stderr}`);
  }
}

/** The examples present: top-level examples/*.ts, in ORDER, then the others alphabetically. */
function listExamples() {
  const names = fs
    .readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3));
  const rank = (n) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The compiled file of example `name`. */
function compiledPath(name) {
  return path.join(DIST, 'examples', `${name}.js`);
}

// ---- running -----------------------------------------------------------------------

/** Stop a child we started: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
function stop(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  child.once('exit', () => clearTimeout(t));
}

/** Wait for the child's exit: `{ code, signal }`. */
function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Run a program that must finish on its own, with exit code 0, within `timeoutMs`. */
async function runToCompletion(file, args, timeoutMs) {
  const child = spawn(process.execPath, [file, ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop(child);
  }, timeoutMs);
  const { code, signal } = await exited(child);
  clearTimeout(timer);
  if (timedOut) return `timed out after ${timeoutMs / 1000} s`;
  if (signal) return `killed by ${signal}`;
  if (code !== 0) return `exit code ${code}`;
  return null;
}

/** A port number in a line a server prints when it starts ("listening on ['127.0.0.1', 8080]", "…:8080", "port 8080"). */
function portIn(line) {
  if (!/listen|serv|bound|bind|port|http:\/\//i.test(line)) return null;
  const m = /(?:port\s*[=:]?\s*|(?:\d{1,3}\.){3}\d{1,3}['"]?\s*[:,]\s*|localhost['"]?\s*[:,]\s*|['"][0-9a-f:]+['"]\s*,\s*|\]:)(\d{1,5})\b/i.exec(line);
  const port = m ? Number(m[1]) : 0;
  return port > 0 && port < 65536 ? port : null;
}

function httpGet(port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let size = 0;
      res.on('data', (d) => (size += d.length));
      res.on('end', () => resolve({ status: res.statusCode, size }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
  });
}

/** Start a server example, wait for its port, GET `/`, stop it. */
async function runServer(file, args, timeoutMs) {
  const child = spawn(process.execPath, [file, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    stop(child);
  }, timeoutMs);
  try {
    const port = await new Promise((resolve, reject) => {
      let pending = '';
      const onData = (chunk) => {
        process.stdout.write(chunk);
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop();
        for (const line of lines) {
          const p = portIn(line);
          if (p !== null) {
            child.stdout.off('data', onData);
            child.stdout.on('data', (c) => process.stdout.write(c));
            resolve(p);
            return;
          }
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code, signal) =>
        reject(new Error(timedOut ? `printed no port within ${timeoutMs / 1000} s` : `exited (${signal ?? `code ${code}`}) before printing the port it listens on`)),
      );
    });
    const res = await httpGet(port, Math.min(10000, timeoutMs));
    console.log(`[run-examples] GET http://127.0.0.1:${port}/ -> ${res.status}, ${res.size} bytes`);
    if (res.status < 200 || res.status >= 400) return `GET / answered ${res.status}`;
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(deadline);
    stop(child);
    await exited(child);
  }
}

async function main(argv) {
  const timeoutArg = argv.find((a) => a.startsWith('--timeout='));
  const timeoutMs = timeoutArg ? Number(timeoutArg.slice('--timeout='.length)) * 1000 : 60000;
  const wanted = argv.filter((a) => !a.startsWith('--'));

  ensureCompiled();
  const present = listExamples();
  const unknown = wanted.filter((n) => !present.includes(n));
  if (unknown.length > 0) {
    console.error(`no such example: ${unknown.join(', ')} (present: ${present.join(', ')})`);
    return 2;
  }
  const names = wanted.length > 0 ? wanted : present;

  const results = [];
  for (const name of names) {
    const spec = SPECIAL[name] ?? {};
    const args = spec.args ?? [];
    console.log(`\n=== ${name} ${args.join(' ')}`.trimEnd());
    const started = Date.now();
    const failure = fs.existsSync(compiledPath(name))
      ? await (spec.server ? runServer : runToCompletion)(compiledPath(name), args, timeoutMs)
      : `${path.relative(ROOT, compiledPath(name))} was not built`;
    results.push({ name, failure, seconds: (Date.now() - started) / 1000 });
  }

  console.log('\n=== summary');
  for (const r of results) console.log(`${r.failure ? 'FAIL' : 'ok  '} ${r.name.padEnd(16)} ${r.seconds.toFixed(2)} s${r.failure ? `  ${r.failure}` : ''}`);
  const failed = results.filter((r) => r.failure).length;
  console.log(failed ? `${failed} of ${results.length} examples failed` : `all ${results.length} examples passed`);
  return failed ? 1 : 0;
}

module.exports = { ensureCompiled, staleReason, listExamples, compiledPath, portIn, runToCompletion, runServer };

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
