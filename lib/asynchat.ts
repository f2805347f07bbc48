/**
 * asynchat: a {@link Dispatcher} that splits its input into records at a
 * terminator (a byte string or a byte count) and queues its output as
 * buffers and producers.
 *
 * Behaviour follows CPython 3.11's `Lib/asynchat.py` line for line (the
 * checklist items 68-84 of the behaviour reference,
 * [docs/asyncore-behaviour.md](../docs/asyncore-behaviour.md), are cited as "item N"),
 * including its quirks: no default terminator, an integer terminator that is
 * left at 0 once it fires, empty records that fire `foundTerminator()`
 * without `collectIncomingData()`, and `initiateSend()` making at most one
 * send per call. One addition, off by default: {@link AsyncChat.maxIncomingBuffer}.
 *
 * asynchat's `use_encoding`/`encoding` are not carried over: wherever bytes
 * are taken (`push`, `setTerminator`, producers' `more()`), a string is
 * encoded as UTF-8, as everywhere in this library.
 */
// Node's global Buffer is an accessor property: bind it once, off the hot paths.
import { Buffer } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { Dispatcher, type SocketMap } from './dispatcher';
import { OSError } from './errors';
import type { Socket } from './socket';
import type { FileWrapper } from './file';

const { EAGAIN, EWOULDBLOCK, EALREADY, EINPROGRESS } = osConstants.errno;

const EMPTY = Buffer.alloc(0);

/**
 * What `setTerminator()` takes: bytes (a string is encoded as UTF-8), a byte count, or null.
 * asynchat: the `term` argument of `set_terminator()`.
 */
export type Terminator = Buffer | Uint8Array | ArrayBufferView | string | number | null;

/**
 * A producer (asynchat's "classic producer"): `more()` returns the next piece, empty when exhausted.
 * asynchat: any object with `more()`, as `push_with_producer()` takes it.
 *
 * @example
 * let n = 3;
 * const countdown: Producer = { more: () => (n > 0 ? `${n--}\n` : '') }; // '3\n', '2\n', '1\n', ''
 */
export interface Producer {
  /** The next piece of output; an empty Buffer or string when there is no more. asynchat: `producer.more()`. */
  more(): Buffer | Uint8Array | string;
}

/** An entry of the output queue: bytes, a producer, or null ("close when you get here"). asynchat: an item of `producer_fifo`. */
export type FifoEntry = Buffer | Producer | null;

/**
 * Python's `NotImplementedError`: thrown by the methods a subclass must provide
 * (`collectIncomingData()`, `foundTerminator()`). asynchat: `NotImplementedError`.
 */
export class NotImplementedError extends Error {
  /** `'NotImplementedError'`. */
  override get name(): string {
    return 'NotImplementedError';
  }
}

/**
 * Thrown (to `handleError`) when one incoming record grows beyond
 * {@link AsyncChat.maxIncomingBuffer} bytes before its terminator arrives.
 * Not in asynchat.
 */
export class BufferOverflowError extends RangeError {
  /** The limit that was exceeded. */
  readonly limit: number;
  /** The bytes of the record seen so far (at least `limit + 1`). */
  readonly size: number;

  /**
   * Not in asynchat.
   *
   * @param limit the `maxIncomingBuffer` that was exceeded
   * @param size the bytes of the record seen so far
   */
  constructor(limit: number, size: number) {
    super(`incoming record exceeds maxIncomingBuffer (${limit} bytes): ${size} bytes arrived without a terminator`);
    this.limit = limit;
    this.size = size;
  }

  /** `'BufferOverflowError'`. */
  override get name(): string {
    return 'BufferOverflowError';
  }
}

/** A view of `data` as a Buffer, without copying; strings are encoded as UTF-8. Anything else is null. */
function asBuffer(data: unknown): Buffer | null {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Python's type name of a terminator value, for the TypeError of `countDown`. */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (ArrayBuffer.isView(v)) return 'bytes';
  return describe(v);
}

/**
 * asynchat's `self.terminator - lb` after `collect_incoming_data()` took the
 * bytes: a handler that switched to a byte or null terminator there makes
 * Python raise TypeError (into `handle_error`), and so does this.
 */
function countDown(terminator: unknown, lb: number): number {
  if (typeof terminator !== 'number') throw new TypeError(`unsupported operand type(s) for -: '${pyTypeName(terminator)}' and 'int'`);
  return terminator - lb;
}

function isProducer(x: unknown): x is Producer {
  return x !== null && typeof x === 'object' && typeof (x as { more?: unknown }).more === 'function';
}

/**
 * A double-ended queue on a ring buffer (the role of Python's `deque` in
 * `producer_fifo`): push and shift at either end in O(1). Not exported from
 * the package entry point; reach it as `AsyncChat#producerFifo`.
 */
export class Deque<T> implements Iterable<T> {
  private items: Array<T | undefined> = new Array(8);
  private head = 0;
  private size = 0;

  /** The number of entries (`len(deque)`). */
  get length(): number {
    return this.size;
  }

  /** Append at the back (`deque.append`). */
  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = item;
    this.size++;
  }

  /** Insert at the front (`deque.appendleft`). */
  unshift(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = item;
    this.size++;
  }

  /** Remove and return the front entry (`deque.popleft`); undefined when empty. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }

  /** The front entry (`deque[0]`); undefined when empty. */
  first(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  /** Replace the front entry (`deque[0] = item`). */
  setFirst(item: T): void {
    if (this.size === 0) throw new RangeError('the deque is empty');
    this.items[this.head] = item;
  }

  /** Remove every entry (`deque.clear`). */
  clear(): void {
    this.items = new Array(8);
    this.head = 0;
    this.size = 0;
  }

  /** The entries, front to back. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[(this.head + i) & (this.items.length - 1)] as T;
  }

  private grow(): void {
    const old = this.items;
    const next: Array<T | undefined> = new Array(old.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}

/**
 * A line- or count-oriented channel: asynchat's `async_chat`. Subclass it,
 * call `setTerminator()`, and implement `collectIncomingData()` (called with
 * the data of the current record as it arrives) and `foundTerminator()`
 * (called when a record is complete). Send with `push()` and
 * `pushWithProducer()`; `closeWhenDone()` closes once the queue is sent.
 * asynchat: `async_chat`.
 *
 * @example
 * class Echo extends AsyncChat {
 *   constructor(sock: socket.Socket) { super(sock); this.setTerminator('\n'); }
 *   override collectIncomingData(data: Buffer) { this._collectIncomingData(data); }
 *   override foundTerminator() { this.push(Buffer.concat([this._getData(), Buffer.from('\n')])); }
 * }
 */
export class AsyncChat<S extends Socket | FileWrapper | null = Socket | FileWrapper | null> extends Dispatcher<S> {
  /** `ac_in_buffer_size`: how much each `handleRead()` asks `recv()` for. */
  acInBufferSize = 65536;
  /** `ac_out_buffer_size`: the most bytes one send takes from the queue; longer pushes are split into slices this long. */
  acOutBufferSize = 65536;
  /** `ac_in_buffer`: received bytes not yet handed on (in practice a partial terminator, or everything while no terminator is set). */
  acInBuffer: Buffer = EMPTY;
  /** `incoming`: what `_collectIncomingData()` has gathered; `_getData()` joins and clears it. */
  incoming: Buffer[] = [];
  /**
   * `producer_fifo`: the output queue of buffers, producers and close markers (null).
   * A ring-buffer deque with `length`, `push`, `unshift`, `shift`, `first`, `clear`
   * and iteration (Python's `deque`: `append`, `appendleft`, `popleft`, `[0]`).
   */
  producerFifo: Deque<FifoEntry> = new Deque();
  /**
   * `terminator`: as stored by `setTerminator()`. `undefined` until it is first
   * set: asynchat has no default, and reading with none set is an error (item 69).
   */
  terminator: Buffer | number | string | null | undefined = undefined;
  /**
   * Not in asynchat: the most bytes one record may hold before its (byte
   * string) terminator arrives, counting what was already handed to
   * `collectIncomingData()` and what waits in `acInBuffer`. When a record
   * grows beyond it, `handleError()` gets a {@link BufferOverflowError}, and
   * the default `handleError()` closes the channel. A `handleError()` that
   * keeps the channel open stays bounded too: the rest of the oversized
   * record is dropped as it arrives, up to and including its terminator,
   * and the next record parses normally. `null` (the default) is
   * no limit, as in asynchat. Integer and null terminators are not limited
   * (the count, or the stream, is the application's choice).
   */
  maxIncomingBuffer: number | null = null;
  /** Bytes of the current record already passed to `collectIncomingData()` (for `maxIncomingBuffer`). */
  private recordLength = 0;
  /** After an overflow: input is dropped up to and including the next terminator. */
  private discarding = false;

  /**
   * asynchat: `async_chat(sock=None, map=None)`.
   *
   * @param sock an accepted or connected socket to adopt
   * @param map the map to register in (default {@link socketMap})
   */
  constructor(sock: Socket | null = null, map: SocketMap | null = null) {
    super(sock, map);
  }

  /**
   * `collect_incoming_data(data)`: receives the data of the current record. Must be overridden.
   *
   * @example
   * override collectIncomingData(data: Buffer) { this._collectIncomingData(data); } // gather into `incoming`
   */
  collectIncomingData(_data: Buffer): void {
    throw new NotImplementedError('collectIncomingData() not implemented: must be implemented in subclass');
  }

  /** `_collect_incoming_data(data)`: a ready-made `collectIncomingData()` that appends to `incoming`. */
  _collectIncomingData(data: Buffer): void {
    this.incoming.push(data);
  }

  /** `_get_data()`: join `incoming` into one Buffer and clear it. */
  _getData(): Buffer {
    const d = this.incoming.length === 1 ? this.incoming[0] : Buffer.concat(this.incoming);
    this.incoming = [];
    return d;
  }

  /**
   * `found_terminator()`: called when the terminator is seen (or the byte count reached). Must be overridden.
   *
   * @example
   * override foundTerminator() { const line = this._getData().toString(); this.push(`you said: ${line}\n`); }
   */
  foundTerminator(): void {
    throw new NotImplementedError('foundTerminator() not implemented: must be implemented in subclass');
  }

  /**
   * `set_terminator(term)`: a byte string (a string is stored encoded as
   * UTF-8), a number of bytes to read, or null (collect everything). An
   * empty string or 0 acts like null. A negative count throws RangeError
   * (Python's ValueError); a count that is not an integer, or any other
   * type, throws TypeError.
   *
   * @example
   * this.setTerminator('\r\n'); // lines
   * this.setTerminator(1024);   // the next 1024 bytes
   */
  setTerminator(term: Terminator): void {
    if (typeof term === 'number') {
      if (!Number.isInteger(term)) throw new TypeError(`the terminator count must be an integer, got ${term}`);
      if (term < 0) throw new RangeError('the number of received bytes must be positive');
      this.terminator = term;
    } else if (term === null) {
      this.terminator = null;
    } else {
      const b = asBuffer(term);
      if (b === null) throw new TypeError(`the terminator must be bytes, a string, a number or null, got ${describe(term)}`);
      this.terminator = b;
    }
  }

  /**
   * `get_terminator()`: the terminator as stored: a Buffer, a number or null.
   * Throws if none was ever set (Python's AttributeError). `handleRead()`
   * calls it once per record, so a subclass may override it.
   */
  getTerminator(): Buffer | number | string | null {
    if (this.terminator === undefined) throw new Error(`${this.constructor.name} has no terminator: call setTerminator() first`);
    return this.terminator;
  }

  /**
   * `handle_read()`: one `recv(acInBufferSize)`, then split what is buffered
   * at the terminator, calling `collectIncomingData()` and
   * `foundTerminator()` (items 72-77). EAGAIN returns quietly; another
   * OSError goes to `handleError()`.
   */
  override handleRead(): void {
    let data: Buffer;
    try {
      data = this.recv(this.acInBufferSize);
    } catch (err) {
      if (err instanceof OSError) {
        // Python's BlockingIOError: a spurious wakeup (bpo-16133).
        const e = err.errno;
        if (e === EAGAIN || e === EWOULDBLOCK || e === EALREADY || e === EINPROGRESS) return;
        this.handleError(err);
        return;
      }
      throw err;
    }
    // Only a partial terminator is normally left over, so this concat is short.
    if (this.acInBuffer.length === 0) this.acInBuffer = data;
    else if (data.length > 0) this.acInBuffer = Buffer.concat([this.acInBuffer, data]);

    // Several records may have arrived in one recv(): loop until the buffer is used up.
    // As in asynchat, acInBuffer and the terminator are read afresh after every call into
    // user code (getTerminator, collectIncomingData, foundTerminator, handleError): a
    // handler may change either (setTerminator, discardBuffers), and what happens next
    // follows the change (item 77).
    while (this.acInBuffer.length > 0) {
      const lb = this.acInBuffer.length;
      const terminator = this.getTerminator();
      if (terminator === null || terminator === 0 || (typeof terminator !== 'number' && terminator.length === 0)) {
        // no terminator (null, 0 or empty): collect it all
        this.recordLength = 0;
        this.collectIncomingData(this.acInBuffer);
        this.acInBuffer = EMPTY;
      } else if (typeof terminator === 'number') {
        // numeric terminator: count down, and leave it at 0 once it fires (item 75)
        const n = terminator;
        this.recordLength = 0;
        if (lb < n) {
          this.collectIncomingData(this.acInBuffer);
          this.acInBuffer = EMPTY;
          this.terminator = countDown(this.terminator, lb);
        } else {
          this.collectIncomingData(this.acInBuffer.subarray(0, n));
          this.acInBuffer = this.acInBuffer.subarray(n);
          this.terminator = 0;
          this.foundTerminator();
        }
      } else {
        // Three cases: the terminator is in the buffer (collect up to it, then fire);
        // the buffer ends with a prefix of it (collect up to the prefix, keep the prefix
        // and wait for more); or neither (collect it all).
        const term = typeof terminator === 'string' ? Buffer.from(terminator, 'utf8') : terminator;
        const tl = term.length;
        const buf = this.acInBuffer;
        const index = buf.indexOf(term);
        if (this.discarding) {
          // the rest of an oversized record: drop it, keeping at most a partial terminator
          if (index === -1) {
            this.acInBuffer = buf.subarray(buf.length - findPrefixAtEnd(buf, term));
            break;
          }
          this.acInBuffer = buf.subarray(index + tl);
          this.discarding = false;
          continue;
        }
        if (index !== -1) {
          if (this.overflows(index)) {
            if (this.discardAfterClose()) return;
            continue;
          }
          // don't report an empty record: found_terminator() alone marks it (item 76)
          if (index > 0) this.collectIncomingData(buf.subarray(0, index));
          this.acInBuffer = this.acInBuffer.subarray(index + tl);
          this.recordLength = 0;
          this.foundTerminator();
        } else {
          const prefix = findPrefixAtEnd(buf, term);
          if (prefix) {
            if (prefix !== lb) {
              if (this.overflows(buf.length - prefix)) {
                if (this.discardAfterClose()) return;
                continue;
              }
              this.collectIncomingData(buf.subarray(0, buf.length - prefix));
              this.recordLength += buf.length - prefix;
              const now = this.acInBuffer; // Python's ac_in_buffer[-index:]
              this.acInBuffer = now.subarray(Math.max(now.length - prefix, 0));
            }
            break;
          }
          if (this.overflows(buf.length)) {
            if (this.discardAfterClose()) return;
            continue;
          }
          this.collectIncomingData(buf);
          this.recordLength += buf.length;
          this.acInBuffer = EMPTY;
        }
      }
    }
  }

  /**
   * True when `more` bytes would take the record past `maxIncomingBuffer`.
   * Then the record's buffered bytes are dropped, the rest of it will be
   * dropped as it arrives (up to its terminator), and `handleError` gets a
   * BufferOverflowError: memory stays bounded whether or not it closes.
   */
  /** After an overflow: true (with the buffer dropped) when `handleError` closed the channel. */
  private discardAfterClose(): boolean {
    if (this.connected) return false;
    this.acInBuffer = EMPTY;
    return true;
  }

  private overflows(more: number): boolean {
    const max = this.maxIncomingBuffer;
    if (max === null || this.recordLength + more <= max) return false;
    const size = this.recordLength + more;
    this.recordLength = 0;
    this.discarding = true;
    this.handleError(new BufferOverflowError(max, size));
    return true;
  }

  /** `handle_write()`: `initiateSend()`. */
  override handleWrite(): void {
    this.initiateSend();
  }

  /** `handle_close()`: just `close()`, with no log line (item 78). */
  override handleClose(): void {
    this.close();
  }

  /**
   * `push(data)`: queue bytes (a Buffer, any typed array or DataView, or a
   * string, encoded as UTF-8) and try to send at once. Data longer than
   * `acOutBufferSize` is queued as slices of that size. The data is queued
   * by reference, not copied, as asynchat does: do not change a pushed
   * buffer before it is sent. Numbers, objects and the like throw TypeError
   * (item 79).
   *
   * @example
   * this.push('HTTP/1.0 200 OK\r\n\r\n');
   */
  push(data: Buffer | Uint8Array | ArrayBufferView | string): void {
    const buf = asBuffer(data);
    if (buf === null) throw new TypeError(`data argument must be byte-ish (${describe(data)})`);
    const sabs = this.acOutBufferSize;
    if (buf.length > sabs) {
      // Python's range(0, len, sabs): a step of 0 raises, a negative one queues nothing
      if (sabs === 0) throw new RangeError('push(): acOutBufferSize must not be zero');
      if (!Number.isInteger(sabs)) throw new TypeError(`push(): acOutBufferSize must be an integer, got ${sabs}`);
      for (let i = 0; i < buf.length && sabs > 0; i += sabs) this.producerFifo.push(buf.subarray(i, i + sabs));
    } else {
      this.producerFifo.push(buf);
    }
    this.initiateSend();
  }

  /**
   * `push_with_producer(producer)`: queue a producer (anything with
   * `more()`), then try to send. Bytes and strings are queued as data, and
   * null as a close marker, as asynchat's FIFO would take them.
   *
   * @example
   * this.pushWithProducer(new SimpleProducer(bigBuffer, 4096));
   */
  pushWithProducer(producer: Producer | Buffer | Uint8Array | string | null): void {
    let entry: FifoEntry;
    if (producer === null || isProducer(producer)) {
      entry = producer;
    } else {
      entry = asBuffer(producer);
      if (entry === null) throw new TypeError(`producer must have a more() method, got ${describe(producer)}`);
    }
    this.producerFifo.push(entry);
    this.initiateSend();
  }

  /** `readable()`: always true (item 80). */
  override readable(): boolean {
    return true;
  }

  /** `writable()`: while anything is queued, or until connected. */
  override writable(): boolean {
    return this.producerFifo.length > 0 || !this.connected;
  }

  /**
   * `close_when_done()`: queue a close marker; `handleClose()` runs when the queue reaches it.
   *
   * @example
   * this.push('bye\r\n'); this.closeWhenDone();
   */
  closeWhenDone(): void {
    this.producerFifo.push(null);
  }

  /**
   * `initiate_send()`: at most one send per call, and nothing until
   * connected (item 81). A null entry calls `handleClose()`; an empty buffer
   * is dropped and makes one zero-length send; a producer's `more()` result
   * goes to the front, and an exhausted producer is dropped. An OSError from
   * the send goes to `handleError()`.
   */
  initiateSend(): void {
    const fifo = this.producerFifo;
    while (fifo.length > 0 && this.connected) {
      let first = fifo.first() as FifoEntry;
      // an empty buffer or a close marker
      if (first === null || (Buffer.isBuffer(first) && first.length === 0)) {
        fifo.shift();
        if (first === null) {
          this.handleClose();
          return;
        }
        // asynchat falls through here and sends the empty buffer (item 81)
      }

      // a producer: put what it makes in front of it, or drop it when it is done
      const obs = this.acOutBufferSize;
      if (!Buffer.isBuffer(first)) {
        const more = first.more();
        const produced = asBuffer(more);
        if (produced === null) throw new TypeError(`a producer's more() must return bytes or a string, got ${describe(more)}`);
        if (produced.length > 0) fifo.unshift(produced);
        else fifo.shift();
        continue;
      }

      const data = first.length > obs ? first.subarray(0, obs) : first;
      let numSent: number;
      try {
        numSent = this.send(data);
      } catch (err) {
        if (err instanceof OSError) {
          this.handleError(err);
          return;
        }
        throw err;
      }

      if (numSent) {
        if (numSent < data.length || obs < first.length) fifo.setFirst(first.subarray(numSent));
        else fifo.shift();
      }
      // we tried to send some actual data
      return;
    }
  }

  /** `discard_buffers()`: drop the input buffer, `incoming` and the output queue. Emergencies only. */
  discardBuffers(): void {
    this.acInBuffer = EMPTY;
    this.incoming = [];
    this.recordLength = 0;
    this.producerFifo.clear();
  }
}

/**
 * `simple_producer(data, buffer_size=512)`: hands out `data` in pieces of at
 * most `bufferSize` bytes, then empty Buffers (item 83). asynchat: `simple_producer`.
 *
 * @example
 * chat.pushWithProducer(new SimpleProducer('a long text…', 512));
 */
export class SimpleProducer implements Producer {
  /** What is left to hand out. asynchat: `simple_producer.data`. */
  data: Buffer;
  /** The most bytes one `more()` returns. asynchat: `simple_producer.buffer_size`. */
  bufferSize: number;

  /**
   * asynchat: `simple_producer(data, buffer_size=512)`.
   *
   * @param data the bytes to hand out (a string is encoded as UTF-8)
   * @param bufferSize the most bytes per `more()`, default 512
   */
  constructor(data: Buffer | Uint8Array | ArrayBufferView | string, bufferSize = 512) {
    const buf = asBuffer(data);
    if (buf === null) throw new TypeError(`data must be bytes or a string, got ${describe(data)}`);
    this.data = buf;
    this.bufferSize = bufferSize;
  }

  /** The next piece of at most `bufferSize` bytes; an empty Buffer once all is handed out. asynchat: `simple_producer.more()`. */
  more(): Buffer {
    if (this.data.length > this.bufferSize) {
      const result = this.data.subarray(0, this.bufferSize);
      this.data = this.data.subarray(this.bufferSize);
      return result;
    }
    const result = this.data;
    this.data = EMPTY;
    return result;
  }
}

/**
 * `find_prefix_at_end(haystack, needle)`: the length of the longest proper
 * prefix of `needle` that `haystack` ends with, or 0 (item 84). It assumes the
 * whole needle is not at the end (asynchat checks that first). Two strings
 * are compared as characters, as in Python; otherwise strings are encoded as
 * UTF-8. An empty needle gives 0 (Python's loop returns -1 there).
 * asynchat: `find_prefix_at_end(haystack, needle)`.
 *
 * @example
 * findPrefixAtEnd(Buffer.from('qwerty\r'), Buffer.from('\r\n')); // 1
 */
export function findPrefixAtEnd(haystack: Buffer | Uint8Array | string, needle: Buffer | Uint8Array | string): number {
  if (typeof haystack === 'string' && typeof needle === 'string') {
    let l = needle.length - 1;
    while (l > 0 && !haystack.endsWith(needle.slice(0, l))) l--;
    return Math.max(l, 0);
  }
  const h = asBuffer(haystack);
  const n = asBuffer(needle);
  if (h === null || n === null) throw new TypeError('findPrefixAtEnd() takes bytes or strings');
  const hl = h.length;
  let l = Math.min(n.length - 1, hl);
  while (l > 0 && h.compare(n, 0, l, hl - l, hl) !== 0) l--;
  return Math.max(l, 0);
}
