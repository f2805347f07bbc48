/**
 * Timers in the loop: loop() and loopAsync() run the map's due timers after
 * each pass and cut each pass's wait at the next deadline, on every backend,
 * with the same results under both. Most tests use a FakeClock (nothing
 * sleeps); a few use the real clock to show that a pass waits until the
 * deadline — not past it, and without spinning before it. And with no timer
 * pending, every pass is asyncore's own: the same questions, deliveries and
 * waits as asyncore's poll()/poll2() called by hand.
 */
import './helpers/native';
import {
  callLater,
  Dispatcher,
  ExitNow,
  FakeClock,
  loop,
  loopAsync,
  poll,
  poll2,
  releaseBackend,
  select,
  socket,
  timersFor,
  type Backend,
  type LoopOptions,
  type SocketMap,
  type TimerHandle,
} from '../lib';
import { passTimeout } from '../lib/timers';
import { lines } from './helpers/loop';
import { openFds } from './helpers/fds';

const backends: Backend[] = select.hasEpoll ? ['select', 'poll', 'epoll'] : ['select', 'poll'];
type Runner = 'loop' | 'loopAsync';
const runners: Runner[] = ['loop', 'loopAsync'];
const cases: Array<[Runner, Backend]> = runners.flatMap((r) => backends.map((b): [Runner, Backend] => [r, b]));

function run(runner: Runner, options: LoopOptions): Promise<void> {
  if (runner === 'loopAsync') return loopAsync(options);
  try {
    loop(options);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err);
  }
}

const seconds = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** Records the loop's questions and deliveries (and what the timers do) in one list. */
class Recorder extends Dispatcher {
  constructor(
    sock: socket.Socket,
    map: SocketMap,
    readonly events: string[],
    readonly tag: string,
  ) {
    super(sock, map);
  }
  r = true;
  w = false;
  override readable(): boolean {
    this.events.push(`${this.tag}:readable?`);
    return this.r;
  }
  override writable(): boolean {
    this.events.push(`${this.tag}:writable?`);
    return this.w;
  }
  override handleRead(): void {
    const d = this.recv(4096);
    this.events.push(d.length > 0 ? `${this.tag}:data:${d.toString()}` : `${this.tag}:eof`);
  }
  override handleWrite(): void {
    this.events.push(`${this.tag}:write`);
  }
  override handleClose(): void {
    this.events.push(`${this.tag}:close`);
    this.close();
  }
}

let map: SocketMap;
let clock: FakeClock;
let socks: socket.Socket[];
let fdsBefore: Set<number>;

beforeEach(() => {
  map = new Map();
  clock = new FakeClock(1000);
  socks = [];
  fdsBefore = openFds();
});

afterEach(() => {
  timersFor(map).cancelAll();
  for (const d of [...map.values()]) d.close();
  for (const s of socks) if (!s.closed) s.close();
  releaseBackend(map);
  expect([...openFds()].filter((fd) => !fdsBefore.has(fd))).toEqual([]);
});

function pair(): [socket.Socket, socket.Socket] {
  const p = socket.socketpair();
  socks.push(...p);
  return p;
}

describe.each(cases)('%s, %s backend, on a fake clock', (runner, backend) => {
  test('a due timer runs after the pass, and the pass does not wait for it', async () => {
    const timers = timersFor(map, { clock });
    const events: string[] = [];
    const [a, b] = pair();
    new Recorder(a, map, events, 'a');
    b.send('hi');
    timers.callLater(2, () => events.push('timer'));
    clock.advance(2);
    const t0 = process.hrtime.bigint();
    await run(runner, { map, backend, timeout: 10, count: 1 });
    expect(seconds(t0)).toBeLessThan(5);
    expect(events).toEqual(['a:readable?', 'a:writable?', 'a:data:hi', 'timer']);
  });

  test('a timer due at once cuts an idle pass to no wait at all', async () => {
    const timers = timersFor(map, { clock });
    const events: string[] = [];
    const [a] = pair();
    new Recorder(a, map, events, 'a'); // readable, nothing to read: the pass would wait its 10 s
    timers.callLater(0, () => events.push('timer'));
    const t0 = process.hrtime.bigint();
    await run(runner, { map, backend, timeout: 10, count: 1 });
    expect(seconds(t0)).toBeLessThan(5);
    expect(events).toEqual(['a:readable?', 'a:writable?', 'timer']);
  });

  test('a timer that is not due yet does not run', async () => {
    const timers = timersFor(map, { clock });
    const [a] = pair();
    new Recorder(a, map, [], 'a');
    const fn = jest.fn();
    timers.callLater(1, fn);
    timers.callEvery(0, () => {}); // keeps every pass from waiting
    await run(runner, { map, backend, timeout: 10, count: 3 });
    expect(fn).not.toHaveBeenCalled();
    clock.advance(1);
    await run(runner, { map, backend, timeout: 10, count: 1 });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  test('a timer made by a handler runs after the same pass when it is due', async () => {
    const timers = timersFor(map, { clock });
    const events: string[] = [];
    const [a, b] = pair();
    const ch = new Recorder(a, map, events, 'a');
    ch.handleRead = function (this: Recorder) {
      this.recv(100);
      events.push('read');
      this.callLater(0, () => events.push('from handler'));
    };
    b.send('x');
    await run(runner, { map, backend, timeout: 10, count: 1 });
    expect(events.filter((e) => !e.endsWith('?'))).toEqual(['read', 'from handler']);
    expect(timers.pending).toBe(0);
  });

  test('count counts passes; with only timers left, each pass still counts', async () => {
    timersFor(map, { clock });
    let passes = 0;
    const every = callLaterEvery0(() => passes++);
    await run(runner, { map, backend, timeout: 10, count: 4 });
    expect(passes).toBe(4);
    every.cancel();
  });

  test('without count, an empty map with pending timers runs until they are done', async () => {
    const timers = timersFor(map, { clock });
    const seen: number[] = [];
    let passes = 0;
    const tick = timers.callEvery(0, () => {
      passes++;
      clock.advance(0.5); // each pass moves the fake time on
    });
    const two: TimerHandle = timers.callLater(2, () => seen.push(two.when));
    const three: TimerHandle = timers.callLater(3, () => {
      seen.push(three.when);
      tick.cancel();
    });
    await run(runner, { map, backend, timeout: 10 });
    expect(seen).toEqual([1002, 1003]);
    expect(passes).toBe(7); // at 1000, 1000.5, … 1003: the last one ran with the timer at 1003
    expect(timers.pending).toBe(0);
  });

  test('without count, channels gone and timers pending: the loop goes on, and a timer can open a channel again', async () => {
    const timers = timersFor(map, { clock });
    const events: string[] = [];
    const [a, b] = pair();
    const first = new Recorder(a, map, events, 'first');
    const tick = timers.callEvery(0, () => clock.advance(1));
    timers.callLater(1, () => first.close());
    timers.callLater(3, () => {
      const [c, d] = pair();
      const second = new Recorder(c, map, events, 'second');
      d.send('again');
      second.handleRead = function (this: Recorder) {
        events.push(`second:${this.recv(100).toString()}`);
        this.close();
        tick.cancel();
      };
    });
    await run(runner, { map, backend, timeout: 10, count: 50 });
    expect(events.filter((e) => !e.endsWith('?'))).toEqual(['second:again']);
    expect(map.size).toBe(0);
    expect(timers.pending).toBe(0);
    b.close();
  });

  test("a channel's own timers do not keep the loop alive after it closes", async () => {
    const timers = timersFor(map, { clock });
    const events: string[] = [];
    const [a, b] = pair();
    const ch = new Recorder(a, map, events, 'a');
    ch.callLater(3600, () => events.push('idle timeout'));
    ch.callEvery(60, () => events.push('keepalive'));
    expect(timers.pending).toBe(2);
    b.close(); // EOF: handleRead sees it, recv() calls handleClose, close() cancels the timers
    await run(runner, { map, backend, timeout: 0.05, count: 200 });
    expect(map.size).toBe(0);
    expect(timers.pending).toBe(0);
    expect(events).not.toContain('idle timeout');
  });

  test('ExitNow from a timer leaves the loop, as from a handler', async () => {
    const timers = timersFor(map, { clock });
    const [a] = pair();
    new Recorder(a, map, [], 'a');
    timers.callLater(0, () => {
      throw new ExitNow('from a timer');
    });
    await expect(run(runner, { map, backend, timeout: 10, count: 5 })).rejects.toThrow('from a timer');
    expect(map.size).toBe(1);
  });

  test('an error from a free timer is logged and the loop goes on; from a channel timer it goes to handleError', async () => {
    const timers = timersFor(map, { clock });
    const events: string[] = [];
    const [a] = pair();
    const ch = new Recorder(a, map, events, 'a');
    ch.handleError = (err: unknown) => events.push(`handleError:${(err as Error).message}`);
    timers.callLater(0, function failing() {
      throw new Error('free');
    });
    ch.callLater(0, () => {
      throw new Error('own');
    });
    let passes = 0;
    timers.callEvery(0, () => passes++);
    const out = await captureAsync(() => run(runner, { map, backend, timeout: 10, count: 2 }));
    expect(lines(out)).toEqual([expect.stringMatching(/^error: uncaptured exception in timer <TimerHandle callLater\(0\) failing when=1000 done> \(Error:free /)]);
    expect(events.filter((e) => e.startsWith('handleError'))).toEqual(['handleError:own']);
    expect(passes).toBe(2);
  });

  test("a loop serves its own map's timers only", async () => {
    const other: SocketMap = new Map();
    const mine = jest.fn();
    const theirs = jest.fn();
    timersFor(map, { clock }).callLater(0, mine);
    const t = timersFor(other, { clock }).callLater(0, theirs);
    await run(runner, { map, backend, timeout: 10, count: 1 });
    expect(mine).toHaveBeenCalledTimes(1);
    expect(theirs).not.toHaveBeenCalled();
    t.cancel();
  });
});

/** callEvery(0) on `map`: runs after every pass and keeps the passes from waiting. */
function callLaterEvery0(fn: () => void): ReturnType<ReturnType<typeof timersFor>['callEvery']> {
  return timersFor(map).callEvery(0, fn);
}

/** Capture stdout while an async function runs (the helper's captureOutput is synchronous). */
async function captureAsync(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const orig = process.stdout.write;
  process.stdout.write = ((chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = orig;
  }
  return chunks.join('');
}

describe.each(cases)('%s, %s backend, on the real clock', (runner, backend) => {
  test('an idle pass waits until the deadline: not past it, not before it, without spinning', async () => {
    const events: string[] = [];
    const [a] = pair();
    const ch = new Recorder(a, map, events, 'a'); // readable, never ready
    let firedAfter = -1;
    const t0 = process.hrtime.bigint();
    ch.callLater(0.25, () => {
      firedAfter = seconds(t0);
      ch.close();
    });
    await run(runner, { map, backend, timeout: 30, count: 20 });
    const elapsed = seconds(t0);
    expect(firedAfter).toBeGreaterThanOrEqual(0.25);
    expect(elapsed).toBeLessThan(10); // the pass timeout was 30 s
    // one pass waits to the deadline; a loaded machine may wake a pass a little early once
    // (loopAsync also asks again at each turn of Node's event loop: a few more, never a spin)
    expect(events.filter((e) => e === 'a:readable?').length).toBeLessThanOrEqual(runner === 'loop' ? 3 : 10);
  });

  test('a timers-only pass sleeps until the deadline, and the loop returns when the timers are done', async () => {
    const t0 = process.hrtime.bigint();
    let passes = 0;
    let at = -1;
    const every = timersFor(map).callEvery(0.1, () => passes++);
    timersFor(map).callLater(0.35, () => {
      at = seconds(t0);
      every.cancel();
    });
    await run(runner, { map, backend, timeout: 30 });
    expect(at).toBeGreaterThanOrEqual(0.35);
    expect(seconds(t0)).toBeLessThan(10);
    expect(passes).toBe(3);
  });

  test('a timeout shorter than the next deadline still ends each pass', async () => {
    const [a] = pair();
    const events: string[] = [];
    new Recorder(a, map, events, 'a');
    const fn = jest.fn();
    timersFor(map).callLater(60, fn);
    const t0 = process.hrtime.bigint();
    await run(runner, { map, backend, timeout: 0.05, count: 3 });
    expect(seconds(t0)).toBeGreaterThanOrEqual(0.14);
    expect(seconds(t0)).toBeLessThan(10);
    expect(fn).not.toHaveBeenCalled();
    // loop() asks once per pass; loopAsync() may ask again at each turn of Node's event loop
    const questions = events.filter((e) => e === 'a:readable?').length;
    if (runner === 'loop') expect(questions).toBe(3);
    else expect(questions).toBeGreaterThanOrEqual(3);
  });
});

describe('loopAsync and the rest of Node', () => {
  test("Node's own timers run while loopAsync sleeps for a timer of the map", async () => {
    const order: string[] = [];
    const t0 = process.hrtime.bigint();
    timersFor(map).callLater(0.2, () => order.push('map timer'));
    setTimeout(() => order.push('node timer'), 50);
    await loopAsync({ map, timeout: 30 });
    expect(order).toEqual(['node timer', 'map timer']);
    expect(seconds(t0)).toBeGreaterThanOrEqual(0.2);
  });

  test('a timer scheduled from outside the loop (a Node timer) cuts the current wait at once', async () => {
    const [a] = pair();
    const ch = new Recorder(a, map, [], 'idle'); // readable, never ready: the pass waits its 30 s
    let firedAfter = -1;
    const t0 = process.hrtime.bigint();
    setTimeout(() => {
      timersFor(map).callLater(0.05, () => {
        firedAfter = seconds(t0);
        ch.close();
      });
    }, 50);
    await loopAsync({ map, timeout: 30 });
    expect(firedAfter).toBeGreaterThanOrEqual(0.1);
    expect(firedAfter).toBeLessThan(10);
  });

  test('the signal aborts a timers-only sleep at once', async () => {
    const fn = jest.fn();
    timersFor(map).callLater(30, fn);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stopped')), 30);
    const t0 = process.hrtime.bigint();
    await expect(loopAsync({ map, timeout: 30, signal: ac.signal })).rejects.toThrow('stopped');
    expect(seconds(t0)).toBeLessThan(10);
    expect(fn).not.toHaveBeenCalled();
  });

  test('a channel joining the map ends a timers-only sleep', async () => {
    const events: string[] = [];
    timersFor(map).callLater(30, () => events.push('late timer'));
    setTimeout(() => {
      const [a, b] = pair();
      const ch = new Recorder(a, map, events, 'joined');
      ch.handleRead = function (this: Recorder) {
        events.push(`joined:${this.recv(10).toString()}`);
        timersFor(map).cancelAll();
        this.close();
      };
      b.send('hello');
    }, 30);
    const t0 = process.hrtime.bigint();
    await loopAsync({ map, timeout: 30 });
    expect(seconds(t0)).toBeLessThan(10);
    expect(events.filter((e) => !e.endsWith('?'))).toEqual(['joined:hello']);
  });
});

describe('no timer pending: every pass is exactly asyncore\'s', () => {
  /**
   * A scripted session (data both ways, a writable phase, an idle pass, EOF)
   * run through `drive`, recording every question, delivery and the time each
   * pass took. The map's scheduler exists and holds only cancelled timers.
   */
  function session(drive: (timeout: number, map: SocketMap) => void): { events: string[]; durations: number[] } {
    const m: SocketMap = new Map();
    const timers = timersFor(m);
    for (let i = 0; i < 10; i++) timers.callLater(0.001, () => {}).cancel();
    for (let i = 0; i < 3; i++) callLater({ seconds: 0, map: m }, () => {}).cancel();
    const events: string[] = [];
    const [a, b] = socket.socketpair();
    const [c, d] = socket.socketpair();
    const x = new Recorder(a, m, events, 'x');
    const y = new Recorder(c, m, events, 'y');
    const durations: number[] = [];
    const script: Array<() => void> = [
      () => b.send('one'),
      () => {
        y.w = true;
      },
      () => {
        y.w = false;
        y.r = false;
        x.r = false; // nobody interested: select sleeps its timeout, poll waits it out
      },
      () => {
        x.r = true;
        y.r = true;
        d.send('two');
        b.close();
      },
      () => {},
    ];
    try {
      for (const step of script) {
        step();
        const t0 = process.hrtime.bigint();
        drive(0.15, m);
        durations.push(seconds(t0));
      }
      expect(timers.pending).toBe(0);
      return { events, durations };
    } finally {
      for (const ch of [...m.values()]) ch.close();
      for (const s of [a, b, c, d]) if (!s.closed) s.close();
      releaseBackend(m);
    }
  }

  test.each([
    ['select', false],
    ['poll', true],
  ] as const)('loop({ backend: %s, count: 1 }) = asyncore\'s pass, call for call and wait for wait', (backend, usePoll) => {
    const asyncore = session((timeout, m) => (usePoll ? poll2 : poll)(timeout, m));
    const ours = session((timeout, m) => loop({ map: m, backend, timeout, count: 1 }));
    expect(ours.events).toEqual(asyncore.events);
    expect(asyncore.events).toContain('y:write');
    expect(asyncore.events).toContain('x:data:one');
    expect(asyncore.events).toContain('y:data:two');
    // the idle pass (step 3) waits the whole timeout in both; the busy ones do not
    expect(ours.durations[2]).toBeGreaterThanOrEqual(0.14);
    expect(asyncore.durations[2]).toBeGreaterThanOrEqual(0.14);
    for (const i of [0, 1, 3]) expect(ours.durations[i]).toBeLessThan(0.14);
  });

  // loopAsync asks the channels again at each turn of Node's event loop while a pass waits
  // (lib/loop-async.ts), so its questions are compared as a set per step, its deliveries exactly.
  test.each(backends)('loopAsync({ backend: %s }) delivers and waits as loop() does', async (backend) => {
    const sync = session((timeout, m) => loop({ map: m, backend, timeout, count: 1 }));
    // the same session, one loopAsync pass per step
    const events: string[] = [];
    const [a, b] = pair();
    const [c, d] = pair();
    const m: SocketMap = new Map();
    const x = new Recorder(a, m, events, 'x');
    const y = new Recorder(c, m, events, 'y');
    for (let i = 0; i < 5; i++) timersFor(m).callLater(1, () => {}).cancel();
    const steps: Array<() => void> = [
      () => b.send('one'),
      () => {
        y.w = true;
      },
      () => {
        y.w = false;
        y.r = false;
        x.r = false;
      },
      () => {
        x.r = true;
        y.r = true;
        d.send('two');
        b.close();
      },
      () => {},
    ];
    const durations: number[] = [];
    try {
      for (const step of steps) {
        step();
        const t0 = process.hrtime.bigint();
        await loopAsync({ map: m, backend, timeout: 0.15, count: 1 });
        durations.push(seconds(t0));
      }
    } finally {
      for (const ch of [...m.values()]) ch.close();
      releaseBackend(m);
    }
    const deliveries = (ev: string[]): string[] => ev.filter((e) => !e.endsWith('?'));
    expect(deliveries(events)).toEqual(deliveries(sync.events));
    expect(new Set(events)).toEqual(new Set(sync.events));
    expect(durations[2]).toBeGreaterThanOrEqual(0.14);
    for (const i of [0, 1, 3]) expect(durations[i]).toBeLessThan(0.14);
  });
});

describe('passTimeout: the wait of a pass when timers are pending', () => {
  const fake = new FakeClock(0);
  const m: SocketMap = new Map();
  const timers = timersFor(m, { clock: fake });
  afterEach(() => timers.cancelAll());

  test('no timer: the timeout unchanged, whatever it is', () => {
    for (const t of [30, 0, null, -1, NaN, 'x' as never]) expect(passTimeout(t, timers, true)).toBe(t);
  });

  test('cut at the next deadline, rounded up to a whole millisecond that poll() cannot truncate below it', () => {
    timers.callLater(0.0105, () => {});
    const w = passTimeout(30, timers, true)!;
    expect(Math.trunc(w * 1000)).toBe(11);
    expect(w).toBeGreaterThanOrEqual(0.0105);
    expect(w).toBeLessThan(0.0111);
    expect(passTimeout(null, timers, true)).toBe(w);
    expect(passTimeout(0.005, timers, true)).toBe(0.005);
    expect(passTimeout(0, timers, true)).toBe(0);
  });

  test('every whole millisecond survives poll()\'s truncation', () => {
    for (let ms = 1; ms < 20_000; ms += 7) {
      const t = timers.callLater(ms / 1000, () => {});
      expect(Math.trunc(passTimeout(null, timers, true)! * 1000)).toBe(ms);
      t.cancel();
    }
  });

  test('a due timer: no wait; a negative timeout: refused by select as before, "no limit" for poll/epoll', () => {
    timers.callLater(2, () => {});
    expect(passTimeout(-1, timers, false)).toBe(-1);
    expect(passTimeout(-1, timers, true)).toBeCloseTo(2, 5);
    expect(passTimeout(NaN, timers, true)).toBeNaN();
    fake.advance(3);
    expect(passTimeout(30, timers, true)).toBe(0);
  });

  test('loop() with a negative timeout on select still raises with timers pending', () => {
    const [a] = pair();
    const ch = new Recorder(a, map, [], 'a');
    ch.r = false; // nothing to wait on: the select pass sleeps, and time.sleep() refuses a negative length
    timersFor(map).callLater(1, () => {});
    expect(() => loop({ map, timeout: -1, count: 1 })).toThrow('sleep length must be non-negative');
  });
});
