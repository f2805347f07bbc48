/**
 * The compiled library for tests that run plain-JavaScript child processes
 * (the fuzzer, the SIGPIPE child): dist/lib/index.js when it is up to date
 * with lib/*.ts (`npm test` builds it first), else a fresh compile of lib/
 * into node_modules/.cache/asyncore-test-dist — so that running `npx jest`
 * right after editing lib/ never tests stale code.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

function newestSource(): number {
  let newest = 0;
  for (const f of fs.readdirSync(path.join(root, 'lib'))) {
    if (f.endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(root, 'lib', f)).mtimeMs);
  }
  return newest;
}

function upToDate(indexJs: string, newest: number): boolean {
  const dir = path.dirname(indexJs);
  if (!fs.existsSync(indexJs)) return false;
  for (const f of fs.readdirSync(path.join(root, 'lib'))) {
    if (!f.endsWith('.ts')) continue;
    const js = path.join(dir, f.replace(/\.ts$/, '.js'));
    if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < newest) return false;
  }
  return true;
}

let cached: string | null = null;

/** Absolute path of an index.js compiled from the current lib/. */
export function compiledLib(): string {
  if (cached) return cached;
  const newest = newestSource();
  const dist = path.join(root, 'dist', 'lib', 'index.js');
  if (upToDate(dist, newest)) return (cached = dist);
  const out = path.join(root, 'node_modules', '.cache', 'asyncore-test-dist');
  const index = path.join(out, 'lib', 'index.js');
  if (!upToDate(index, newest)) {
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`compiling lib/ for the child processes failed:\n${r.stdout}\n${r.stderr}`);
  }
  return (cached = index);
}
