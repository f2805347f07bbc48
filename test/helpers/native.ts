/**
 * Load the library (and with it the native addon) before a test file's own
 * imports, retrying for a while when the addon is briefly missing or
 * half-written because someone is rebuilding it. A failed require is dropped
 * from jest's module registry, so a later attempt loads afresh; once it
 * succeeds, the test file's `import … from '../lib'` gets the cached module.
 *
 * Import it first: `import './helpers/native';`
 */
const ATTEMPTS = 40;
const PAUSE_MS = 500;
const pause = new Int32Array(new SharedArrayBuffer(4));

function looksLikeABuildInProgress(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  return /native addon|\.node\b|dlopen|ELF|invalid ELF|file too short|No such file|ENOENT|Cannot find module|undefined symbol/i.test(text);
}

for (let attempt = 1; ; attempt++) {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../../lib');
    break;
  } catch (err) {
    if (attempt >= ATTEMPTS || !looksLikeABuildInProgress(err)) throw err;
    Atomics.wait(pause, 0, 0, PAUSE_MS);
  }
}

export {};
