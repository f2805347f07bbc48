/**
 * The timer scheduler (lib/timers.ts) on a FakeClock: no test sleeps. Firing
 * order (deadline, then scheduling order), cancel and reset (lazy, O(1)),
 * callEvery's grid, error routing (errback, handleError, ExitNow), the
 * compaction of cancelled entries, one scheduler per map, argument checks,
 * and Dispatcher#callLater/#callEvery over a real socketpair. A model-based
 * property test checks the heap against a sorted list.
 */
import './helpers/native';
import fc from 'fast-check';
import {
  callEvery,
  callLater,
  Dispatcher,
  ExitNow,
  FakeClock,
  monotonicClock,
  reraisedExceptions,
  socket,
  socketMap,
  timersFor,
  type SocketMap,
  type TimerHandle,
} from '../lib';
import { captureOutput, lines } from './helpers/loop';

function setup(start = 0): { map: SocketMap; clock: FakeClock; timers: ReturnType<typeof timersFor> } {
  const map: SocketMap = new Map();
  const clock = new FakeClock(start);
  return { map, clock, timers: timersFor(map, { clock }) };
}

describe('callLater on a fake clock', () => {
  test('fires once at its deadline, not before, with its arguments', () => {
    const { clock, timers } = setup(100);
    const calls: unknown[][] = [];
    const t = timers.callLater(1.5, (...args: unknown[]) => calls.push(args), 'a', 2);
    expect(t.when).toBe(101.5);
    expect(t.active).toBe(true);
    expect(timers.pending).toBe(1);
    expect(timers.timeout()).toBe(1.5);
    clock.advance(1.4999);
    expect(timers.runDue()).toBe(0);
    expect(calls).toEqual([]);
    clock.advance(0.0001);
    expect(timers.runDue()).toBe(1);
    expect(calls).toEqual([['a', 2]]);
    expect(t.active).toBe(false);
    expect(t.cancelled).toBe(false);
    expect(timers.pending).toBe(0);
    expect(timers.timeout()).toBeNull();
    clock.advance(10);
    expect(timers.runDue()).toBe(0);
    expect(calls.length).toBe(1);
  });

  test('a zero delay is due at once', () => {
    const { timers } = setup();
    let n = 0;
    timers.callLater(0, () => n++);
    expect(timers.timeout()).toBe(0);
    timers.runDue();
    expect(n).toBe(1);
  });

  test('runs in deadline order; equal deadlines in scheduling order', () => {
    const { clock, timers } = setup();
    const order: string[] = [];
    timers.callLater(3, () => order.push('c'));
    timers.callLater(1, () => order.push('a1'));
    timers.callLater(2, () => order.push('b'));
    timers.callLater(1, () => order.push('a2'));
    timers.callLater(1, () => order.push('a3'));
    clock.advance(5);
    expect(timers.runDue()).toBe(5);
    expect(order).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
  });

  test('a timer made by a running timer waits for the next runDue, even when due now', () => {
    const { timers } = setup();
    const order: string[] = [];
    timers.callLater(0, () => {
      order.push('first');
      timers.callLater(0, () => order.push('second'));
    });
    expect(timers.runDue()).toBe(1);
    expect(order).toEqual(['first']);
    expect(timers.runDue()).toBe(1);
    expect(order).toEqual(['first', 'second']);
  });

  test('a timer cancelled (or reset) by an earlier one in the same run does not run', () => {
    const { clock, timers } = setup();
    const order: string[] = [];
    let victim: TimerHandle | null = null;
    let pushed: TimerHandle | null = null;
    timers.callLater(1, () => {
      order.push('a');
      victim!.cancel();
      pushed!.reset();
    });
    victim = timers.callLater(1, () => order.push('victim'));
    pushed = timers.callLater(1, () => order.push('pushed'));
    clock.advance(1);
    expect(timers.runDue()).toBe(1);
    expect(order).toEqual(['a']);
    expect(pushed.when).toBe(2);
    clock.advance(1);
    timers.runDue();
    expect(order).toEqual(['a', 'pushed']);
  });

  test('this is undefined for module timers', () => {
    const { timers } = setup();
    let self: unknown = 'unset';
    timers.callLater(0, function (this: unknown) {
      self = this;
    });
    timers.runDue();
    expect(self).toBeUndefined();
  });
});

describe('cancel and reset', () => {
  test('cancel: never fires, pending drops, idempotent, references dropped', () => {
    const { clock, timers } = setup();
    let n = 0;
    const big = { payload: 'x' };
    const t = timers.callLater(1, (o: object) => (n += o ? 1 : 0), big);
    t.cancel();
    t.cancel();
    expect(t.cancelled).toBe(true);
    expect(t.active).toBe(false);
    expect(timers.pending).toBe(0);
    expect(timers.nextDeadline()).toBeNull();
    expect(t.toString()).toMatch(/^<TimerHandle callLater\(1\) when=1 cancelled>$/);
    clock.advance(2);
    expect(timers.runDue()).toBe(0);
    expect(n).toBe(0);
    expect(timers.queued).toBe(0);
  });

  test('cancel from its own function: a callEvery stops', () => {
    const { clock, timers } = setup();
    let n = 0;
    const t = timers.callEvery(1, () => {
      if (++n === 3) t.cancel();
    });
    for (let i = 0; i < 10; i++) {
      clock.advance(1);
      timers.runDue();
    }
    expect(n).toBe(3);
    expect(timers.pending).toBe(0);
  });

  test('reset re-arms from now; the old deadline passes silently', () => {
    const { clock, timers } = setup();
    const fired: number[] = [];
    const t = timers.callLater(5, () => fired.push(clock.now()));
    clock.advance(3);
    expect(t.reset()).toBe(t);
    expect(t.when).toBe(8);
    expect(timers.nextDeadline()).toBe(8);
    clock.advance(2); // the old deadline, 5
    expect(timers.runDue()).toBe(0);
    clock.advance(2.999);
    expect(timers.runDue()).toBe(0);
    clock.advance(0.001);
    expect(timers.runDue()).toBe(1);
    expect(fired).toEqual([8]);
  });

  test('reset many times costs no heap entries', () => {
    const { clock, timers } = setup();
    const t = timers.callLater(10, () => {});
    for (let i = 0; i < 1000; i++) {
      clock.advance(0.5);
      t.reset();
    }
    expect(timers.queued).toBe(1);
    expect(t.when).toBe(510);
  });

  test('reset after a callLater ran schedules it again; a cancelled timer stays cancelled', () => {
    const { clock, timers } = setup();
    let n = 0;
    const t = timers.callLater(1, () => n++);
    clock.advance(1);
    timers.runDue();
    expect(t.active).toBe(false);
    t.reset();
    expect(t.active).toBe(true);
    expect(t.when).toBe(2);
    clock.advance(1);
    timers.runDue();
    expect(n).toBe(2);
    t.cancel();
    expect(t.reset()).toBe(t);
    expect(t.cancelled).toBe(true);
    expect(t.active).toBe(false);
    expect(timers.pending).toBe(0);
    clock.advance(5);
    expect(timers.runDue()).toBe(0);
    expect(n).toBe(2);
  });

  test('a callLater that resets itself from its function runs again', () => {
    const { clock, timers } = setup();
    let n = 0;
    const t = timers.callLater(1, () => {
      if (++n < 3) t.reset();
    });
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      timers.runDue();
    }
    expect(n).toBe(3);
  });

  test('ties after a reset follow the order of the reset', () => {
    const { clock, timers } = setup();
    const order: string[] = [];
    const a = timers.callLater(1, () => order.push('a'));
    clock.advance(0.5);
    a.reset(); // deadline 1.5, reset before b was made
    timers.callLater(1, () => order.push('b')); // deadline 1.5
    clock.advance(1);
    timers.runDue();
    expect(order).toEqual(['a', 'b']);
  });

  test('a reset to the same deadline goes behind what was scheduled meanwhile', () => {
    const { clock, timers } = setup();
    const order: string[] = [];
    const a = timers.callEvery(1, () => order.push('a'));
    timers.callEvery(1, () => order.push('b'));
    a.reset(); // still due at 1, but rescheduled after b
    clock.advance(1);
    timers.runDue();
    expect(order).toEqual(['b', 'a']);
  });

  test('cancelAll cancels queued timers and the due ones not yet run', () => {
    const { clock, timers } = setup();
    const order: string[] = [];
    const later = timers.callLater(10, () => order.push('later'));
    timers.callLater(1, () => {
      order.push('first');
      timers.cancelAll();
    });
    timers.callLater(1, () => order.push('second'));
    clock.advance(1);
    timers.runDue();
    expect(order).toEqual(['first']);
    expect(later.cancelled).toBe(true);
    expect(timers.pending).toBe(0);
    clock.advance(20);
    expect(timers.runDue()).toBe(0);
  });
});

describe('callEvery', () => {
  test('fires on a fixed grid; missed ticks are skipped, not made up', () => {
    const { clock, timers } = setup();
    const at: number[] = [];
    const t = timers.callEvery(1, () => at.push(clock.now()));
    clock.advance(1);
    timers.runDue();
    clock.advance(1.25); // 2.25: late for the tick at 2
    timers.runDue();
    expect(t.when).toBe(3); // back on the grid
    clock.advance(3.5); // 5.75: ticks 3, 4, 5 missed: one call
    timers.runDue();
    expect(at).toEqual([1, 2.25, 5.75]);
    expect(t.when).toBe(6);
    expect(t.active).toBe(true);
    expect(timers.pending).toBe(1);
  });

  test('callEvery(0) runs once per runDue', () => {
    const { timers } = setup();
    let n = 0;
    timers.callEvery(0, () => n++);
    for (let i = 0; i < 5; i++) timers.runDue();
    expect(n).toBe(5);
    expect(timers.timeout()).toBe(0);
  });

  test('reset inside its function moves the grid', () => {
    const { clock, timers } = setup();
    const at: number[] = [];
    const t = timers.callEvery(2, () => {
      at.push(clock.now());
      if (at.length === 1) {
        clock.advance(0.5); // the call itself took half a second
        t.reset();
      }
    });
    clock.advance(2);
    timers.runDue();
    expect(t.when).toBe(4.5);
    clock.advance(2);
    timers.runDue();
    expect(at).toEqual([2, 4.5]);
    expect(t.when).toBe(6.5);
  });
});

describe('errors', () => {
  test('errback gets what fn threw, and the handle; a callEvery with an errback keeps going', () => {
    const { clock, timers } = setup();
    const seen: Array<[unknown, TimerHandle]> = [];
    const boom = new Error('boom');
    const t = timers.callEvery({ seconds: 1, errback: (err, h) => seen.push([err, h]) }, () => {
      throw boom;
    });
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      timers.runDue();
    }
    expect(seen.length).toBe(3);
    expect(seen[0][0]).toBe(boom);
    expect(seen[0][1]).toBe(t);
    expect(t.active).toBe(true);
  });

  test('without an errback: one line on stdout, as handleError logs; a callEvery stops, the next timers still run', () => {
    const { clock, timers } = setup();
    let after = 0;
    const every = timers.callEvery(1, function ticker() {
      throw new TypeError('bad tick');
    });
    timers.callLater(1, () => after++);
    clock.advance(1);
    const out = captureOutput(() => timers.runDue());
    const l = lines(out.stdout);
    expect(l.length).toBe(1);
    expect(l[0]).toMatch(/^error: uncaptured exception in timer <TimerHandle callEvery\(1\) when=1 cancelled> \(TypeError:bad tick \[.*\]\)$/);
    expect(out.result).toBe(2);
    expect(after).toBe(1);
    expect(every.cancelled).toBe(true);
    expect(timers.pending).toBe(0);
  });

  test('handleError can be overridden per scheduler', () => {
    const { timers } = setup();
    const got: unknown[] = [];
    timers.handleError = (err, timer) => got.push([err, timer.repeating]);
    timers.callLater(0, () => {
      throw 'a string';
    });
    timers.runDue();
    expect(got).toEqual([['a string', false]]);
  });

  test('ExitNow propagates out of runDue; the due timers after it stay due; a callEvery that threw it stays scheduled', () => {
    const { clock, timers } = setup();
    const order: string[] = [];
    const every = timers.callEvery(1, () => {
      order.push('every');
      if (order.length === 1) throw new ExitNow('stop');
    });
    timers.callLater(1, () => order.push('b'));
    timers.callLater(1, () => order.push('c'));
    clock.advance(1);
    expect(() => timers.runDue()).toThrow(ExitNow);
    expect(order).toEqual(['every']);
    expect(every.active).toBe(true);
    expect(every.when).toBe(2);
    expect(timers.pending).toBe(3);
    expect(timers.runDue()).toBe(2);
    expect(order).toEqual(['every', 'b', 'c']);
  });

  test('ExitNow propagates even with an errback; so does any reraisedExceptions class', () => {
    const { timers } = setup();
    class Shutdown extends Error {}
    reraisedExceptions.add(Shutdown);
    try {
      const errback = jest.fn();
      timers.callLater({ seconds: 0, errback }, () => {
        throw new Shutdown();
      });
      expect(() => timers.runDue()).toThrow(Shutdown);
      timers.callLater({ seconds: 0, errback }, () => {
        throw new ExitNow();
      });
      expect(() => timers.runDue()).toThrow(ExitNow);
      expect(errback).not.toHaveBeenCalled();
    } finally {
      reraisedExceptions.delete(Shutdown);
    }
  });

  test('an errback that throws propagates out of runDue', () => {
    const { timers } = setup();
    timers.callLater(
      {
        seconds: 0,
        errback: () => {
          throw new RangeError('errback failed');
        },
      },
      () => {
        throw new Error('first');
      },
    );
    expect(() => timers.runDue()).toThrow('errback failed');
  });
});

describe('compaction of cancelled entries', () => {
  test('the heap is rebuilt once cancelled entries are over 512 and over half of it', () => {
    const { clock, timers } = setup();
    const fired: number[] = [];
    const handles = Array.from({ length: 2000 }, (_, i) => timers.callLater(1 + (i % 97) / 10, () => fired.push(i)));
    for (let i = 0; i < 1000; i++) handles[i].cancel();
    expect(timers.queued).toBe(2000); // exactly half: not yet
    handles[1000].cancel();
    expect(timers.queued).toBe(999);
    // under 513 cancelled: kept lazily
    for (let i = 1001; i < 1400; i++) handles[i].cancel();
    expect(timers.queued).toBe(999);
    expect(timers.pending).toBe(600);
    clock.advance(100);
    expect(timers.runDue()).toBe(600);
    const expected = Array.from({ length: 600 }, (_, k) => 1400 + k).sort((a, b) => (a % 97) - (b % 97) || a - b);
    expect(fired).toEqual(expected);
    expect(timers.queued).toBe(0);
  });

  test('memory stays bounded when timers are made and cancelled forever', () => {
    const { timers } = setup();
    const keep = timers.callLater(1e6, () => {});
    for (let i = 0; i < 100_000; i++) timers.callLater(10 + (i % 13), () => {}).cancel();
    expect(timers.queued).toBeLessThanOrEqual(1 + 513);
    expect(timers.pending).toBe(1);
    expect(timers.nextDeadline()).toBe(keep.when);
  });

  test('cancellations made by running timers are compacted after the run', () => {
    const { clock, timers } = setup();
    const victims = Array.from({ length: 3000 }, () => timers.callLater(50, () => {}));
    timers.callLater(1, () => victims.forEach((v) => v.cancel()));
    clock.advance(1);
    timers.runDue();
    expect(timers.queued).toBe(0);
    expect(timers.pending).toBe(0);
  });
});

describe('a model: random schedule / cancel / reset / advance / run', () => {
  type Op =
    | { op: 'later'; delay: number }
    | { op: 'every'; delay: number }
    | { op: 'cancel'; pick: number }
    | { op: 'reset'; pick: number }
    | { op: 'advance'; by: number }
    | { op: 'run' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('later' as const), delay: fc.integer({ min: 0, max: 8 }) }),
    fc.record({ op: fc.constant('every' as const), delay: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }),
    fc.record({ op: fc.constant('reset' as const), pick: fc.nat() }),
    fc.record({ op: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 4 }) }),
    fc.constant({ op: 'run' as const }),
  );

  interface ModelTimer {
    id: number;
    every: number; // 0: callLater
    deadline: number;
    order: number;
    live: boolean;
    cancelled: boolean;
  }

  test('fires exactly what a sorted list says, in its order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const { clock, timers } = setup();
        const model: ModelTimer[] = [];
        const handles: TimerHandle[] = [];
        let order = 0;
        let now = 0;
        const fired: number[] = [];
        const expected: number[] = [];
        const make = (every: number, delay: number): void => {
          const id = model.length;
          model.push({ id, every, deadline: now + delay, order: order++, live: true, cancelled: false });
          const fn = (): void => {
            fired.push(id);
          };
          handles.push(every ? timers.callEvery(delay, fn) : timers.callLater(delay, fn));
        };
        for (const o of [...ops, { op: 'advance', by: 1000 } as Op, { op: 'run' } as Op]) {
          switch (o.op) {
            case 'later':
            case 'every':
              make(o.op === 'every' ? o.delay : 0, o.delay);
              break;
            case 'cancel':
            case 'reset': {
              if (model.length === 0) break;
              const m = model[o.pick % model.length];
              const h = handles[m.id];
              if (o.op === 'cancel') {
                h.cancel();
                m.live = false;
                m.cancelled = true;
              } else if (!m.cancelled) {
                h.reset();
                m.live = true;
                m.deadline = now + (m.every || h.seconds);
                m.order = order++;
              }
              break;
            }
            case 'advance':
              now += o.by;
              clock.advance(o.by);
              break;
            case 'run': {
              const due = model.filter((m) => m.live && m.deadline <= now).sort((a, b) => a.deadline - b.deadline || a.order - b.order);
              for (const m of due) {
                expected.push(m.id);
                if (m.every) {
                  m.deadline += m.every * (Math.floor((now - m.deadline) / m.every) + 1);
                  m.order = order++;
                } else {
                  m.live = false;
                }
              }
              timers.runDue();
              break;
            }
          }
          const live = model.filter((m) => m.live);
          expect(timers.pending).toBe(live.length);
          const next = live.length ? Math.min(...live.map((m) => m.deadline)) : null;
          expect(timers.nextDeadline()).toBe(next);
        }
        expect(fired).toEqual(expected);
        timers.cancelAll();
      }),
      { numRuns: 500 },
    );
  });
});

describe('one scheduler per map', () => {
  test('timersFor gives the same scheduler for a map, another for another map; the default map is socketMap', () => {
    const a: SocketMap = new Map();
    const b: SocketMap = new Map();
    expect(timersFor(a)).toBe(timersFor(a));
    expect(timersFor(a)).not.toBe(timersFor(b));
    expect(timersFor()).toBe(timersFor(socketMap));
    expect(timersFor(null)).toBe(timersFor(socketMap));
    expect(timersFor(a).map).toBe(a);
  });

  test('module callLater/callEvery: the default map, or the map of the options form', () => {
    const { map, clock, timers } = setup();
    const got: string[] = [];
    const t1 = callLater({ seconds: 1, map }, (s: string) => got.push(s), 'map');
    const t2 = callEvery({ seconds: 1, map }, () => got.push('every'));
    expect(timers.pending).toBe(2);
    const d = callLater(1, () => got.push('default'));
    expect(timersFor().pending).toBeGreaterThanOrEqual(1);
    clock.advance(1);
    timers.runDue();
    expect(got).toEqual(['map', 'every']);
    t2.cancel();
    d.cancel();
    expect(t1.active).toBe(false);
  });

  test('the clock: set through timersFor or setClock, refused while timers are pending', () => {
    const map: SocketMap = new Map();
    const timers = timersFor(map);
    expect(timers.clock).toBe(monotonicClock);
    const clock = new FakeClock(7);
    timersFor(map, { clock });
    expect(timers.clock).toBe(clock);
    const t = timers.callLater(1, () => {});
    expect(t.when).toBe(8);
    expect(() => timers.setClock(monotonicClock)).toThrow(/pending timer/);
    expect(() => timersFor(map, { clock: new FakeClock() })).toThrow(/pending timer/);
    t.cancel();
    timers.setClock(monotonicClock);
    expect(timers.clock).toBe(monotonicClock);
    expect(timers.queued).toBe(0);
  });

  test('monotonicClock counts seconds and never goes back', () => {
    const a = monotonicClock.now();
    const b = monotonicClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - performance.now() / 1000)).toBeLessThan(1);
  });
});

describe('argument checks', () => {
  const { timers } = setup();
  const fn = (): void => {};

  test.each([
    ['NaN', NaN, TypeError],
    ['a string', '1', TypeError],
    ['null', null, TypeError],
    ['negative', -0.001, RangeError],
    ['Infinity', Infinity, RangeError],
  ])('seconds %s', (_name, seconds, cls) => {
    expect(() => timers.callLater(seconds as number, fn)).toThrow(cls as ErrorConstructor);
    expect(() => timers.callEvery(seconds as number, fn)).toThrow(cls as ErrorConstructor);
    expect(() => callLater(seconds as number, fn)).toThrow(cls as ErrorConstructor);
    expect(() => timers.callLater({ seconds: seconds as number }, fn)).toThrow(cls as ErrorConstructor);
  });

  test('fn, errback and options', () => {
    expect(() => timers.callLater(1, 'nope' as never)).toThrow(/callLater\(\): fn must be a function, got "nope"/);
    expect(() => timers.callLater({ seconds: 1, errback: 3 as never }, fn)).toThrow(TypeError);
    expect(() => timers.callLater({ seconds: 1, map: new Map() } as never, fn)).toThrow("callLater() got an unknown option 'map'; the options are: seconds, errback");
    expect(() => callEvery({ seconds: 1, mapp: new Map() } as never, fn)).toThrow("callEvery() got an unknown option 'mapp'; the options are: seconds, errback, map");
    expect(() => timersFor({} as never)).toThrow(/map must be a Map/);
    expect(() => timersFor(new Map(), { clok: 1 } as never)).toThrow("timersFor() got an unknown option 'clok'; the options are: clock");
    expect(() => timers.setClock({} as never)).toThrow(/now\(\) method/);
    expect(() => new FakeClock().advance(-1)).toThrow(RangeError);
    expect(() => new FakeClock(NaN)).toThrow(TypeError);
    expect(timers.pending).toBe(0);
  });
});

describe('Dispatcher#callLater / #callEvery', () => {
  let map: SocketMap;
  let clock: FakeClock;
  let pair: socket.Socket[];

  beforeEach(() => {
    ({ map, clock } = setup());
    pair = socket.socketpair();
  });
  afterEach(() => {
    for (const d of [...map.values()]) d.close();
    for (const s of pair) s.close();
  });

  class Channel extends Dispatcher {
    events: string[] = [];
    override handleError(err: unknown): void {
      this.events.push(`error:${(err as Error).message}`);
      this.close();
    }
  }

  test('runs with this = the channel, on the channel map\'s scheduler; fired timers leave its set', () => {
    const ch = new Channel(pair[0], map);
    let self: unknown;
    const t = ch.callLater(2, function (this: Channel, tag: string) {
      self = this;
      this.events.push(tag);
    }, 'fired');
    expect(timersFor(map).pending).toBe(1);
    expect(ch._timers!.has(t)).toBe(true);
    clock.advance(2);
    timersFor(map).runDue();
    expect(self).toBe(ch);
    expect(ch.events).toEqual(['fired']);
    expect(ch._timers!.size).toBe(0);
  });

  test('a bound method works as asyncore code passes them (this.callLater(n, this.close))', () => {
    const ch = new Channel(pair[0], map);
    ch.callLater(1, ch.close);
    clock.advance(1);
    timersFor(map).runDue();
    expect(map.size).toBe(0);
  });

  test('close() cancels its pending timers, not others', () => {
    const ch = new Channel(pair[0], map);
    const other = new Channel(pair[1], map);
    const a = ch.callLater(5, () => ch.events.push('late'));
    const b = ch.callEvery(1, () => ch.events.push('tick'));
    const c = other.callLater(5, () => other.events.push('other'));
    ch.close();
    expect(a.cancelled && b.cancelled).toBe(true);
    expect(c.active).toBe(true);
    expect(ch._timers!.size).toBe(0);
    clock.advance(10);
    timersFor(map).runDue();
    expect(ch.events).toEqual([]);
    expect(other.events).toEqual(['other']);
  });

  test('errors go to handleError (here it closes: the callEvery stops); an errback takes precedence', () => {
    const ch = new Channel(pair[0], map);
    let n = 0;
    const every = ch.callEvery(1, () => {
      n++;
      throw new Error('tick failed');
    });
    const seen: unknown[] = [];
    const other = new Channel(pair[1], map);
    other.callLater({ seconds: 1, errback: (err) => seen.push(err) }, () => {
      throw new Error('own errback');
    });
    clock.advance(3);
    timersFor(map).runDue();
    clock.advance(1);
    timersFor(map).runDue();
    expect(n).toBe(1);
    expect(ch.events).toEqual(['error:tick failed']);
    expect(every.cancelled).toBe(true);
    expect(other.events).toEqual([]);
    expect((seen[0] as Error).message).toBe('own errback');
  });

  test('ExitNow from a channel timer propagates, and does not close the channel', () => {
    const ch = new Channel(pair[0], map);
    ch.callLater(0, () => {
      throw new ExitNow('bye');
    });
    expect(() => timersFor(map).runDue()).toThrow(ExitNow);
    expect(map.size).toBe(1);
    expect(ch.events).toEqual([]);
  });

  test('the default handleError logs one line and closes the channel', () => {
    const ch = new Dispatcher(pair[0], map);
    ch.callLater(0, () => {
      throw new Error('kaput');
    });
    const out = captureOutput(() => timersFor(map).runDue());
    expect(lines(out.stdout)).toEqual([expect.stringMatching(/^error: uncaptured exception, closing channel <Dispatcher connected .* \(Error:kaput .*\)$/)]);
    expect(map.size).toBe(0);
  });
});
