#!/usr/bin/env node
'use strict';
/**
 * The differential harness: every scenario in scenarios/ is a pair, NAME.py
 * on CPython's asyncore/asynchat and NAME.js on this library (dist/, so
 * build first), each printing a trace of every callback and the state it
 * saw. This runs both, normalises what may differ by design (below), and
 * compares them line by line. One scenario is one test.
 *
 *   node scripts/differential/run.js [--repeat N] [--json FILE] [NAME-FILTER...]
 *
 * --repeat N  runs the Python side N times (default 1) and fails a scenario
 *             whose CPython trace is not the same every time
 * --json FILE writes {passed, failed, skipped, scenarios: [{name, ok, why}]}
 *
 * Without a Python that imports asyncore (3.11 or older, or the pyasyncore /
 * pyasynchat backports) it says so and exits 0 with every scenario skipped.
 * $PYTHON picks the interpreter (default python3).
 *
 * Normalised on both sides (the port's documented differences, not drifts):
 * - `<module.Class ... at 0x7f…>` becomes `<Class ... at 0xID>`, and asyncore's
 *   class names become the port's (dispatcher -> Dispatcher, …);
 * - ephemeral ports become PORT;
 * - in handle_error's log line, "python exception" is "exception", the
 *   exception is `Name:message` (Python's `<class 'Name'>`, an OSError
 *   subclass is OSError, and the port's `[Errno N] CODE: text (call)` is
 *   Python's `[Errno N] text`), and the traceback frames are dropped.
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const HERE = __dirname;
const SCENARIOS = path.join(HERE, 'scenarios');
const PYTHON = process.env.PYTHON || 'python3';
const TIMEOUT_MS = 60000;

const CLASS_NAMES = { dispatcher: 'Dispatcher', dispatcher_with_send: 'DispatcherWithSend', async_chat: 'AsyncChat', file_dispatcher: 'FileDispatcher' };
const OSERROR_CLASSES = /\b(?:OSError|BlockingIOError|ConnectionError|ConnectionRefusedError|ConnectionResetError|ConnectionAbortedError|BrokenPipeError|FileNotFoundError|PermissionError|TimeoutError|InterruptedError|ChildProcessError|FileExistsError|IsADirectoryError|NotADirectoryError|ProcessLookupError):\[Errno/g;

function normalise(text) {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/<(?:\w+\.)*(\w+)((?: [^<>]*?)?) at 0x[0-9a-f]+>/g, (_, cls, rest) => `<${CLASS_NAMES[cls] ?? cls}${rest} at 0xID>`)
        .replace(/<(?:__repr__\(self\)|toString\(\)) failed for object at [0-9a-f]+>/g, "<repr failed for object at ID>")
        .replace(/\b((?:\d{1,3}\.){3}\d{1,3}):[1-9]\d*/g, '$1:PORT')
        .replace(/('(?:(?:\d{1,3}\.){3}\d{1,3}|::1|::ffff:[\d.]+)', )[1-9]\d*/g, '$1PORT')
        .replace(/uncaptured python exception/, 'uncaptured exception')
        .replace(/\(<class '(?:\w+\.)*(\w+)'>:/, '($1:')
        .replace(OSERROR_CLASSES, 'OSError:[Errno')
        .replace(/(\[Errno \d+\]) E[A-Z0-9]+: ([^[]*?)(?: \(\w+\))?(?= \[|\)$)/, '$1 $2')
        .replace(/ (?:\[[^\]|]*\|[^\]|]*\|[^\]|]*\])+(?: \[[^\]|]*\|[^\]|]*\|[^\]|]*\])*\)$/, ')'),
    )
    .join('\n');
}

function runOne(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: SCENARIOS, env: { ...process.env, PYTHONPATH: HERE, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ out, err, code, signal });
    });
  });
}

function firstDifference(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      const from = Math.max(0, i - 2);
      const show = (lines, mark) => lines.slice(from, i + 4).map((l, k) => `    ${from + k === i ? mark : ' '} ${l ?? '<end>'}`);
      return `line ${i + 1} differs\n  CPython:\n${show(x, '>').join('\n')}\n  asyncore-node:\n${show(y, '>').join('\n')}`;
    }
  }
  return '';
}

async function scenario(name, repeat) {
  const py = [];
  for (let i = 0; i < repeat; i++) {
    const res = await runOne(PYTHON, ['-W', 'ignore', `${name}.py`]);
    if (res.code !== 0) return { ok: false, why: `CPython run ${i + 1} exited ${res.code ?? res.signal}:\n${res.err.trim()}` };
    py.push(normalise(res.out));
    if (i > 0 && py[i] !== py[0]) return { ok: false, why: `not deterministic on CPython (run ${i + 1} differs from run 1):\n${firstDifference(py[0], py[i])}` };
  }
  const js = await runOne(process.execPath, [`${name}.js`]);
  if (js.code !== 0) return { ok: false, why: `node exited ${js.code ?? js.signal}:\n${js.err.trim()}` };
  const got = normalise(js.out);
  if (got !== py[0]) return { ok: false, why: firstDifference(py[0], got) };
  if (py[0].trim() === '') return { ok: false, why: 'empty trace' };
  return { ok: true, lines: py[0].split('\n').length - 1 };
}

async function main() {
  const argv = process.argv.slice(2);
  let repeat = 1;
  let jsonFile = null;
  const filters = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeat') repeat = Number(argv[++i]);
    else if (argv[i] === '--json') jsonFile = argv[++i];
    else filters.push(argv[i]);
  }
  const names = fs
    .readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.py'))
    .map((f) => f.slice(0, -3))
    .filter((n) => filters.length === 0 || filters.some((f) => n.includes(f)))
    .sort();
  const results = [];
  const report = () => {
    const passed = results.filter((x) => x.ok === true).length;
    const failed = results.filter((x) => x.ok === false).length;
    const skipped = results.filter((x) => x.ok === null).length;
    if (jsonFile) fs.writeFileSync(jsonFile, JSON.stringify({ passed, failed, skipped, scenarios: results }, null, 2));
    console.log(`differential: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exitCode = failed ? 1 : 0;
  };

  const probe = spawnSync(PYTHON, ['-W', 'ignore', '-c', 'import asyncore, asynchat, sys; print(sys.version.split()[0])'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.log(`differential: SKIPPED: ${PYTHON} cannot import asyncore/asynchat (Python 3.12+ needs the pyasyncore and pyasynchat backports)`);
    for (const name of names) results.push({ name, ok: null, why: 'no asyncore' });
    return report();
  }
  if (!fs.existsSync(path.join(HERE, '..', '..', 'dist', 'lib', 'index.js'))) {
    console.error('differential: dist/ is missing: run `npm run build` first');
    process.exitCode = 2;
    return;
  }
  console.log(`differential: ${names.length} scenarios, CPython ${probe.stdout.trim()} (each run ${repeat}x) against dist/`);
  // Two at a time: the machine may be shared, and every scenario is short.
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      const res = await scenario(name, repeat);
      results.push({ name, ok: res.ok, why: res.why ?? '' });
      console.log(`${res.ok ? 'ok  ' : 'FAIL'} ${name}${res.ok ? ` (${res.lines} lines)` : `\n${res.why.replace(/^/gm, '    ')}`}`);
    }
  };
  await Promise.all([worker(), worker()]);
  results.sort((a, b) => a.name.localeCompare(b.name));
  report();
}

main();
