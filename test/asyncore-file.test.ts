/**
 * CPython's FileWrapperTest (test_asyncore.py 374-442) and checklist items
 * 63-67: FileWrapper and FileDispatcher over real regular files and pipes.
 */
import './helpers/native';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { constants as osConstants } from 'node:os';
import { FileDispatcher, FileWrapper, OSError, closeAll, loop, socket, socketMap, type SocketMap } from '../lib';
import { binding } from '../lib/native';
import { isFdOpen, loopUntil, tmpFilePath, unlinkTmpPaths } from './helpers/loop';

const E = osConstants.errno;
const { SOL_SOCKET, SO_ERROR, SO_TYPE } = socket;
const DATA = Buffer.from("It's not dead, it's sleeping!");

let testfn: string;
const rawFds: number[] = [];

/** An fd the test closes in afterEach (unless it did already). */
function trackFd(fd: number): number {
  rawFds.push(fd);
  return fd;
}

function closeFdQuiet(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** A pipe: [readFd, writeFd], both tracked. */
function pipe(): [number, number] {
  const [r, w] = binding.pipe();
  return [trackFd(r), trackFd(w)];
}

beforeEach(() => {
  testfn = tmpFilePath('file');
  fs.writeFileSync(testfn, DATA);
});

afterEach(() => {
  closeAll(socketMap, true);
  for (const fd of rawFds.splice(0)) closeFdQuiet(fd);
  unlinkTmpPaths();
});

describe('FileWrapper (items 63-65)', () => {
  test('test_recv: keeps a dup, so the original may be closed; recv/read read in order; read after close throws', () => {
    const fd = fs.openSync(testfn, 'r');
    const w = new FileWrapper(fd);
    fs.closeSync(fd);
    try {
      expect(w.fd).not.toBe(fd);
      expect(w.fileno()).not.toBe(fd);
      expect(w.recv(13).toString()).toBe("It's not dead");
      expect(w.read(6).toString()).toBe(", it's");
    } finally {
      w.close();
    }
    expect(() => w.read(1)).toThrow(OSError);
    expect(w.fileno()).toBe(-1);
  });

  test('test_send: write and send append to the file', () => {
    const d1 = Buffer.from('Come again?');
    const d2 = Buffer.from('I want to buy some cheese.');
    const fd = fs.openSync(testfn, fs.constants.O_WRONLY | fs.constants.O_APPEND);
    const w = new FileWrapper(fd);
    fs.closeSync(fd);
    expect(w.write(d1)).toBe(d1.length);
    expect(w.send(d2)).toBe(d2.length);
    w.close();
    expect(fs.readFileSync(testfn)).toEqual(Buffer.concat([DATA, d1, d2]));
  });

  test('test_close_twice: an fd closed behind its back makes close() throw once, then the wrapper is closed', () => {
    const fd = fs.openSync(testfn, 'r');
    const f = new FileWrapper(fd);
    fs.closeSync(fd);
    fs.closeSync(f.fd); // the dup
    let err: unknown;
    try {
      f.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OSError);
    expect((err as OSError).errno).toBe(E.EBADF);
    expect(f.fd).toBe(-1);
    expect(() => f.close()).not.toThrow();
  });

  test('getsockopt(SOL_SOCKET, SO_ERROR) is 0; anything else throws', () => {
    const fd = trackFd(fs.openSync(testfn, 'r'));
    const w = new FileWrapper(fd);
    try {
      expect(w.getsockopt(SOL_SOCKET, SO_ERROR)).toBe(0);
      expect(() => w.getsockopt(SOL_SOCKET, SO_TYPE)).toThrow(/Only asyncore specific behaviour implemented/);
      expect(() => w.getsockopt(SOL_SOCKET, SO_ERROR, 4)).toThrow();
    } finally {
      w.close();
    }
  });

  test('closing the wrapper closes only the dup, never a reused number', () => {
    const fd = trackFd(fs.openSync(testfn, 'r'));
    const w = new FileWrapper(fd);
    const dup = w.fd;
    w.close();
    expect(isFdOpen(dup)).toBe(false);
    expect(isFdOpen(fd)).toBe(true);
    const again = trackFd(fs.openSync(testfn, 'r')); // the lowest free number: likely `dup`
    w.close();
    expect(isFdOpen(again)).toBe(true);
  });

  test('an unclosed wrapper that is garbage-collected warns (ResourceWarning) and closes its fd (item 65)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (() => void) | undefined;
    if (typeof gc !== 'function') return; // no way to force a collection here
    // process.emitWarning is recorded instead of listening for 'warning': jest's sandboxed
    // process object does not see the events of the real one.
    const warnings: Array<{ message: string; type: string }> = [];
    const origEmit = process.emitWarning;
    process.emitWarning = ((message: string | Error, type?: unknown) => {
      warnings.push({ message: String(message), type: typeof type === 'string' ? type : '' });
    }) as typeof process.emitWarning;
    try {
      const fd = fs.openSync(testfn, 'r');
      let dup = -1;
      (() => {
        const w = new FileWrapper(fd);
        dup = w.fd;
      })();
      fs.closeSync(fd);
      for (let i = 0; i < 100 && warnings.length === 0; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(warnings).toContainEqual({ message: `unclosed file wrapper fd=${dup}`, type: 'ResourceWarning' });
      expect(isFdOpen(dup)).toBe(false);
    } finally {
      process.emitWarning = origEmit;
    }
  });
});

describe('FileDispatcher (items 66-67)', () => {
  test.each([
    ['poll', true],
    ['select', false],
  ])('test_dispatcher: reads a regular file in the default map, then EOF closes it (%s pass)', (_n, usePoll) => {
    const fd = fs.openSync(testfn, 'r');
    const data: Buffer[] = [];
    let closes = 0;
    class FD extends FileDispatcher {
      override handleRead(): void {
        data.push(this.recv(29));
      }
      override handleClose(): void {
        closes++;
        super.handleClose();
      }
    }
    const s = new FD(fd);
    fs.closeSync(fd);
    expect(socketMap.get(s._fileno!)).toBe(s);
    loop({ timeout: 0.01, usePoll, count: 2 });
    expect(Buffer.concat(data)).toEqual(DATA);
    expect(closes).toBe(1); // the second pass reads EOF: handleClose
    expect(socketMap.size).toBe(0);
    expect(s.connected).toBe(false);
  });

  test('accepts an fd, { fd } or { fileno() }; connected; registered in the given map; the original fd is made non-blocking', () => {
    const map: SocketMap = new Map();
    try {
      const [r1, w1] = pipe();
      const [r2] = pipe();
      const [r3] = pipe();
      expect(binding.getBlocking(r1)).toBe(true);
      const a = new FileDispatcher(r1, map);
      const b = new FileDispatcher({ fd: r2 }, map);
      const c = new FileDispatcher({ fileno: () => r3 }, map);
      for (const [d, orig] of [
        [a, r1],
        [b, r2],
        [c, r3],
      ] as const) {
        expect(d.connected).toBe(true);
        expect(d.socket).toBeInstanceOf(FileWrapper);
        expect(d._fileno).not.toBe(orig); // the dup
        expect(map.get(d._fileno!)).toBe(d);
        expect(binding.getBlocking(orig)).toBe(false); // shares the open file description
      }
      expect(socketMap.size).toBe(0);
      expect(() => new FileDispatcher('3' as unknown as number, map)).toThrow(TypeError);
      void w1;
    } finally {
      closeAll(map, true);
    }
  });

  test('a non-blocking pipe with no data: recv throws EAGAIN (not caught by recv)', () => {
    const map: SocketMap = new Map();
    const [r] = pipe();
    const d = new FileDispatcher(r, map);
    try {
      expect(binding.getBlocking(d._fileno!)).toBe(false); // else the recv below would block for good
      let err: unknown;
      try {
        d.recv(10);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OSError);
      expect((err as OSError).errno).toBe(E.EAGAIN);
      expect(d.connected).toBe(true);
    } finally {
      closeAll(map, true);
    }
  });

  test.each([
    ['select', false],
    ['poll', true],
  ])('a pipe: data reaches handleRead; the writer closing ends in one handleClose (%s pass)', (pass, usePoll) => {
    const map: SocketMap = new Map();
    const [r, w] = pipe();
    const got: Buffer[] = [];
    const events: string[] = [];
    class Reader extends FileDispatcher {
      override writable(): boolean {
        return false;
      }
      override handleRead(): void {
        const data = this.recv(1024);
        got.push(data);
        events.push(`read:${data.length}`);
      }
      override handleClose(): void {
        events.push('close');
        this.close();
      }
    }
    const d = new Reader(r, map);
    try {
      binding.write(w, Buffer.from('through the pipe'));
      expect(loopUntil(() => Buffer.concat(got).toString() === 'through the pipe', { usePoll, map })).toBe(true);
      expect(events).toEqual(['read:16']);
      fs.closeSync(w);
      expect(loopUntil(() => events.includes('close'), { usePoll, map })).toBe(true);
      if (pass === 'select') {
        // readable: recv() reads EOF and calls handleClose (logged before handleRead's own entry)
        expect(events).toEqual(['read:16', 'close', 'read:0']);
      } else {
        // an empty pipe whose writer is gone polls as POLLHUP alone: handleClose without a read
        expect(events).toEqual(['read:16', 'close']);
      }
      expect(map.size).toBe(0);
      expect(d.connected).toBe(false);
    } finally {
      closeAll(map, true);
    }
  });

  test('a pipe writer: handleWrite sends through the wrapper', () => {
    const map: SocketMap = new Map();
    const [r, w] = pipe();
    let sent = 0;
    class Writer extends FileDispatcher {
      override readable(): boolean {
        return false;
      }
      override writable(): boolean {
        return sent === 0;
      }
      override handleWrite(): void {
        sent += this.send('written by the loop');
      }
    }
    new Writer(w, map);
    try {
      expect(loopUntil(() => sent > 0, { usePoll: true, map })).toBe(true);
      expect(binding.read(r, 100).toString()).toBe('written by the loop');
    } finally {
      closeAll(map, true);
    }
  });
});
