/**
 * AsyncChat, SimpleProducer and findPrefixAtEnd: CPython 3.11's
 * test_asynchat.py scenarios on real sockets under the select and poll
 * passes, asynchat's quirks (checklist items 68-84), and the
 * maxIncomingBuffer limit this port adds.
 *
 * CPython's echo peer is a thread; here it is an in-loop dispatcher that
 * collects until QUIT and then echoes one chunk per pass, so the client's
 * reads see the chunk sizes under test. Every loop run is bounded.
 */
import './helpers/native';
import { constants as osConstants } from 'node:os';
import {
  AsyncChat,
  BufferOverflowError,
  Dispatcher,
  NotImplementedError,
  OSError,
  SimpleProducer,
  closeAll,
  findPrefixAtEnd,
  loop,
  socket,
  type SocketMap,
} from '../lib';

const { EAGAIN, EIO } = osConstants.errno;
const EMPTY = Buffer.alloc(0);
const SERVER_QUIT = Buffer.from('QUIT\n');
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Run single passes until `until()` holds; bounded by passes and by wall time. */
function runLoop(map: SocketMap, usePoll: boolean, until: () => boolean = () => map.size === 0, limitMs = 30000): void {
  const deadline = Date.now() + limitMs;
  for (let i = 0; i < 100000 && !until(); i++) {
    if (Date.now() > deadline) break;
    if (map.size === 0) break;
    loop({ map, usePoll, timeout: 0.05, count: 1 });
  }
  if (!until()) throw new Error(`condition not met (map size ${map.size})`);
}

// ---- CPython's echo_server, as a dispatcher in the same map ------------------------------

class EchoServer extends Dispatcher {
  handler: EchoHandler | null = null;
  /** Hold the echo back until released (CPython's start_resend_event). */
  hold = false;

  constructor(
    map: SocketMap,
    readonly chunkSize = 1,
  ) {
    super(null, map);
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.setReuseAddr();
    this.bind(['127.0.0.1', 0]);
    this.listen(5);
  }

  get port(): number {
    return ((this.socket as socket.Socket).getsockname() as [string, number])[1];
  }

  override handleAccepted(sock: socket.Socket): void {
    this.handler = new EchoHandler(sock, this._map, this);
    this.close(); // one client per server, as CPython's
  }

  override handleError(err: unknown): void {
    throw err;
  }
}

class EchoHandler extends Dispatcher {
  /** Everything received, with QUIT removed once it was seen (CPython's s.buffer). */
  buffer: Buffer = EMPTY;
  quitSeen = false;

  constructor(
    sock: socket.Socket,
    map: SocketMap,
    readonly server: EchoServer,
  ) {
    super(sock, map);
  }

  override readable(): boolean {
    return !this.quitSeen;
  }

  override writable(): boolean {
    return this.quitSeen && !this.server.hold;
  }

  override handleRead(): void {
    const data = this.recv(4096);
    this.buffer = Buffer.concat([this.buffer, data]);
    if (data.length === 0 || this.buffer.includes(SERVER_QUIT)) {
      // strip every QUIT, then echo
      let i: number;
      while ((i = this.buffer.indexOf(SERVER_QUIT)) !== -1) this.buffer = Buffer.concat([this.buffer.subarray(0, i), this.buffer.subarray(i + SERVER_QUIT.length)]);
      this.quitSeen = true;
    }
  }

  /** One chunk per write event, so the client reads the stream in chunkSize pieces. */
  override handleWrite(): void {
    if (this.buffer.length > 0) {
      const n = this.send(this.buffer.subarray(0, this.server.chunkSize));
      this.buffer = this.buffer.subarray(n);
    }
    if (this.buffer.length === 0) this.close();
  }

  override handleClose(): void {
    this.close();
  }

  override handleError(err: unknown): void {
    throw err;
  }
}

/** CPython's echo_client. */
class EchoClient extends AsyncChat {
  contents: Buffer[] = [];
  buffer: Buffer = EMPTY;

  constructor(terminator: Buffer | string | number | null, port: number, map: SocketMap) {
    super(null, map);
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.connect(['127.0.0.1', port]);
    this.setTerminator(terminator);
  }

  override handleConnect(): void {}

  override collectIncomingData(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
  }

  override foundTerminator(): void {
    this.contents.push(this.buffer);
    this.buffer = EMPTY;
  }

  override handleError(err: unknown): void {
    throw err;
  }
}

const passes: Array<[string, boolean]> = [
  ['select', false],
  ['poll', true],
];

describe.each(passes)('test_asynchat over real TCP (%s pass)', (_name, usePoll) => {
  let map: SocketMap;

  beforeEach(() => {
    map = new Map();
  });

  afterEach(() => {
    closeAll(map, true);
  });

  function start(terminator: Buffer | string | number | null, chunkSize = 1): [EchoServer, EchoClient] {
    const s = new EchoServer(map, chunkSize);
    const c = new EchoClient(terminator, s.port, map);
    return [s, c];
  }

  const lineCases: Array<[string, number]> = [];
  for (const term of ['\n', '\r\n', 'qqq']) for (const chunk of [1, 2, 3]) lineCases.push([term, chunk]);

  test.each(lineCases)('line terminator %j, echoed in %i-byte chunks', (term, chunk) => {
    const [, c] = start(b(term), chunk);
    c.push(b('hello '));
    c.push(b('world' + term));
    c.push(b("I'm not dead yet!" + term));
    c.push(SERVER_QUIT);
    runLoop(map, usePoll);
    expect(c.contents).toEqual([b('hello world'), b("I'm not dead yet!")]);
  });

  test.each([1, 6])('numeric terminator %i: one record, then the terminator stays 0', (termlen) => {
    const [, c] = start(termlen);
    const data = b("hello world, I'm not dead yet!\n");
    c.push(data);
    c.push(SERVER_QUIT);
    runLoop(map, usePoll);
    expect(c.contents).toEqual([data.subarray(0, termlen)]);
    expect(c.getTerminator()).toBe(0);
    expect(c.buffer).toEqual(data.subarray(termlen));
  });

  test('null terminator: everything collected, no records', () => {
    const [, c] = start(null);
    const data = b("hello world, I'm not dead yet!\n");
    c.push(data);
    c.push(SERVER_QUIT);
    runLoop(map, usePoll);
    expect(c.contents).toEqual([]);
    expect(c.buffer).toEqual(data);
  });

  test('SimpleProducer with bufferSize 8', () => {
    const [, c] = start(b('\n'));
    const data = b("hello world\nI'm not dead yet!\n");
    c.pushWithProducer(new SimpleProducer(Buffer.concat([data, SERVER_QUIT]), 8));
    runLoop(map, usePoll);
    expect(c.contents).toEqual([b('hello world'), b("I'm not dead yet!")]);
  });

  test('a Buffer in the producer fifo is sliced, not more()-ed', () => {
    const [, c] = start(b('\n'));
    const data = b("hello world\nI'm not dead yet!\n");
    c.pushWithProducer(Buffer.concat([data, SERVER_QUIT]));
    runLoop(map, usePoll);
    expect(c.contents).toEqual([b('hello world'), b("I'm not dead yet!")]);
  });

  test('a string in the producer fifo is sent as UTF-8', () => {
    const [, c] = start('\n');
    c.pushWithProducer('héllo\nwörld\nQUIT\n');
    runLoop(map, usePoll);
    expect(c.contents).toEqual([Buffer.from('héllo'), Buffer.from('wörld')]);
  });

  test('empty line: an empty record in the middle', () => {
    const [, c] = start(b('\n'));
    c.push(b("hello world\n\nI'm not dead yet!\n"));
    c.push(SERVER_QUIT);
    runLoop(map, usePoll);
    expect(c.contents).toEqual([b('hello world'), EMPTY, b("I'm not dead yet!")]);
  });

  test('closeWhenDone: the client closes once its queue is sent', () => {
    const [s, c] = start(b('\n'));
    s.hold = true;
    c.push(b("hello world\nI'm not dead yet!\n"));
    c.push(SERVER_QUIT);
    c.closeWhenDone();
    runLoop(map, usePoll, () => !map.has(c._fileno ?? -1) && c.connected === false && (s.handler?.quitSeen ?? false));
    expect(c.socket?.fileno()).toBe(-1);
    // only now let the server echo: to a closed peer
    s.hold = false;
    runLoop(map, usePoll);
    expect(c.contents).toEqual([]);
    expect(s.handler!.buffer.length).toBeGreaterThan(0);
  });

  test('push takes Buffer, Uint8Array, DataView and strings; numbers and objects are TypeErrors', () => {
    const [, c] = start(b('\n'));
    const data = b('bytes\n');
    c.push(data);
    c.push(new Uint8Array(data));
    c.push(new DataView(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)));
    expect(() => c.push(10 as unknown as Buffer)).toThrow(TypeError);
    expect(() => c.push({} as unknown as Buffer)).toThrow(TypeError);
    expect(() => c.push(null as unknown as Buffer)).toThrow(TypeError);
    c.push('bytes\n');
    c.push(SERVER_QUIT);
    runLoop(map, usePoll);
    expect(c.contents).toEqual([b('bytes'), b('bytes'), b('bytes'), b('bytes')]);
  });
});

// ---- a fake socket (CPython's TestAsynchatMocked uses unittest.mock) ----------------------

let fakeFd = 50000;

class FakeSocket {
  readonly fd = fakeFd++;
  sent: Buffer[] = [];
  /** What send() returns for each call: a count, an error to throw, or undefined for "all of it". */
  sendPlan: Array<number | Error> = [];
  recvPlan: Array<Buffer | Error> = [];
  closed = false;

  fileno(): number {
    return this.closed ? -1 : this.fd;
  }

  send(data: ArrayBufferView): number {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const step = this.sendPlan.shift();
    if (step instanceof Error) throw step;
    const n = step === undefined ? buf.length : Math.min(step, buf.length);
    this.sent.push(Buffer.from(buf.subarray(0, n)));
    return n;
  }

  recv(): Buffer {
    const step = this.recvPlan.shift();
    if (step === undefined) throw new OSError(EAGAIN, 'recv');
    if (step instanceof Error) throw step;
    return step;
  }

  close(): void {
    this.closed = true;
  }
}

/** A chat channel on a fake socket, in a private map, recording what the handlers see. */
class Recorder extends AsyncChat {
  events: Array<['collect', string] | ['found']> = [];
  errors: unknown[] = [];

  override collectIncomingData(data: Buffer): void {
    this.events.push(['collect', data.toString('latin1')]);
  }

  override foundTerminator(): void {
    this.events.push(['found']);
  }

  override handleError(err: unknown): void {
    this.errors.push(err);
  }
}

function fakeChannel<T extends AsyncChat = Recorder>(cls: new (sock: null, map: SocketMap) => T = Recorder as unknown as new (sock: null, map: SocketMap) => T): [T, FakeSocket] {
  const map: SocketMap = new Map();
  const chan = new cls(null, map);
  const sock = new FakeSocket();
  chan.setSocket(sock as unknown as socket.Socket);
  chan.connected = true;
  return [chan, sock];
}

/** Feed `chunks` to a Recorder through handleRead(), one recv per chunk. */
function feed(chan: AsyncChat, sock: FakeSocket, ...chunks: string[]): void {
  for (const c of chunks) {
    sock.recvPlan.push(b(c));
    chan.handleRead();
  }
}

describe('handleRead errors', () => {
  test('EAGAIN from recv returns quietly: handleError is not called (bpo-16133)', () => {
    const map: SocketMap = new Map();
    const chan = new AsyncChat(null, map);
    const sock = new FakeSocket();
    chan.setSocket(sock as unknown as socket.Socket);
    expect(map.get(sock.fd)).toBe(chan);
    const handleError = jest.fn();
    chan.handleError = handleError;
    chan.handleRead();
    expect(handleError).not.toHaveBeenCalled();
    chan.delChannel();
  });

  test('another OSError from recv goes to handleError', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\n');
    const err = new OSError(EIO, 'recv');
    sock.recvPlan.push(err);
    chan.handleRead();
    expect(chan.errors).toEqual([err]);
    expect(chan.events).toEqual([]);
  });

  test('a non-OSError from recv propagates', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\n');
    sock.recvPlan.push(new TypeError('boom'));
    expect(() => chan.handleRead()).toThrow('boom');
    expect(chan.errors).toEqual([]);
  });
});

describe('terminators (items 71-77)', () => {
  test('setTerminator stores strings as UTF-8 Buffers, numbers and null as they are', () => {
    const chan = new AsyncChat(null, new Map());
    chan.setTerminator('\r\n');
    expect(chan.getTerminator()).toEqual(b('\r\n'));
    expect(Buffer.isBuffer(chan.getTerminator())).toBe(true);
    chan.setTerminator('é');
    expect(chan.getTerminator()).toEqual(Buffer.from([0xc3, 0xa9]));
    const t = b('END');
    chan.setTerminator(t);
    expect(chan.getTerminator()).toBe(t);
    chan.setTerminator(new Uint8Array([1, 2]));
    expect(chan.getTerminator()).toEqual(Buffer.from([1, 2]));
    chan.setTerminator(7);
    expect(chan.getTerminator()).toBe(7);
    chan.setTerminator(0);
    expect(chan.getTerminator()).toBe(0);
    chan.setTerminator(null);
    expect(chan.getTerminator()).toBeNull();
  });

  test('a negative count is refused (bpo-11259), and so are non-integers and other types', () => {
    const client = new AsyncChat();
    expect(() => client.setTerminator(-1)).toThrow(RangeError);
    expect(() => client.setTerminator(-1)).toThrow('the number of received bytes must be positive');
    expect(() => client.setTerminator(1.5)).toThrow(TypeError);
    expect(() => client.setTerminator({} as unknown as string)).toThrow(TypeError);
    expect(() => client.getTerminator()).toThrow(/no terminator/);
  });

  test('no default terminator: the read error goes to handleError and the bytes stay buffered (item 69)', () => {
    const map: SocketMap = new Map();
    const [a, peer] = socket.socketpair();
    const chan = new Recorder(a, map);
    try {
      peer.send('abc');
      runLoop(map, false, () => chan.errors.length > 0);
      expect(chan.errors[0]).toBeInstanceOf(Error);
      expect(String((chan.errors[0] as Error).message)).toMatch(/no terminator/);
      expect(chan.acInBuffer).toEqual(b('abc'));
      expect(chan.events).toEqual([]);
      // once a terminator is set, the kept bytes are parsed with the next data
      chan.setTerminator('\n');
      peer.send('d\n');
      runLoop(map, true, () => chan.events.length >= 2);
      expect(chan.events).toEqual([['collect', 'abcd'], ['found']]);
    } finally {
      chan.close();
      peer.close();
    }
  });

  test('the default collectIncomingData/foundTerminator throw NotImplementedError, routed to handleError by the loop', () => {
    const map: SocketMap = new Map();
    const [a, peer] = socket.socketpair();
    const errors: unknown[] = [];
    class Bare extends AsyncChat {
      override handleError(err: unknown): void {
        errors.push(err);
      }
    }
    const chan = new Bare(a, map);
    try {
      chan.setTerminator('\n');
      peer.send('x');
      runLoop(map, false, () => errors.length > 0);
      expect(errors[0]).toBeInstanceOf(NotImplementedError);
      expect((errors[0] as Error).name).toBe('NotImplementedError');
      expect(() => chan.foundTerminator()).toThrow(NotImplementedError);
    } finally {
      chan.close();
      peer.close();
    }
  });

  test('an integer terminator counts down, fires once, and is left at 0 (item 75)', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator(5);
    feed(chan, sock, 'ab');
    expect(chan.getTerminator()).toBe(3);
    expect(chan.events).toEqual([['collect', 'ab']]);
    feed(chan, sock, 'cdefg');
    expect(chan.getTerminator()).toBe(0);
    feed(chan, sock, 'hij');
    expect(chan.events).toEqual([['collect', 'ab'], ['collect', 'cde'], ['found'], ['collect', 'fg'], ['collect', 'hij']]);
  });

  test('empty records fire foundTerminator without collectIncomingData (item 76)', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\n');
    feed(chan, sock, '\n\nx\n\n');
    expect(chan.events).toEqual([['found'], ['found'], ['collect', 'x'], ['found'], ['found']]);
  });

  test('a partial terminator is kept until the rest arrives (item 76)', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\r\n');
    feed(chan, sock, 'hello\r');
    expect(chan.events).toEqual([['collect', 'hello']]);
    expect(chan.acInBuffer).toEqual(b('\r'));
    feed(chan, sock, '\r');
    // "\r\r": the first \r is data after all, the second may start a terminator
    expect(chan.events).toEqual([['collect', 'hello'], ['collect', '\r']]);
    expect(chan.acInBuffer).toEqual(b('\r'));
    feed(chan, sock, '\nworld');
    expect(chan.events).toEqual([['collect', 'hello'], ['collect', '\r'], ['found'], ['collect', 'world']]);
    expect(chan.acInBuffer.length).toBe(0);
  });

  test('a buffer that is only a prefix is kept without a collect call', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('qqq');
    feed(chan, sock, 'qq');
    expect(chan.events).toEqual([]);
    expect(chan.acInBuffer).toEqual(b('qq'));
    feed(chan, sock, 'q');
    expect(chan.events).toEqual([['found']]);
  });

  test('null, 0 and empty terminators collect everything', () => {
    for (const t of [null, 0, '', EMPTY]) {
      const [chan, sock] = fakeChannel();
      chan.setTerminator(t);
      feed(chan, sock, 'a\nb', 'c');
      expect(chan.events).toEqual([['collect', 'a\nb'], ['collect', 'c']]);
    }
  });

  test('foundTerminator may change the terminator mid-buffer (item 77)', () => {
    class Http extends Recorder {
      override foundTerminator(): void {
        super.foundTerminator();
        const t = this.getTerminator();
        if (Buffer.isBuffer(t)) this.setTerminator(4);
        else this.setTerminator('\r\n\r\n');
      }
    }
    const [chan, sock] = fakeChannel(Http);
    chan.setTerminator('\r\n\r\n');
    feed(chan, sock, 'HEAD\r\n\r\nbodyHEAD2\r\n\r\nbo', 'dy');
    expect(chan.events).toEqual([
      ['collect', 'HEAD'],
      ['found'],
      ['collect', 'body'],
      ['found'],
      ['collect', 'HEAD2'],
      ['found'],
      ['collect', 'bo'],
      ['collect', 'dy'],
      ['found'],
    ]);
  });

  test('_collectIncomingData and _getData gather and join a record', () => {
    class Lines extends AsyncChat {
      lines: string[] = [];
      override collectIncomingData(data: Buffer): void {
        this._collectIncomingData(data);
      }
      override foundTerminator(): void {
        this.lines.push(this._getData().toString());
      }
    }
    const [chan, sock] = fakeChannel(Lines);
    chan.setTerminator('\n');
    feed(chan, sock, 'ab', 'c', 'd\ne', '\n');
    expect(chan.lines).toEqual(['abcd', 'e']);
    expect(chan.incoming).toEqual([]);
    expect(chan._getData()).toEqual(EMPTY);
  });
});

describe('output queue (items 79-83)', () => {
  test('a 70000-byte push is queued as 65536 + 4464, and the first slice goes at once', () => {
    const [chan, sock] = fakeChannel();
    chan.push(Buffer.alloc(70000, 0x61));
    expect(sock.sent.map((x) => x.length)).toEqual([65536]);
    expect([...chan.producerFifo].map((x) => (x as Buffer).length)).toEqual([4464]);
    expect(chan.writable()).toBe(true);
    chan.handleWrite();
    expect(sock.sent.map((x) => x.length)).toEqual([65536, 4464]);
    expect(chan.producerFifo.length).toBe(0);
    expect(chan.writable()).toBe(false);
  });

  test('a 70000-byte push arrives whole over a socketpair', () => {
    const map: SocketMap = new Map();
    const [a, bsock] = socket.socketpair();
    const chan = new Recorder(a, map);
    const data = Buffer.alloc(70000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const got: Buffer[] = [];
    try {
      chan.push(data);
      bsock.setblocking(false);
      const deadline = Date.now() + 20000;
      while (Buffer.concat(got).length < data.length && Date.now() < deadline) {
        loop({ map, count: 1, timeout: 0.05 });
        try {
          got.push(bsock.recv(100000));
        } catch (err) {
          if (!(err instanceof OSError && err.errno === EAGAIN)) throw err;
        }
      }
      expect(Buffer.concat(got).equals(data)).toBe(true);
    } finally {
      chan.close();
      bsock.close();
    }
  });

  test('a partial send keeps the rest at the head of the queue', () => {
    const [chan, sock] = fakeChannel();
    sock.sendPlan = [3, 0];
    chan.push('abcdefgh');
    expect(sock.sent.map(String)).toEqual(['abc']);
    chan.initiateSend(); // the kernel takes nothing: the queue is unchanged
    expect(sock.sent.map(String)).toEqual(['abc', '']);
    expect([...chan.producerFifo].map(String)).toEqual(['defgh']);
    chan.initiateSend();
    expect(sock.sent.map(String)).toEqual(['abc', '', 'defgh']);
    expect(chan.producerFifo.length).toBe(0);
  });

  test('an empty Buffer at the head is dropped and makes one zero-length send (item 81)', () => {
    const map: SocketMap = new Map();
    const [a, peer] = socket.socketpair();
    const sends: number[] = [];
    class Spy extends Recorder {
      override send(data: Buffer): number {
        const n = super.send(data);
        sends.push(data.length, n);
        return n;
      }
    }
    const chan = new Spy(a, map);
    try {
      chan.producerFifo.push(EMPTY);
      chan.producerFifo.push(b('abc'));
      chan.initiateSend();
      expect(sends).toEqual([0, 0]); // one send of zero bytes, which sent nothing
      expect([...chan.producerFifo].map(String)).toEqual(['abc']);
      chan.initiateSend();
      expect(sends).toEqual([0, 0, 3, 3]);
      expect(peer.recv(10)).toEqual(b('abc'));
      chan.push(EMPTY);
      expect(sends).toEqual([0, 0, 3, 3, 0, 0]);
      expect(chan.producerFifo.length).toBe(0);
    } finally {
      chan.close();
      peer.close();
    }
  });

  test('producers: more() output goes to the front; an exhausted producer is dropped', () => {
    const [chan, sock] = fakeChannel();
    chan.connected = false; // queue first, send later
    const calls: string[] = [];
    const pieces = ['one', 'two', ''];
    chan.pushWithProducer({
      more: () => {
        const p = pieces.shift() ?? '';
        calls.push(p);
        return p;
      },
    });
    chan.push('tail');
    expect(sock.sent).toEqual([]); // nothing is sent before connected
    chan.connected = true;
    for (let i = 0; i < 10 && chan.producerFifo.length > 0; i++) chan.initiateSend();
    expect(sock.sent.map(String)).toEqual(['one', 'two', 'tail']);
    expect(calls).toEqual(['one', 'two', '']);
  });

  test('a producer returning something that is not bytes is a TypeError; pushWithProducer refuses non-producers', () => {
    const [chan] = fakeChannel();
    expect(() => chan.pushWithProducer({ more: () => 42 as unknown as string })).toThrow(TypeError);
    expect(() => chan.pushWithProducer({} as unknown as Buffer)).toThrow(TypeError);
    expect(() => chan.pushWithProducer(5 as unknown as Buffer)).toThrow(TypeError);
  });

  test('an OSError from send goes to handleError; disconnects close quietly', () => {
    const [chan, sock] = fakeChannel();
    const err = new OSError(EIO, 'send');
    sock.sendPlan = [err];
    chan.push('x');
    expect(chan.errors).toEqual([err]);
    expect([...chan.producerFifo].map(String)).toEqual(['x']);

    const [chan2, sock2] = fakeChannel();
    sock2.sendPlan = [new OSError(osConstants.errno.EPIPE, 'send')];
    chan2.push('x');
    expect(chan2.errors).toEqual([]);
    expect(chan2.connected).toBe(false);
    expect(sock2.closed).toBe(true);
  });

  test('writable() while queued or not connected; readable() always', () => {
    const chan = new AsyncChat(null, new Map());
    expect(chan.readable()).toBe(true);
    expect(chan.writable()).toBe(true); // not connected
    chan.connected = true;
    expect(chan.writable()).toBe(false);
    chan.closeWhenDone();
    expect(chan.writable()).toBe(true);
  });

  test('closeWhenDone closes after the data is sent, and handleClose logs nothing', () => {
    const map: SocketMap = new Map();
    const [a, peer] = socket.socketpair();
    const chan = new Recorder(a, map);
    chan.ignoreLogTypes = new Set();
    const logged: string[] = [];
    chan.logInfo = (m: unknown, t = 'info') => void logged.push(`${t}: ${String(m)}`);
    peer.setblocking(false);
    chan.push('last words');
    chan.closeWhenDone();
    runLoop(map, true);
    expect(chan.connected).toBe(false);
    expect(peer.recv(100)).toEqual(b('last words'));
    expect(peer.recv(100)).toEqual(EMPTY); // EOF
    expect(logged).toEqual([]);
    peer.close();
  });

  test('discardBuffers empties the input buffer, incoming and the queue', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\r\n');
    feed(chan, sock, 'abc\r');
    chan.incoming.push(b('x'));
    chan.connected = false;
    chan.push('queued');
    chan.discardBuffers();
    expect(chan.acInBuffer.length).toBe(0);
    expect(chan.incoming).toEqual([]);
    expect(chan.producerFifo.length).toBe(0);
  });

  test('SimpleProducer hands out bufferSize pieces, then empty Buffers', () => {
    const p = new SimpleProducer('abcdefghij', 4);
    expect([p.more(), p.more(), p.more(), p.more()].map(String)).toEqual(['abcd', 'efgh', 'ij', '']);
    const q = new SimpleProducer(Buffer.alloc(1024));
    expect(q.bufferSize).toBe(512);
    expect([q.more().length, q.more().length, q.more().length]).toEqual([512, 512, 0]);
    const exact = new SimpleProducer('abcd', 4);
    expect([exact.more(), exact.more()].map(String)).toEqual(['abcd', '']);
    expect(() => new SimpleProducer(3 as unknown as string)).toThrow(TypeError);
  });
});

describe('findPrefixAtEnd (item 84)', () => {
  test("CPython's cases", () => {
    expect(findPrefixAtEnd('qwerty\r', '\r\n')).toBe(1);
    expect(findPrefixAtEnd('qwertydkjf', '\r\n')).toBe(0);
    expect(findPrefixAtEnd(b('qwerty\r'), b('\r\n'))).toBe(1);
    expect(findPrefixAtEnd(b('qwertydkjf'), b('\r\n'))).toBe(0);
  });

  test('longer prefixes, short haystacks, one-byte and empty needles', () => {
    expect(findPrefixAtEnd(b('xxqq'), b('qqq'))).toBe(2);
    expect(findPrefixAtEnd(b('q'), b('qqq'))).toBe(1);
    expect(findPrefixAtEnd(b(''), b('qqq'))).toBe(0);
    expect(findPrefixAtEnd(b('\r\n\r'), b('\r\n\r\n'))).toBe(3);
    expect(findPrefixAtEnd(b('aaaa'), b('a'))).toBe(0);
    expect(findPrefixAtEnd(b('abc'), EMPTY)).toBe(0);
    expect(findPrefixAtEnd('abc', b('c!'))).toBe(1);
  });
});

describe('maxIncomingBuffer (not in asynchat)', () => {
  test('off by default: a 200000-byte record without a terminator is collected', () => {
    const [chan, sock] = fakeChannel();
    expect(chan.maxIncomingBuffer).toBeNull();
    chan.setTerminator('\n');
    for (let i = 0; i < 4; i++) feed(chan, sock, 'x'.repeat(50000));
    expect(chan.errors).toEqual([]);
    expect(chan.events.length).toBe(4);
  });

  test('a record longer than the limit is an error; at the limit it is fine', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\r\n');
    chan.maxIncomingBuffer = 10;
    feed(chan, sock, '0123456789\r', '\n', '0123', '456789', '\r\n');
    expect(chan.errors).toEqual([]);
    expect(chan.events.filter((e) => e[0] === 'found').length).toBe(2);
    feed(chan, sock, '012345', '6789X');
    expect(chan.errors.length).toBe(1);
    const err = chan.errors[0] as BufferOverflowError;
    expect(err).toBeInstanceOf(BufferOverflowError);
    expect(err).toBeInstanceOf(RangeError);
    expect(err.name).toBe('BufferOverflowError');
    expect(err.limit).toBe(10);
    expect(err.size).toBe(11);
    expect(err.message).toMatch(/\b10 bytes\b/);
  });

  test('a terminated record over the limit in one read is an error too', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\n');
    chan.maxIncomingBuffer = 3;
    feed(chan, sock, 'abc\nabcd\n');
    expect(chan.events).toEqual([['collect', 'abc'], ['found']]);
    expect(chan.errors.length).toBe(1);
    expect(chan.errors[0]).toBeInstanceOf(BufferOverflowError);
  });

  test('many short records in one large read are fine: the limit is per record', () => {
    const [chan, sock] = fakeChannel();
    chan.setTerminator('\n');
    chan.maxIncomingBuffer = 8;
    feed(chan, sock, 'short\n'.repeat(1000));
    expect(chan.errors).toEqual([]);
    expect(chan.events.filter((e) => e[0] === 'found').length).toBe(1000);
  });

  test('integer and null terminators are not limited', () => {
    const [chan, sock] = fakeChannel();
    chan.maxIncomingBuffer = 4;
    chan.setTerminator(100);
    feed(chan, sock, 'x'.repeat(60), 'y'.repeat(60));
    chan.setTerminator(null);
    feed(chan, sock, 'z'.repeat(60));
    expect(chan.errors).toEqual([]);
  });

  test.each(passes)('over real sockets (%s): the error reaches handleError and the default closes the channel', (_n, usePoll) => {
    const map: SocketMap = new Map();
    const [a, peer] = socket.socketpair();
    const seen: unknown[] = [];
    const logged: string[] = [];
    let collected = 0;
    class Limited extends AsyncChat {
      override collectIncomingData(data: Buffer): void {
        collected += data.length;
      }
      override foundTerminator(): void {}
      override handleError(err: unknown): void {
        seen.push(err);
        super.handleError(err);
      }
      override logInfo(m: unknown, t = 'info'): void {
        logged.push(`${t}: ${String(m)}`);
      }
    }
    const chan = new Limited(a, map);
    chan.setTerminator('\n');
    chan.maxIncomingBuffer = 100;
    try {
      peer.send('y'.repeat(60));
      runLoop(map, usePoll, () => collected === 60);
      expect(seen).toEqual([]);
      peer.send('y'.repeat(60));
      runLoop(map, usePoll);
      expect(seen.length).toBe(1);
      expect(seen[0]).toBeInstanceOf(BufferOverflowError);
      expect(chan.connected).toBe(false);
      expect(chan.socket?.fileno()).toBe(-1);
      expect(logged.length).toBe(1);
      expect(logged[0]).toMatch(/^error: .*BufferOverflowError.*maxIncomingBuffer \(100 bytes\)/);
    } finally {
      chan.close();
      peer.close();
    }
  });
});
