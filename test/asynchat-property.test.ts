/**
 * Property tests for AsyncChat's record splitting: however a byte stream is
 * cut into reads, the records (the collectIncomingData() payloads joined per
 * foundTerminator() call) are the ones the unsplit stream gives, and they
 * match a brute-force model. The streams go through real socketpairs: each
 * chunk is one send() followed by loop passes until it was read, so every
 * chunk is exactly one handleRead(). Plus findPrefixAtEnd against its
 * brute-force definition.
 */
import './helpers/native';
import fc from 'fast-check';
import { AsyncChat, findPrefixAtEnd, loop, socket, type SocketMap } from '../lib';

const EMPTY = Buffer.alloc(0);
/** Few distinct bytes, so terminators and their prefixes turn up often. */
const alphabet = fc.constantFrom(0x61, 0x62, 0x0a, 0x0d);
const bytes = (min: number, max: number, size: fc.SizeForArbitrary = 'small'): fc.Arbitrary<Buffer> =>
  fc.array(alphabet, { minLength: min, maxLength: max, size }).map((a) => Buffer.from(a));
/** A stream of up to 200 bytes, of any length in that range (fast-check's default keeps arrays short). */
const streamArb = bytes(0, 200, 'max');

type Term = Buffer | number;

/** Records what the handlers see; after each record it sets the next terminator from `plan` (0 once the plan runs out). */
class Recorder extends AsyncChat {
  records: Buffer[] = [];
  current: Buffer[] = [];
  emptyCollects = 0;
  received = 0;
  errors: unknown[] = [];

  constructor(
    sock: socket.Socket,
    map: SocketMap,
    private plan: Term[],
  ) {
    super(sock, map);
    this.setTerminator(this.nextTerminator());
  }

  private nextTerminator(): Term {
    return this.plan.length > 0 ? this.plan.shift()! : 0;
  }

  override recv(n: number): Buffer {
    const d = super.recv(n);
    this.received += d.length;
    return d;
  }

  override collectIncomingData(data: Buffer): void {
    if (data.length === 0) this.emptyCollects++;
    this.current.push(Buffer.from(data));
  }

  override foundTerminator(): void {
    this.records.push(Buffer.concat(this.current));
    this.current = [];
    this.setTerminator(this.nextTerminator());
  }

  override handleError(err: unknown): void {
    this.errors.push(err);
  }

  /** What is left of an unfinished record: collected so far plus what waits in the input buffer. */
  tail(): Buffer {
    return Buffer.concat([...this.current, this.acInBuffer]);
  }
}

interface Outcome {
  records: string[];
  collectedTail: string;
  held: string;
  emptyCollects: number;
}

/** Send `stream` over a socketpair in pieces of the given sizes (cycled), one read per piece. */
function run(stream: Buffer, sizes: number[], plan: Term[], usePoll: boolean): Outcome {
  const map: SocketMap = new Map();
  const [a, peer] = socket.socketpair();
  const chan = new Recorder(a, map, [...plan]);
  try {
    let off = 0;
    let i = 0;
    while (off < stream.length) {
      const size = Math.min(sizes[i++ % sizes.length], stream.length - off);
      const piece = stream.subarray(off, off + size);
      off += size;
      peer.sendall(piece);
      const want = off;
      const deadline = Date.now() + 10000;
      while (chan.received < want) {
        if (Date.now() > deadline) throw new Error(`piece not read (${chan.received}/${want} bytes)`);
        loop({ map, usePoll, count: 1, timeout: 0.5 });
      }
      if (chan.received !== want) throw new Error('a read took more than one piece');
    }
    if (chan.errors.length) throw chan.errors[0];
    return {
      records: chan.records.map((r) => r.toString('latin1')),
      collectedTail: Buffer.concat(chan.current).toString('latin1'),
      held: chan.acInBuffer.toString('latin1'),
      emptyCollects: chan.emptyCollects,
    };
  } finally {
    chan.close();
    peer.close();
  }
}

/** The model: records cut at the leftmost match of a byte terminator, or after n bytes. */
function model(stream: Buffer, plan: Term[]): { records: string[]; tail: string } {
  const records: string[] = [];
  const terms = [...plan];
  let term: Term = terms.length ? terms.shift()! : 0;
  let rest = stream;
  for (;;) {
    if (typeof term === 'number') {
      if (term === 0 || rest.length < term) break;
      records.push(rest.subarray(0, term).toString('latin1'));
      rest = rest.subarray(term);
    } else {
      const i = rest.indexOf(term);
      if (i === -1) break;
      records.push(rest.subarray(0, i).toString('latin1'));
      rest = rest.subarray(i + term.length);
    }
    term = terms.length ? terms.shift()! : 0;
  }
  return { records, tail: rest.toString('latin1') };
}

const sizesArb = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 8, size: 'max' });
const params = { numRuns: 120 };

describe('AsyncChat record splitting does not depend on how reads are cut', () => {
  test('one byte-string terminator: split reads give the unsplit records, and the model', () => {
    fc.assert(
      fc.property(streamArb, bytes(1, 4), sizesArb, fc.boolean(), (stream, term, sizes, usePoll) => {
        const plan = new Array<Term>(1000).fill(term);
        const whole = run(stream, [stream.length || 1], plan, usePoll);
        const split = run(stream, sizes, plan, usePoll);
        expect(split).toEqual(whole);
        const m = model(stream, plan);
        expect(split.records).toEqual(m.records);
        expect(split.collectedTail + split.held).toEqual(m.tail);
        // only a proper prefix of the terminator is ever held back, and nothing empty is collected
        expect(split.held.length).toBeLessThan(term.length);
        expect(term.toString('latin1').startsWith(split.held)).toBe(true);
        expect(split.emptyCollects).toBe(0);
      }),
      params,
    );
  });

  test('integer terminators: records of the planned sizes, then the count stays at 0 and the rest is collected', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }), sizesArb, fc.boolean(), (stream, plan, sizes, usePoll) => {
        const whole = run(stream, [stream.length || 1], plan, usePoll);
        const split = run(stream, sizes, plan, usePoll);
        expect(split.records).toEqual(whole.records);
        expect(split.collectedTail + split.held).toEqual(whole.collectedTail + whole.held);
        const m = model(stream, plan);
        expect(split.records).toEqual(m.records);
        expect(split.collectedTail + split.held).toEqual(m.tail);
        expect(split.held).toBe(''); // a count never holds bytes back
        expect(split.emptyCollects).toBe(0);
      }),
      params,
    );
  });

  test('terminators that change after every record (byte strings and counts mixed)', () => {
    const termArb: fc.Arbitrary<Term> = fc.oneof(bytes(1, 3), fc.integer({ min: 1, max: 20 }));
    fc.assert(
      fc.property(streamArb, fc.array(termArb, { minLength: 1, maxLength: 20 }), sizesArb, fc.boolean(), (stream, plan, sizes, usePoll) => {
        const whole = run(stream, [stream.length || 1], plan, usePoll);
        const split = run(stream, sizes, plan, usePoll);
        expect(split.records).toEqual(whole.records);
        expect(split.collectedTail + split.held).toEqual(whole.collectedTail + whole.held);
        const m = model(stream, plan);
        expect(split.records).toEqual(m.records);
        expect(split.collectedTail + split.held).toEqual(m.tail);
        expect(split.emptyCollects).toBe(0);
      }),
      params,
    );
  });
});

/** The definition: the longest proper prefix of `needle` that `haystack` ends with. */
function bruteForce(haystack: Buffer, needle: Buffer): number {
  let best = 0;
  for (let l = 1; l < needle.length; l++) {
    if (l <= haystack.length && haystack.subarray(haystack.length - l).equals(needle.subarray(0, l))) best = l;
  }
  return best;
}

describe('findPrefixAtEnd', () => {
  test('matches the brute-force definition on bytes', () => {
    fc.assert(
      fc.property(bytes(0, 12), bytes(0, 6), (haystack, needle) => {
        expect(findPrefixAtEnd(haystack, needle)).toBe(bruteForce(haystack, needle));
      }),
      { numRuns: 2000 },
    );
  });

  test('matches it on strings (compared as characters) and on Uint8Arrays', () => {
    const str = fc.array(fc.constantFrom('a', 'b', '\r', '\n', 'é'), { maxLength: 10 }).map((a) => a.join(''));
    fc.assert(
      fc.property(str, str, (haystack, needle) => {
        let best = 0;
        for (let l = 1; l < needle.length; l++) if (haystack.endsWith(needle.slice(0, l))) best = l;
        expect(findPrefixAtEnd(haystack, needle)).toBe(best);
        const hb = Buffer.from(haystack);
        const nb = Buffer.from(needle);
        expect(findPrefixAtEnd(new Uint8Array(hb), new Uint8Array(nb))).toBe(bruteForce(hb, nb));
      }),
      { numRuns: 1000 },
    );
  });

  test('the empty haystack and the empty needle give 0', () => {
    expect(findPrefixAtEnd(EMPTY, Buffer.from('ab'))).toBe(0);
    expect(findPrefixAtEnd(Buffer.from('ab'), EMPTY)).toBe(0);
  });
});
