/**
 * The code cites asyncore's rules as "item N" (docs/asyncore-behaviour.md):
 * every cited number must exist there, so that no citation points nowhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const doc = fs.readFileSync(path.join(root, 'docs', 'asyncore-behaviour.md'), 'utf8');
const defined = new Set([...doc.matchAll(/^\*\*(\d+)\.\*\*/gm)].map((m) => Number(m[1])));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every number an "item N", "items N-M" or "items N, M and K" citation names. */
function cited(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/\bitems? (\d+(?:\s*(?:-|–|,|and)\s*\d+)*)/g)) {
    for (const part of m[1].split(/\s*(?:,|and)\s*/)) {
      const [a, b] = part.split(/\s*[-–]\s*/).map(Number);
      for (let n = a; n <= (b ?? a); n++) out.push(n);
    }
  }
  return out;
}

test('docs/asyncore-behaviour.md defines items 1-89, in order', () => {
  const numbers = [...doc.matchAll(/^\*\*(\d+)\.\*\*/gm)].map((m) => Number(m[1]));
  expect(numbers).toEqual(Array.from({ length: 89 }, (_, i) => i + 1));
});

test('every "item N" cited in lib/ is defined in docs/asyncore-behaviour.md', () => {
  const missing: string[] = [];
  let count = 0;
  for (const file of sources(path.join(root, 'lib'))) {
    for (const n of cited(fs.readFileSync(file, 'utf8'))) {
      count++;
      if (!defined.has(n)) missing.push(`${path.relative(root, file)}: item ${n}`);
    }
  }
  expect(missing).toEqual([]);
  expect(count).toBeGreaterThan(30);
});
