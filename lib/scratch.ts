/**
 * Reusable typed arrays for the readiness calls: grown by doubling and kept
 * between calls, so a wait allocates nothing of its own (libuv's
 * `uv__pollfds_maybe_resize`). Internal to the library.
 * @internal
 */

/** The smallest doubling of `current` that holds `needed` elements. @internal */
export function grownCapacity(current: number, needed: number): number {
  let cap = Math.max(current, 1);
  while (cap < needed) cap *= 2;
  return cap;
}

/** Three Int32Arrays of one length (fds, events, results), grown together. @internal */
export class IntArrays {
  a = new Int32Array(64);
  b = new Int32Array(64);
  c = new Int32Array(64);

  /** Make room for `n` entries (the contents are lost when they grow). */
  ensure(n: number): void {
    if (this.a.length >= n) return;
    const cap = grownCapacity(this.a.length, n);
    this.a = new Int32Array(cap);
    this.b = new Int32Array(cap);
    this.c = new Int32Array(cap);
  }
}
