/**
 * AsyncChat under bad input (issue #7): terminators split across every
 * possible chunk boundary, a peer that never sends the terminator, prefix
 * floods, huge integer terminators (2**31 and beyond), and the opt-in
 * maxIncomingBuffer limit against all of these.
 *
 * Exhaustive splitting feeds handleRead() directly (recv() is replaced by a
 * queue of chunks, so each chunk is exactly one read); the flood tests go
 * through real sockets and the loop, next to a healthy echo pair.
 */
import './fixtures/faults';
import fc from 'fast-check';
import { AsyncChat, BufferOverflowError, socket, type SocketMap } from '../lib';
import { drain, faultBackends, HealthyPair, runUntil, type BackendName } from './fixtures/faults';

jest.setTimeout(120000);

const EMPTY = Buffer.alloc(0);
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---- the model ---------------------------------------------------------------------------

/** Records of `stream` for a byte-string terminator, by leftmost search (what asynchat must produce), plus the unterminated tail. */
function modelSplit(stream: Buffer, term: Buffer): { records: Buffer[]; tail: Buffer } {
  const records: Buffer[] = [];
  let from = 0;
  for (;;) {
    const i = stream.indexOf(term, from);
    if (i < 0) break;
    records.push(stream.subarray(from, i));
    from = i + term.length;
  }
  return { records, tail: stream.subarray(from) };
}

// ---- a chat fed chunk by chunk ---------------------------------------------------------------

/**
 * An AsyncChat whose recv() hands out queued chunks (at most `n` bytes each,
 * as a socket would): each feed() is exactly one handleRead(). It records
 * each record (the collected data joined at every foundTerminator()).
 */
class Fed extends AsyncChat {
  private queue: Buffer[] = [];
  records: Buffer[] = [];
  current: Buffer[] = [];
  currentLen = 0;
  maxCurrent = 0;
  maxInBuffer = 0;
  errors: unknown[] = [];
  collected = 0;
  onRecord: ((rec: Buffer) => void) | null = null;

  constructor(term: Buffer | number | null) {
    super(null, new Map());
    this.connected = true;
    this.setTerminator(term);
  }
  override recv(n: number): Buffer {
    const c = this.queue.shift();
    if (c === undefined) return EMPTY;
    if (c.length > n) {
      this.queue.unshift(c.subarray(n));
      return c.subarray(0, n);
    }
    return c;
  }
  feed(chunk: Buffer): void {
    this.queue.push(chunk);
    while (this.queue.length > 0 && this.connected) {
      this.handleRead();
      this.maxInBuffer = Math.max(this.maxInBuffer, this.acInBuffer.length);
    }
  }
  override collectIncomingData(data: Buffer): void {
    this.collected += data.length;
    this.current.push(Buffer.from(data)); // a copy: the chat may hand out views of a reused buffer
    this.currentLen += data.length;
    this.maxCurrent = Math.max(this.maxCurrent, this.currentLen);
  }
  override foundTerminator(): void {
    const rec = Buffer.concat(this.current);
    this.current = [];
    this.currentLen = 0;
    this.records.push(rec);
    if (this.onRecord) this.onRecord(rec);
  }
  /** What is held but not yet a record: collected data plus the input buffer. */
  tail(): Buffer {
    return Buffer.concat([...this.current, this.acInBuffer]);
  }
  override handleError(err: unknown): void {
    this.errors.push(err);
    this.close();
  }
  override close(): void {
    this.connected = false; // no socket: nothing else to do
  }
}

function runChunks(term: Buffer, chunks: Buffer[]): Fed {
  const f = new Fed(term);
  for (const c of chunks) f.feed(c);
  return f;
}

function expectModel(f: Fed, stream: Buffer, term: Buffer): void {
  const m = modelSplit(stream, term);
  expect(f.errors).toEqual([]);
  expect(f.records.map((r) => r.toString('latin1'))).toEqual(m.records.map((r) => r.toString('latin1')));
  expect(f.tail().toString('latin1')).toBe(m.tail.toString('latin1'));
  // Only a partial terminator ever waits in the input buffer (plus at most one read while it is split).
  expect(f.acInBuffer.length).toBeLessThan(term.length);
}

/** Streams whose records are made of the terminator's own bytes, so its prefixes turn up everywhere. */
function trickyStream(term: Buffer, records: number, seed: number): Buffer {
  let x = seed;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  const parts: Buffer[] = [];
  for (let r = 0; r < records; r++) {
    const len = rnd(term.length * 3 + 2);
    const rec = Buffer.alloc(len);
    for (let i = 0; i < len; i++) rec[i] = term[rnd(term.length)];
    parts.push(rec, term);
  }
  // an unterminated tail that ends in a proper prefix of the terminator
  parts.push(term.subarray(0, Math.max(0, term.length - 1)));
  return Buffer.concat(parts);
}

const TERMS = ['\n', '\r\n', 'aab', 'abab', 'abcabd', '\r\n.\r\n', '\x00\xff\x00'].map(b);

describe('asynchat: terminators split across every chunk boundary', () => {
  test.each(TERMS.map((t) => [JSON.stringify(t.toString('latin1')), t] as const))('terminator %s: every 2-way split, every 3-way split and byte by byte give the model records', (_name, term) => {
    const stream = trickyStream(term, 6, term.length * 7 + 1);
    const n = stream.length;
    // one read
    expectModel(runChunks(term, [stream]), stream, term);
    // byte by byte
    expectModel(
      runChunks(
        term,
        [...stream].map((x) => Buffer.from([x])),
      ),
      stream,
      term,
    );
    // every 2-way split
    for (let p = 0; p <= n; p++) expectModel(runChunks(term, [stream.subarray(0, p), stream.subarray(p)]), stream, term);
    // every 3-way split of a shorter stream
    const short = stream.subarray(0, Math.min(n, 48));
    for (let p = 0; p <= short.length; p++)
      for (let q = p; q <= short.length; q++) expectModel(runChunks(term, [short.subarray(0, p), short.subarray(p, q), short.subarray(q)]), short, term);
  });

  test('a small acInBufferSize (reads shorter than the terminator) changes nothing', () => {
    for (const term of TERMS) {
      const stream = trickyStream(term, 20, 99);
      for (const size of [1, 2, 3, 5]) {
        const f = new Fed(term);
        f.acInBufferSize = size;
        f.feed(stream);
        const m = modelSplit(stream, term);
        expect(f.records.map((r) => r.toString('latin1'))).toEqual(m.records.map((r) => r.toString('latin1')));
        expect(f.tail().equals(m.tail)).toBe(true);
      }
    }
  });

  test('a protocol that switches terminators (a length line, then a counted body) parses the same for every 2-way split and byte by byte', () => {
    // "<n>\r\n" then n bytes of body (which may hold "\r\n"), repeated.
    const bodies = ['', 'x', '\r\n', 'ab\r\ncd', '\r', '\n\n\n', '12\r\n34\r\n'].map(b);
    const stream = Buffer.concat(bodies.flatMap((body) => [b(`${body.length}\r\n`), body]));
    class Proto extends Fed {
      got: string[] = [];
      constructor() {
        super(b('\r\n'));
        this.onRecord = (rec) => {
          if (typeof this.terminator === 'number') {
            this.got.push(rec.toString('latin1'));
            this.setTerminator('\r\n');
          } else {
            const len = Number(rec.toString('latin1'));
            // A count of 0 would mean "no terminator": an empty body is recorded at once.
            if (len === 0) this.got.push('');
            else this.setTerminator(len);
          }
        };
      }
    }
    const want = bodies.map((x) => x.toString('latin1'));
    const check = (chunks: Buffer[]): void => {
      const p = new Proto();
      for (const c of chunks) p.feed(c);
      expect(p.errors).toEqual([]);
      expect(p.got).toEqual(want);
      expect(p.acInBuffer.length).toBe(0);
    };
    check([stream]);
    check([...stream].map((x) => Buffer.from([x])));
    for (let i = 0; i <= stream.length; i++) check([stream.subarray(0, i), stream.subarray(i)]);
  });

  test('random chunkings of random streams (fast-check) match the model', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TERMS),
        fc.array(fc.constantFrom(0x61, 0x62, 0x63, 0x64, 0x0a, 0x0d, 0x2e, 0x00, 0xff), { maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 60 }),
        (term, bytes, cuts) => {
          const stream = Buffer.from(bytes);
          const chunks: Buffer[] = [];
          let at = 0;
          for (const c of cuts) {
            if (at >= stream.length) break;
            chunks.push(stream.subarray(at, at + c));
            at += c;
          }
          chunks.push(stream.subarray(at));
          expectModel(runChunks(term, chunks), stream, term);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('asynchat: adversarial input, fed directly', () => {
  test('no terminator ever: the input buffer stays below the terminator length; every byte is collected', () => {
    for (const term of TERMS) {
      const f = new Fed(term);
      const junk = Buffer.alloc(64 * 1024, 0x7a); // 'z': in no terminator
      for (let i = 0; i < 64; i++) f.feed(junk); // 4 MiB
      expect(f.records).toHaveLength(0);
      expect(f.collected).toBe(64 * junk.length);
      expect(f.maxInBuffer).toBeLessThanOrEqual(junk.length + term.length); // one read at most, between splits
      expect(f.acInBuffer.length).toBe(0);
    }
  });

  test('a flood of terminator prefixes (e.g. "\\r" for "\\r\\n", "abcab" for "abcabd") keeps the input buffer below the terminator length', () => {
    for (const [term, unit] of [
      [b('\r\n'), b('\r')],
      [b('abcabd'), b('abcab')],
      [b('aab'), b('a')],
      [b('\r\n.\r\n'), b('\r\n.\r')],
    ] as const) {
      const f = new Fed(term);
      const flood = Buffer.concat(Array.from({ length: 4096 }, () => unit));
      for (let i = 0; i < 32; i++) f.feed(flood);
      expect(f.records).toHaveLength(0);
      expect(f.acInBuffer.length).toBeLessThan(term.length);
      expect(f.collected + f.acInBuffer.length).toBe(32 * flood.length);
    }
  });

  test.each([2 ** 31, 2 ** 31 + 1, 2 ** 32 + 5, 2 ** 53 - 1])('a huge integer terminator (%d): everything is collected, nothing is buffered, the count goes down exactly', (big) => {
    const f = new Fed(big);
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    let fed = 0;
    for (let i = 0; i < 32; i++) {
      f.feed(chunk); // 8 MiB in all
      fed += chunk.length;
      expect(f.acInBuffer.length).toBe(0);
    }
    expect(f.records).toHaveLength(0);
    expect(f.collected).toBe(fed);
    expect(f.getTerminator()).toBe(big - fed);
    // With the limit on, integer terminators are still not limited (the count is the application's choice).
    const g = new Fed(big);
    g.maxIncomingBuffer = 1024;
    g.feed(chunk);
    expect(g.errors).toEqual([]);
    expect(g.collected).toBe(chunk.length);
  });

  test('an integer terminator that is reached exactly fires once, then the count stays 0 and the rest is collected wholesale (item 75)', () => {
    const f = new Fed(2 ** 20 + 3);
    const data = Buffer.alloc(2 ** 20 + 10, 0x42);
    f.feed(data.subarray(0, 1000));
    f.feed(data.subarray(1000));
    expect(f.records).toHaveLength(1);
    expect(f.records[0].length).toBe(2 ** 20 + 3);
    expect(f.getTerminator()).toBe(0);
    expect(f.tail().length).toBe(7);
  });

  test('an invalid terminator (negative, fractional, NaN, Infinity) is refused before any input is read', () => {
    const f = new Fed(b('\n'));
    expect(() => f.setTerminator(-1)).toThrow(RangeError);
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => f.setTerminator(bad)).toThrow(TypeError);
    expect(f.getTerminator()).toEqual(b('\n'));
  });
});

describe('asynchat: maxIncomingBuffer against random records and chunkings', () => {
  test('an error exactly when a record is longer than the limit; never more than the limit collected for one record', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TERMS.filter((t) => t.length <= 3)),
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 40 }),
        (term, max, lengths, cuts) => {
          // Records of 'z' (never part of a terminator) of the given lengths.
          const stream = Buffer.concat(lengths.flatMap((n) => [Buffer.alloc(n, 0x7a), term]));
          const chunks: Buffer[] = [];
          let at = 0;
          for (const c of cuts) {
            if (at >= stream.length) break;
            chunks.push(stream.subarray(at, at + c));
            at += c;
          }
          chunks.push(stream.subarray(at));
          const f = new Fed(term);
          f.maxIncomingBuffer = max;
          for (const c of chunks) if (f.connected) f.feed(c);
          const firstTooLong = lengths.findIndex((n) => n > max);
          expect(f.maxCurrent).toBeLessThanOrEqual(max);
          if (firstTooLong < 0) {
            expect(f.errors).toEqual([]);
            expect(f.records.map((r) => r.length)).toEqual(lengths);
          } else {
            expect(f.errors).toHaveLength(1); // the default-style handleError closed the channel
            expect(f.errors[0]).toBeInstanceOf(BufferOverflowError);
            expect((f.errors[0] as BufferOverflowError).limit).toBe(max);
            expect(f.records.map((r) => r.length)).toEqual(lengths.slice(0, firstTooLong));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  /**
   * KNOWN ISSUE (reported): the limit bounds memory only if handleError()
   * closes the channel (the default does). A handleError that logs and keeps
   * the channel open gets called again on every read while the whole
   * unterminated input piles up in acInBuffer (and is re-concatenated each
   * time). This test states the guarantee one would want; it is marked
   * `failing` until the limit also discards (or stops reading) on overflow.
   */
  test('with a handleError that does not close, the oversized record is dropped up to its terminator and the next one parses', () => {
    class Lenient extends Fed {
      override handleError(err: unknown): void {
        this.errors.push(err);
        this.current = []; // the application drops its partial record too
        this.currentLen = 0;
      }
    }
    const f = new Lenient(b('\r\n'));
    f.maxIncomingBuffer = 16;
    f.feed(b('ok\r\n'));
    f.feed(Buffer.alloc(40, 0x7a));
    f.feed(b('zzzz\r'));
    f.feed(b('\nhello\r\n'));
    expect(f.errors).toHaveLength(1);
    expect(f.errors[0]).toBeInstanceOf(BufferOverflowError);
    expect(f.records.map(String)).toEqual(['ok', 'hello']);
    expect(f.acInBuffer.length).toBe(0);
  });

  test('with a handleError that does not close, the limit still bounds what is buffered', () => {
    class Lenient extends Fed {
      override handleError(err: unknown): void {
        this.errors.push(err); // log and carry on
      }
    }
    const f = new Lenient(b('\r\n'));
    f.maxIncomingBuffer = 1024;
    const junk = Buffer.alloc(64 * 1024, 0x7a);
    for (let i = 0; i < 16; i++) f.feed(junk);
    expect(f.acInBuffer.length).toBeLessThanOrEqual(1024 + 64 * 1024);
  });
});

describe.each(faultBackends())('asynchat: a peer that never sends the terminator, over real sockets, %s backend', (backend: BackendName) => {
  let map: SocketMap;
  beforeEach(() => {
    map = new Map();
  });
  afterEach(() => drain(map));

  class Sink extends AsyncChat {
    collected = 0;
    records = 0;
    maxInBuffer = 0;
    errors: unknown[] = [];
    logged: string[] = [];
    override collectIncomingData(data: Buffer): void {
      this.collected += data.length; // counted, not kept: the chat itself must not pile it up either
    }
    override foundTerminator(): void {
      this.records++;
    }
    override handleRead(): void {
      super.handleRead();
      this.maxInBuffer = Math.max(this.maxInBuffer, this.acInBuffer.length);
    }
    override handleError(err: unknown): void {
      this.errors.push(err);
      super.handleError(err); // the default: log a line, close
    }
    override logInfo(message: unknown, type = 'info'): void {
      this.logged.push(`${type}: ${String(message)}`);
    }
  }

  /** Sends `total` bytes of 'z' from a raw non-blocking socket as fast as the reader takes them. */
  function flood(sender: socket.Socket, total: number, state: { sent: number; failed: string | null }): void {
    const chunk = Buffer.alloc(65536, 0x7a);
    while (state.sent < total && state.failed === null) {
      try {
        const n = sender.send(chunk.subarray(0, Math.min(chunk.length, total - state.sent)));
        if (n === 0) return;
        state.sent += n;
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err);
        if (code === 'EAGAIN') return;
        state.failed = code;
      }
    }
  }

  test('16 MiB with no "\\r\\n": no limit, the chat buffers almost nothing and collects it all; the loop serves the others', () => {
    const healthy = new HealthyPair(map, 31);
    const [a, peer] = socket.socketpair();
    peer.setblocking(false);
    const chat = new Sink(a, map);
    chat.setTerminator('\r\n');
    const total = 16 * 1024 * 1024;
    const st = { sent: 0, failed: null as string | null };
    try {
      runUntil(() => chat.collected >= total, 'the chat to collect the flood', { backend, map, timeout: 0.01, between: () => flood(peer, total, st), deadlineMs: 60000 });
    } finally {
      peer.close();
    }
    expect(st.failed).toBeNull();
    expect(chat.errors).toEqual([]);
    expect(chat.records).toBe(0);
    expect(chat.collected).toBe(total);
    expect(chat.maxInBuffer).toBeLessThan(2);
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('the same flood with maxIncomingBuffer = 64 KiB: one BufferOverflowError, the channel closes, at most the limit was collected', () => {
    const healthy = new HealthyPair(map, 32);
    const [a, peer] = socket.socketpair();
    peer.setblocking(false);
    const chat = new Sink(a, map);
    chat.setTerminator('\r\n');
    chat.maxIncomingBuffer = 64 * 1024;
    const total = 16 * 1024 * 1024;
    const st = { sent: 0, failed: null as string | null };
    try {
      runUntil(() => chat.errors.length > 0 || !chat.connected, 'the overflow', { backend, map, timeout: 0.01, between: () => flood(peer, total, st), deadlineMs: 60000 });
      // The peer's further sends fail once the channel is closed (EPIPE/ECONNRESET), or fill its buffer (EAGAIN).
      flood(peer, total, st);
    } finally {
      peer.close();
    }
    expect(chat.errors).toHaveLength(1);
    expect(chat.errors[0]).toBeInstanceOf(BufferOverflowError);
    expect(chat.collected).toBeLessThanOrEqual(64 * 1024);
    expect(chat.logged).toHaveLength(1);
    expect(chat.logged[0]).toMatch(/^error: .*BufferOverflowError/);
    expect(chat.connected).toBe(false);
    expect([...map.values()]).not.toContain(chat);
    expect(st.sent).toBeLessThan(total); // the flood was cut off, not swallowed
    expect(healthy.settle(backend)).toEqual([]);
  });

  test('a huge integer terminator (2**31) over a socket: the flood is collected, nothing buffered, the count goes down', () => {
    const healthy = new HealthyPair(map, 33);
    const [a, peer] = socket.socketpair();
    peer.setblocking(false);
    const chat = new Sink(a, map);
    chat.setTerminator(2 ** 31);
    chat.maxIncomingBuffer = 4096; // not applied to counts
    const total = 8 * 1024 * 1024;
    const st = { sent: 0, failed: null as string | null };
    try {
      runUntil(() => chat.collected >= total, 'the chat to collect the flood', { backend, map, timeout: 0.01, between: () => flood(peer, total, st), deadlineMs: 60000 });
    } finally {
      peer.close();
    }
    expect(chat.errors).toEqual([]);
    expect(chat.maxInBuffer).toBe(0);
    expect(chat.getTerminator()).toBe(2 ** 31 - total);
    expect(healthy.settle(backend)).toEqual([]);
  });
});
