#!/usr/bin/env node
// Fails when a Linux glibc build of the addon asks the C or C++ runtime for a
// symbol version newer than Node 18's floor, i.e. when it would not load on a
// distribution that Node 18 itself runs on (RHEL 8: glibc 2.28 and GCC 8's
// libstdc++). Reads the dynamic symbol table with `objdump -T`.
//
//   node scripts/ci/check-symbols.js FILE.node...
//
// OBJDUMP names the objdump to use (default: objdump, which on Debian reads
// x86-64 only; use aarch64-linux-gnu-objdump for arm64 files). Prints the
// versions each file needs, the offending symbols if any, and exits 1 then.
'use strict';
const { execFileSync } = require('node:child_process');

// Ceilings: glibc 2.28 (Node 18's own floor), libstdc++ and libgcc of GCC 8.
const CEILINGS = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11', GCC: '8.0.0' };

function compare(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

function check(file) {
  const objdump = process.env.OBJDUMP || 'objdump';
  const table = execFileSync(objdump, ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const needed = new Map(); // "GLIBC_2.28" -> count
  const bad = [];
  for (const line of table.split('\n')) {
    const m = /\(?\b(GLIBCXX|GLIBC|CXXABI|GCC)_([0-9.]+)\)?\s+(\S+)\s*$/.exec(line);
    if (!m || !/\*UND\*/.test(line)) continue; // only what the file asks others for
    const [, lib, version, symbol] = m;
    const key = `${lib}_${version}`;
    needed.set(key, (needed.get(key) || 0) + 1);
    if (compare(version, CEILINGS[lib]) > 0) bad.push(`${symbol} needs ${key} (newer than ${lib}_${CEILINGS[lib]})`);
  }
  const sorted = [...needed.keys()].sort((a, b) => {
    const [la, va] = a.split('_');
    const [lb, vb] = b.split('_');
    return la === lb ? compare(va, vb) : la.localeCompare(lb);
  });
  const newest = {};
  for (const key of sorted) newest[key.split('_')[0]] = key;
  console.log(`${file}: newest versions needed: ${Object.values(newest).join(', ') || 'none'}`);
  for (const line of bad) console.error(`  ${line}`);
  return bad.length === 0;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: check-symbols.js FILE.node...');
  process.exit(2);
}
let ok = true;
for (const file of files) ok = check(file) && ok;
if (!ok) {
  console.error(`symbol versions above the ceilings ${JSON.stringify(CEILINGS)}: the addon would not load where Node 18 runs`);
  process.exit(1);
}
