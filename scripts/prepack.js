#!/usr/bin/env node
// `npm pack` and `npm publish` run this first (the prepack script), so that a
// fresh clone's `npm ci && npm pack` makes a complete package by itself:
//
//  1. the prebuild for this machine (`npm run build:prebuilds`), unless one is
//     there already and newer than every native source and binding.gyp (the
//     release job downloads the prebuilds of every platform before packing);
//  2. dist/ (`npm run build:ts`);
//  3. scripts/check-package.js, which refuses (exit 1, naming what is absent)
//     when the file list npm would pack lacks anything.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..');

function newestMtime(paths) {
  let newest = 0;
  for (const p of paths) {
    const st = fs.statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtime(fs.readdirSync(p).map((e) => path.join(p, e))));
    else newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

function hostPrebuild() {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const libc = process.platform === 'linux' ? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : null;
  if (!fs.existsSync(dir)) return null;
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.node') && (!libc || f.split('.').includes(libc)));
  return file ? path.join(dir, file) : null;
}

function run(script) {
  console.log(`prepack: npm run ${script}`);
  execFileSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
}

try {
  const prebuild = hostPrebuild();
  const sourcesChanged = newestMtime([path.join(root, 'native'), path.join(root, 'binding.gyp')]);
  if (!prebuild || fs.statSync(prebuild).mtimeMs < sourcesChanged) {
    console.log(prebuild ? `prepack: ${path.relative(root, prebuild)} is older than the native sources` : 'prepack: no prebuild for this machine yet');
    run('build:prebuilds');
  } else {
    console.log(`prepack: using ${path.relative(root, prebuild)}`);
  }
  run('build:ts');
  execFileSync(process.execPath, [path.join(__dirname, 'check-package.js')], { cwd: root, stdio: 'inherit' });
} catch (err) {
  console.error(`prepack: not packing: ${err.message.split('\n')[0]}`);
  process.exit(1);
}
