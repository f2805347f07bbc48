'use strict';
/*
 * The non-libuv peers of the benchmark: Bun (Bun.listen, uSockets over
 * epoll) and Deno (Deno.listen, tokio over epoll). Their binaries come from
 * npm packages of about 100 MB each, so they are not devDependencies: they
 * are fetched when a run asks for them (`--peers bun,deno`) into a cache
 * folder and found there by later runs.
 *
 * Where a binary is taken from, first match wins:
 *   1. $BENCH_BUN / $BENCH_DENO (a path to the binary);
 *   2. the cache: <cache>/<id>-<version>/node_modules/<package>/<bin>;
 *   3. when the run asks for the peer: `npm install` of the pinned version
 *      into the cache (the registry's ordinary client; nothing else is
 *      downloaded);
 *   4. `bun` / `deno` on PATH.
 * A peer found nowhere is skipped with a note saying how to get it.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// Pinned so that figures of different days compare the same peer.
const PEERS = {
  bun: {
    name: 'Bun',
    version: '1.4.5',
    packages: { x64: '@oven/bun-linux-x64', arm64: '@oven/bun-linux-aarch64' },
    bin: 'bin/bun',
    envVar: 'BENCH_BUN',
    command: 'bun',
  },
  deno: {
    name: 'Deno',
    version: '2.9.6',
    packages: { x64: '@deno/linux-x64-glibc', arm64: '@deno/linux-arm64-glibc' },
    bin: 'deno',
    envVar: 'BENCH_DENO',
    command: 'deno',
  },
};

/** The version a binary reports (`bun --version` → 1.4.5, `deno --version` → 2.9.6), or null when it does not run. */
function versionOf(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) return null;
  const m = /(\d+\.\d+\.\d+)/.exec(r.stdout || '');
  return m ? m[1] : null;
}

function onPath(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** `npm install` of the peer's package into its cache folder; null on success, else why not. */
function fetchPeer(spec, pkg, dir, note) {
  note(`fetching ${pkg}@${spec.version} into ${dir} (npm install, about 100 MB)`);
  fs.mkdirSync(dir, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund',
    '--ignore-scripts', '--loglevel', 'error', `${pkg}@${spec.version}`], { encoding: 'utf8', timeout: 300000 });
  if (r.status === 0) return null;
  const why = (r.error ? r.error.message : (r.stderr || '').trim().split('\n').filter(Boolean).pop()) || `status ${r.status}`;
  return `npm install ${pkg}@${spec.version} failed: ${why}`;
}

/**
 * Find (and, when `fetch`, fetch) a peer's binary.
 * Returns { ok: true, path, version, source } or { ok: false, why }.
 */
function locatePeer(id, { cacheDir, fetch, note = () => {} }) {
  const spec = PEERS[id];
  if (!spec) return { ok: false, why: `unknown peer ${id}` };
  const found = (bin, source) => {
    const version = versionOf(bin);
    return version ? { ok: true, path: bin, version, source } : null;
  };
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    return found(fromEnv, `$${spec.envVar}`) || { ok: false, why: `$${spec.envVar}=${fromEnv} does not run (\`${fromEnv} --version\` failed)` };
  }
  const pkg = process.platform === 'linux' ? spec.packages[process.arch] : undefined;
  const dir = path.join(cacheDir, `${id}-${spec.version}`);
  const cached = pkg ? path.join(dir, 'node_modules', ...pkg.split('/'), spec.bin) : null;
  let fetchWhy = null;
  let source = 'cache';
  if (cached) {
    if (!fs.existsSync(cached) && fetch) {
      fetchWhy = fetchPeer(spec, pkg, dir, note);
      source = 'fetched';
    }
    if (fs.existsSync(cached)) {
      const hit = found(cached, source);
      if (hit) return hit;
      fetchWhy = `${cached} does not run`;
    }
  }
  const sys = onPath(spec.command);
  if (sys) {
    const hit = found(sys, 'PATH');
    if (hit) return hit;
  }
  if (fetchWhy) return { ok: false, why: fetchWhy };
  if (!pkg) return { ok: false, why: `no ${spec.name} package for ${process.platform}-${process.arch}; set $${spec.envVar}` };
  return { ok: false, why: `not in ${path.relative(process.cwd(), dir) || dir} (run with --peers ${id} to fetch ${pkg}@${spec.version}, or set $${spec.envVar})` };
}

module.exports = { PEERS, locatePeer };
