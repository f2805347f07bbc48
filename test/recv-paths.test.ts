/**
 * Socket#recv() has two ways to read and both must give a caller the same
 * thing: a Buffer of its own holding exactly the bytes received. Small reads
 * go through a reused scratch buffer and are copied out; a stream that fills
 * large buffers (≥ 32 KiB) reads straight into the Buffer that is returned
 * (lib/socket.ts, recvDirect). These tests make the second path run, check
 * that it did, and compare every result with the bytes that were sent, also
 * after later reads (a result must never share memory with a later one).
 */
import './helpers/native';
import { Buffer } from 'node:buffer';
import { socket, Dispatcher, loop } from '../lib';
import { binding, checkNoFdLeaks, Owned, osError } from './helpers/raw';

const own = new Owned();
afterEach(() => {
  own.closeAll();
  jest.restoreAllMocks();
});
checkNoFdLeaks();

const BIG = 65536;

/** Bytes [offset, offset + n) of a stream whose every 64 KiB block differs from the others (a multiplicative hash). */
function pattern(offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.imul(offset + i, 2654435761) >>> 24;
  return b;
}

/** Results as a handler would keep them: each with the stream offset it should hold. */
class Kept {
  readonly items: { data: Buffer; offset: number }[] = [];
  read = 0;
  keep(data: Buffer): Buffer {
    this.items.push({ data, offset: this.read });
    this.read += data.length;
    return data;
  }
  /** Every kept result still holds its bytes; large ones own exactly their bytes (no foreign tail in .buffer). */
  check(): void {
    for (const { data, offset } of this.items) {
      expect(Buffer.isBuffer(data)).toBe(true);
      expect(data.equals(pattern(offset, data.length))).toBe(true);
      if (data.length >= 4096) {
        expect(data.byteOffset).toBe(0);
        expect(data.buffer.byteLength).toBe(data.length);
      }
    }
  }
}

test('a stream of large reads reads into the returned Buffer; results equal the copying path\'s', () => {
  const [a, b] = own.pair(); // AF_UNIX stream: recv() gathers everything queued, up to bufsize
  const direct = jest.spyOn(binding, 'recvInto');
  const kept = new Kept();
  let sent = 0;
  const send = (n: number): void => {
    a.sendall(pattern(sent, n));
    sent += n;
  };

  // A full 64 KiB read through the scratch buffer: the stream now counts as "large".
  send(BIG + 100);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).not.toHaveBeenCalled();
  // Read straight into a new block; only 100 bytes came: they are copied out, the block kept back.
  expect(kept.keep(b.recv(BIG))).toHaveLength(100);
  expect(direct).toHaveBeenCalledTimes(1);
  // A short read ends the large mode: the next read copies again, the one after reads direct
  // into the kept-back block and returns it whole.
  send(2 * BIG);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).toHaveBeenCalledTimes(1);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).toHaveBeenCalledTimes(2);

  // Flags (MSG_PEEK) take the copying path and leave the bytes queued.
  send(BIG);
  const peeked = b.recv(BIG, socket.MSG_PEEK);
  expect(peeked.equals(pattern(kept.read, BIG))).toBe(true);
  expect(direct).toHaveBeenCalledTimes(2);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).toHaveBeenCalledTimes(3);

  // Other sizes, large and small, between large reads.
  send(40000 + 10 + BIG);
  expect(kept.keep(b.recv(40000))).toHaveLength(40000);
  expect(kept.keep(b.recv(10))).toHaveLength(10);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  send(3 * BIG);
  expect(direct).toHaveBeenCalledTimes(4); // 40000 was large and filled: 10 (small) ends the mode
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).toHaveBeenCalledTimes(6);
  kept.check(); // two blocks returned one after the other are two blocks

  // A handler writing into a result it got does not change what the next reads return.
  kept.items[kept.items.length - 1].data.fill(0);
  kept.items.pop();
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).toHaveBeenCalledTimes(7);

  // Nothing queued on a non-blocking socket: EAGAIN, as on the copying path, and no byte lost.
  b.setblocking(false);
  expect(osError(() => b.recv(BIG)).code).toBe('EAGAIN');
  expect(direct).toHaveBeenCalledTimes(8);
  send(BIG);
  expect(kept.keep(b.recv(BIG))).toHaveLength(BIG);
  expect(direct).toHaveBeenCalledTimes(9);

  // EOF: an empty Buffer.
  a.close();
  const eof = b.recv(BIG);
  expect(direct).toHaveBeenCalledTimes(10);
  expect(Buffer.isBuffer(eof)).toBe(true);
  expect(eof).toHaveLength(0);

  expect(kept.read).toBe(sent);
  kept.check();
});

test('a handler keeping every recv(65536) of a 4 MiB stream sees exactly the bytes sent', () => {
  const map = new Map();
  const [a, b] = own.pair();
  const direct = jest.spyOn(binding, 'recvInto');
  const kept = new Kept();
  class Keeper extends Dispatcher {
    override writable(): boolean {
      return false;
    }
    override handleRead(): void {
      kept.keep(this.recv(BIG));
    }
  }
  class Writer extends Dispatcher {
    sent = 0;
    private sizes = [65536, 1, 70000, 4096, 131072, 65535, 300000, 17];
    private i = 0;
    override readable(): boolean {
      return false;
    }
    override writable(): boolean {
      return this.sent < TOTAL;
    }
    override handleWrite(): void {
      const n = Math.min(this.sizes[this.i++ % this.sizes.length], TOTAL - this.sent);
      this.sent += this.send(pattern(this.sent, n));
    }
  }
  const TOTAL = 4 << 20;
  b.setblocking(false);
  a.setblocking(false);
  const reader = new Keeper(b, map);
  const writer = new Writer(a, map);
  for (let i = 0; i < 5000 && kept.read < TOTAL; i++) loop({ map, timeout: 1, count: 1, backend: 'poll' });
  expect(writer.sent).toBe(TOTAL);
  expect(kept.read).toBe(TOTAL);
  expect(direct).toHaveBeenCalled(); // the large-read path did run
  kept.check();
  reader.close();
  writer.close();
  expect(map.size).toBe(0);
});

test('a reset connection raises the same OSError on both paths', () => {
  const l = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_STREAM));
  l.bind(['127.0.0.1', 0]);
  l.listen(4);
  const direct = jest.spyOn(binding, 'recvInto');
  const outcomes: string[] = [];
  for (const large of [true, false]) {
    const c = own.sock(new socket.Socket(socket.AF_INET, socket.SOCK_STREAM));
    c.connect(l.getsockname());
    const [s] = l.accept();
    own.sock(s);
    if (large) {
      c.sendall(pattern(0, BIG));
      let got = 0;
      while (got < BIG) got += s.recv(BIG - got).length; // the last read fills its buffer
    }
    const calls = direct.mock.calls.length;
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0); // l_onoff = 1, l_linger = 0: close() sends RST
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger);
    c.close();
    const err = osError(() => s.recv(BIG));
    outcomes.push(`${err.code} ${err.syscall}`);
    expect(direct.mock.calls.length - calls).toBe(large ? 1 : 0);
  }
  expect(outcomes).toEqual(['ECONNRESET recv', 'ECONNRESET recv']);
});
