/**
 * CPython's HelperFunctionTests (test_asyncore.py 106-242) and the module-level
 * machinery around them: the event wrappers read/write/exception/readwrite
 * with duck-typed objects, ExitNow and the extensible reraisedExceptions,
 * closeAll (checklist item 62), compactTraceback and strerror.
 */
import './helpers/native';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import {
  Dispatcher,
  ExitNow,
  OSError,
  closeAll,
  compactTraceback,
  loop,
  poll,
  poll2,
  read,
  readwrite,
  reraisedExceptions,
  select,
  socket,
  socketMap,
  strerror,
  write,
  type SocketMap,
} from '../lib';
import { exception } from '../lib/loop';
import { binding } from '../lib/native';

const E = osConstants.errno;
const { POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL } = select;

/** Duck-typed objects stand in for dispatchers, as in CPython's tests. */
const asDispatcher = (o: object): Dispatcher => o as unknown as Dispatcher;

class DummySocket {
  closed = false;
  close(): void {
    this.closed = true;
  }
  fileno(): number {
    return 42;
  }
}

class DummyChannel {
  socket = new DummySocket();
  close(): void {
    this.socket.close();
  }
}

/** Every event method throws ExitNow. */
class ExitingDummy {
  handleReadEvent(): void {
    throw new ExitNow();
  }
  handleWriteEvent(): void {
    throw new ExitNow();
  }
  handleClose(): void {
    throw new ExitNow();
  }
  handleExptEvent(): void {
    throw new ExitNow();
  }
}

/** Every event method throws a plain Error; handleError records it. */
class CrashingDummy {
  errorHandled = false;
  handled: unknown[] = [];
  handleReadEvent(): void {
    throw new Error('crash');
  }
  handleWriteEvent(): void {
    throw new Error('crash');
  }
  handleClose(): void {
    throw new Error('crash');
  }
  handleExptEvent(): void {
    throw new Error('crash');
  }
  handleError(err: unknown): void {
    this.errorHandled = true;
    this.handled.push(err);
  }
}

afterEach(() => {
  closeAll(socketMap, true);
});

describe('read / write / exception (the select path wrappers, item 6)', () => {
  test('ExitNow propagates out of read, write and exception', () => {
    const tr1 = asDispatcher(new ExitingDummy());
    expect(() => read(tr1)).toThrow(ExitNow);
    expect(() => write(tr1)).toThrow(ExitNow);
    expect(() => exception(tr1)).toThrow(ExitNow);
  });

  test.each([
    ['read', read],
    ['write', write],
    ['exception', exception],
  ] as const)('any other error in %s goes to handleError with the error', (_name, fn) => {
    const tr2 = new CrashingDummy();
    fn(asDispatcher(tr2));
    expect(tr2.errorHandled).toBe(true);
    expect(tr2.handled).toHaveLength(1);
    expect((tr2.handled[0] as Error).message).toBe('crash');
  });

  test('read() sends even a disconnect OSError to handleError (unlike readwrite)', () => {
    const calls: string[] = [];
    const obj = {
      handleReadEvent(): void {
        throw new OSError(E.ECONNRESET, 'recv');
      },
      handleError(err: unknown): void {
        calls.push(`error:${(err as OSError).code}`);
      },
      handleClose(): void {
        calls.push('close');
      },
    };
    read(asDispatcher(obj));
    expect(calls).toEqual(['error:ECONNRESET']);
  });
});

describe('readwrite (the poll path wrapper, items 8-9)', () => {
  const attributes = ['read', 'expt', 'write', 'closed', 'errorHandled'] as const;
  type Attr = (typeof attributes)[number];

  class TestObj {
    read = false;
    write = false;
    closed = false;
    expt = false;
    errorHandled = false;
    handleReadEvent(): void {
      this.read = true;
    }
    handleWriteEvent(): void {
      this.write = true;
    }
    handleClose(): void {
      this.closed = true;
    }
    handleExptEvent(): void {
      this.expt = true;
    }
    handleError(): void {
      this.errorHandled = true;
    }
  }

  const expected: Array<[string, number, Attr]> = [
    ['POLLIN', POLLIN, 'read'],
    ['POLLPRI', POLLPRI, 'expt'],
    ['POLLOUT', POLLOUT, 'write'],
    ['POLLERR', POLLERR, 'closed'],
    ['POLLHUP', POLLHUP, 'closed'],
    ['POLLNVAL', POLLNVAL, 'closed'],
  ];

  test.each(expected)('%s calls exactly the matching handler; ExitNow propagates; other errors go to handleError', (_n, flag, attr) => {
    const tobj = new TestObj();
    expect(tobj[attr]).toBe(false);
    readwrite(asDispatcher(tobj), flag);
    for (const a of attributes) expect([a, tobj[a]]).toEqual([a, a === attr]);

    expect(() => readwrite(asDispatcher(new ExitingDummy()), flag)).toThrow(ExitNow);

    const tr2 = new CrashingDummy();
    expect(tr2.errorHandled).toBe(false);
    readwrite(asDispatcher(tr2), flag);
    expect(tr2.errorHandled).toBe(true);
  });

  test('several flags fire in the fixed order read, write, expt, close', () => {
    const order: string[] = [];
    const obj = {
      handleReadEvent: () => order.push('read'),
      handleWriteEvent: () => order.push('write'),
      handleExptEvent: () => order.push('expt'),
      handleClose: () => order.push('close'),
      handleError: () => order.push('error'),
    };
    readwrite(asDispatcher(obj), POLLHUP | POLLPRI | POLLOUT | POLLIN | POLLERR);
    expect(order).toEqual(['read', 'write', 'expt', 'close']); // HUP|ERR: one handleClose
  });

  test('an error stops the remaining handlers of that call', () => {
    const order: string[] = [];
    const obj = {
      handleReadEvent: () => order.push('read'),
      handleWriteEvent: () => {
        order.push('write');
        throw new Error('boom');
      },
      handleExptEvent: () => order.push('expt'),
      handleClose: () => order.push('close'),
      handleError: () => order.push('error'),
    };
    readwrite(asDispatcher(obj), POLLIN | POLLOUT | POLLPRI | POLLHUP);
    expect(order).toEqual(['read', 'write', 'error']);
  });

  test.each([
    ['ECONNRESET', E.ECONNRESET],
    ['ENOTCONN', E.ENOTCONN],
    ['ESHUTDOWN', binding.constants.ESHUTDOWN],
    ['ECONNABORTED', E.ECONNABORTED],
    ['EPIPE', E.EPIPE],
    ['EBADF', E.EBADF],
  ])('a disconnect OSError (%s) goes to handleClose, never handleError', (_n, errno) => {
    const calls: string[] = [];
    const obj = {
      handleReadEvent(): void {
        throw new OSError(errno, 'recv');
      },
      handleClose: () => calls.push('close'),
      handleError: () => calls.push('error'),
    };
    readwrite(asDispatcher(obj), POLLIN);
    expect(calls).toEqual(['close']);
  });

  test('any other OSError goes to handleError with the error', () => {
    const got: unknown[] = [];
    const obj = {
      handleReadEvent(): void {
        throw new OSError(E.EINVAL, 'recv');
      },
      handleClose: () => got.push('close'),
      handleError: (err: unknown) => got.push(err),
    };
    readwrite(asDispatcher(obj), POLLIN);
    expect(got).toHaveLength(1);
    expect((got[0] as OSError).code).toBe('EINVAL');
  });
});

describe('ExitNow and reraisedExceptions (item 4)', () => {
  test('ExitNow is an Error subclass named ExitNow', () => {
    const e = new ExitNow('stop');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ExitNow');
    expect(e.message).toBe('stop');
    expect(reraisedExceptions.has(ExitNow)).toBe(true);
  });

  test.each([
    ['select', false],
    ['poll', true],
  ])('ExitNow from a handler propagates out of loop() (%s pass); other errors go to handleError', (_n, usePoll) => {
    const map: SocketMap = new Map();
    const [a, b] = socket.socketpair();
    const events: string[] = [];
    class Stopper extends Dispatcher {
      mode: 'exit' | 'crash' = 'crash';
      override handleRead(): void {
        this.recv(100);
        events.push(`read:${this.mode}`);
        if (this.mode === 'exit') throw new ExitNow('enough');
        throw new TypeError('not ExitNow');
      }
      override writable(): boolean {
        return false;
      }
      override handleError(err: unknown): void {
        events.push(`error:${(err as Error).name}`);
      }
    }
    try {
      const d = new Stopper(a, map);
      b.send('x');
      // a plain error: handled, the loop carries on and returns after its count
      expect(() => loop({ timeout: 1, usePoll, map, count: 1 })).not.toThrow();
      expect(events).toEqual(['read:crash', 'error:TypeError']);
      d.mode = 'exit';
      b.send('y');
      expect(() => loop({ timeout: 1, usePoll, map })).toThrow(ExitNow);
      expect(events).toEqual(['read:crash', 'error:TypeError', 'read:exit']);
      expect(map.size).toBe(1); // the loop stopped; nothing was closed
      // poll() / poll2() let it through as well
      b.send('z');
      expect(() => (usePoll ? poll2 : poll)(1, map)).toThrow(ExitNow);
    } finally {
      closeAll(map, true);
      b.close();
    }
  });

  test('a class added to reraisedExceptions propagates from read/write/readwrite/closeAll; removing it restores handleError', () => {
    class Fatal extends Error {}
    const handled: unknown[] = [];
    const obj = asDispatcher({
      handleReadEvent(): void {
        throw new Fatal('fatal');
      },
      handleWriteEvent(): void {
        throw new Fatal('fatal');
      },
      handleError: (err: unknown) => handled.push(err),
      close(): void {
        throw new Fatal('fatal');
      },
    });
    reraisedExceptions.add(Fatal);
    try {
      expect(() => read(obj)).toThrow(Fatal);
      expect(() => write(obj)).toThrow(Fatal);
      expect(() => readwrite(obj, POLLIN)).toThrow(Fatal);
      const m = new Map([[1, obj]]) as SocketMap;
      expect(() => closeAll(m, true)).toThrow(Fatal);
      expect(m.size).toBe(1);
      expect(handled).toEqual([]);
    } finally {
      reraisedExceptions.delete(Fatal);
    }
    read(obj);
    expect(handled).toHaveLength(1);
    expect(handled[0]).toBeInstanceOf(Fatal);
  });
});

describe('closeAll (item 62)', () => {
  function closeallCheck(useDefault: boolean): void {
    const l: DummyChannel[] = [];
    const testmap = new Map<number, DummyChannel>();
    for (let i = 0; i < 10; i++) {
      const c = new DummyChannel();
      l.push(c);
      expect(c.socket.closed).toBe(false);
      testmap.set(i, c);
    }
    if (useDefault) {
      expect(socketMap.size).toBe(0);
      for (const [k, v] of testmap) socketMap.set(k, asDispatcher(v));
      closeAll();
      expect(socketMap.size).toBe(0);
    } else {
      closeAll(testmap as unknown as SocketMap);
      expect(testmap.size).toBe(0);
    }
    for (const c of l) expect(c.socket.closed).toBe(true);
  }

  test('closes every duck-typed channel of a given map and empties it', () => closeallCheck(false));
  test('with no map, closes the default socketMap', () => closeallCheck(true));

  test('calls close(), not handleClose()', () => {
    const calls: string[] = [];
    const m = new Map([[3, asDispatcher({ close: () => calls.push('close'), handleClose: () => calls.push('handleClose') })]]);
    closeAll(m);
    expect(calls).toEqual(['close']);
    expect(m.size).toBe(0);
  });

  test('EBADF from close() is ignored and the rest still close', () => {
    const closed: number[] = [];
    const m: SocketMap = new Map();
    m.set(1, asDispatcher({ close: () => closed.push(1) }));
    m.set(2, asDispatcher({ close: () => { throw new OSError(E.EBADF, 'close'); } }));
    m.set(3, asDispatcher({ close: () => closed.push(3) }));
    closeAll(m);
    expect(closed).toEqual([1, 3]);
    expect(m.size).toBe(0);
  });

  test('another OSError propagates (map not cleared, later channels not closed) unless ignoreAll', () => {
    const closed: number[] = [];
    const build = (): SocketMap => {
      const m: SocketMap = new Map();
      m.set(1, asDispatcher({ close: () => closed.push(1) }));
      m.set(2, asDispatcher({ close: () => { throw new OSError(E.EIO, 'close'); } }));
      m.set(3, asDispatcher({ close: () => closed.push(3) }));
      return m;
    };
    const m1 = build();
    expect(() => closeAll(m1)).toThrow(OSError);
    expect(closed).toEqual([1]);
    expect(m1.size).toBe(3);

    closed.length = 0;
    const m2 = build();
    closeAll(m2, true);
    expect(closed).toEqual([1, 3]);
    expect(m2.size).toBe(0);
  });

  test('a non-OSError propagates unless ignoreAll; ExitNow propagates even with ignoreAll', () => {
    const m1: SocketMap = new Map([[1, asDispatcher({ close: () => { throw new TypeError('bad'); } })]]);
    expect(() => closeAll(m1)).toThrow(TypeError);
    expect(m1.size).toBe(1);
    closeAll(m1, true);
    expect(m1.size).toBe(0);

    const m2: SocketMap = new Map([[1, asDispatcher({ close: () => { throw new ExitNow(); } })]]);
    expect(() => closeAll(m2, true)).toThrow(ExitNow);
    expect(m2.size).toBe(1);
  });

  test('closes real dispatchers: sockets closed, flags cleared, map empty', () => {
    const m: SocketMap = new Map();
    const [a, b] = socket.socketpair();
    const da = new Dispatcher(a, m);
    const db = new Dispatcher(b, m);
    expect(m.size).toBe(2);
    closeAll(m);
    expect(m.size).toBe(0);
    expect(a.fileno()).toBe(-1);
    expect(b.fileno()).toBe(-1);
    expect(da.connected).toBe(false);
    expect(db.connected).toBe(false);
  });
});

describe('compactTraceback (test_compact_traceback, adapted to Error.stack)', () => {
  function tracebackProbe(): never {
    throw new Error("I don't like spam!"); // compact-traceback-marker
  }

  test('names this file, the throwing function and its line; type and value match the error', () => {
    let err: unknown;
    try {
      tracebackProbe();
    } catch (e) {
      err = e;
    }
    const r = compactTraceback(err);
    const here = path.basename(__filename);
    const srcLines = fs.readFileSync(__filename, 'utf8').split('\n');
    const line = String(srcLines.findIndex((l) => l.includes('// compact-traceback-marker')) + 1);
    expect(r.file).toBe(here);
    expect(r.func).toMatch(/tracebackProbe/);
    expect(r.line).toBe(line);
    expect(r.type).toBe('Error');
    expect(r.value).toBe("I don't like spam!");
    // info runs outermost → innermost; the innermost frame is the probe
    const frames = r.info.split(' ');
    expect(frames[frames.length - 1]).toBe(`[${r.file}|${r.func}|${r.line}]`);
    for (const f of frames) expect(f).toMatch(/^\[[^|\]]*\|[^|\]]*\|\d+\]$/);
  });

  test('a thrown non-Error still gives a type and value', () => {
    const r = compactTraceback('just a string');
    expect(r.type).toBe('string');
    expect(r.value).toBe('just a string');
  });
});

describe('strerror (test_strerror, bpo-8573)', () => {
  test('matches the C library text, and is not empty for -1', () => {
    expect(strerror(E.EPERM)).toBe('Operation not permitted');
    expect(strerror(-1)).not.toBe('');
    expect(strerror(-1)).toMatch(/Unknown error/);
    expect(new OSError(E.ECONNREFUSED, 'connect').message).toContain(strerror(E.ECONNREFUSED));
  });
});
