#!/usr/bin/env node
// Checks that the npm package about to be packed is complete, from the very
// list of files `npm pack` would put in it (`npm pack --dry-run --json`), and
// names everything that is missing:
//
//  - the entry points package.json names (main, types, every `exports` target);
//  - the addon's sources (native/sources.txt and each file it lists) and
//    binding.gyp, for the compile-at-install fallback;
//  - a prebuild for this machine's platform, arch and libc, and one for each
//    target in ASYNCORE_REQUIRE_PREBUILDS (comma-separated, e.g.
//    "linux-x64-glibc,linux-arm64-glibc,darwin-arm64": the release job sets it);
//  - the source every shipped source map points at;
//  - the file every relative link of README.md points at (the README is the
//    npm page and the copy in node_modules: link to what the package lacks
//    with an absolute repository URL). docs/*.md ship, so links to them work.
//
//   node scripts/check-package.js    (run by `npm pack` / `npm publish` via prepack)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));

function packedFiles() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [info] = JSON.parse(out);
  return new Set(info.files.map((f) => f.path));
}

function exportTargets(node, out = []) {
  if (typeof node === 'string') out.push(node);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) exportTargets(v, out);
  return out;
}

/** This machine's prebuild target, as prebuildify --tag-libc names it. */
function hostTarget() {
  const libc = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? '-musl' : '-glibc') : '';
  return `${process.platform}-${process.arch}${libc}`;
}

function hasPrebuild(files, target) {
  const m = /^([a-z0-9]+-[a-z0-9]+)(?:-(glibc|musl))?$/.exec(target);
  if (!m) return false;
  const [, dir, libc] = m;
  return [...files].some(
    (f) => f.startsWith(`prebuilds/${dir}/`) && f.endsWith('.node') && (!libc || f.split('.').includes(libc)),
  );
}

function check() {
  const files = packedFiles();
  const missing = new Set();
  const need = (file, why) => {
    const norm = path.posix.normalize(file.replace(/^\.\//, ''));
    if (!files.has(norm)) missing.add(`${norm} (${why})`);
  };

  need(pkg.main, 'package.json main');
  if (pkg.types) need(pkg.types, 'package.json types');
  for (const t of exportTargets(pkg.exports)) need(t, 'package.json exports');
  for (const f of ['binding.gyp', 'native/sources.txt', 'README.md', 'LICENSE']) need(f, 'needed by the package');
  const sources = fs
    .readFileSync(path.join(root, 'native', 'sources.txt'), 'utf8')
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
  for (const s of sources) need(s, 'native/sources.txt: the compile-at-install fallback builds it');

  const targets = [hostTarget(), ...(process.env.ASYNCORE_REQUIRE_PREBUILDS || '').split(',').map((s) => s.trim()).filter(Boolean)];
  for (const t of new Set(targets)) {
    if (!hasPrebuild(files, t)) missing.add(`prebuilds/ for ${t} (run \`npm run build:prebuilds\` on that platform)`);
  }

  for (const f of files) {
    if (!f.endsWith('.map')) continue;
    const map = JSON.parse(fs.readFileSync(path.join(root, f), 'utf8'));
    for (const s of map.sources || []) need(path.posix.join(path.posix.dirname(f), map.sourceRoot || '', s), `source of ${f}`);
  }

  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  for (const [, link] of readme.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (/^(?:[a-z][a-z0-9+.-]*:|#)/i.test(link)) continue; // a URL or an anchor of the README itself
    const file = decodeURI(link.split('#')[0]).replace(/\/$/, '');
    const isDir = [...files].some((f) => f.startsWith(`${file}/`));
    if (!isDir) need(file, `README.md links to ${link}: use an absolute URL, or ship the file`);
  }

  if (missing.size > 0) {
    console.error(`check-package: the package would be incomplete (${files.size} files); missing:`);
    for (const m of missing) console.error(`  - ${m}`);
    return false;
  }
  console.log(`check-package: ${files.size} files, complete (prebuilds for ${[...new Set(targets)].join(', ')})`);
  return true;
}

if (!check()) process.exit(1);
