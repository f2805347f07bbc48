/**
 * The epoll backend (issue #5): loop({ backend: 'epoll' }) keeps one kernel
 * interest set per map, re-registers only what changed, and dispatches the
 * same flags poll2 would, once per ready channel per pass.
 */
import './helpers/native';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Dispatcher, DispatcherWithSend, ExitNow, FileDispatcher, loop, poll2, releaseBackend, socket, type SocketMap } from '../lib';
import { binding } from '../lib/native';
import { epollFdOf, epollPass } from '../lib/loop';
import { hasEpollBackend } from '../lib/backends';
import { highFdDup, openFds } from './helpers/fds';
import { echoScenario } from './helpers/echo';

const linux = hasEpollBackend ? describe : describe.skip;

/** Every epoll_ctl the backend makes, while `fn` runs. */
function ctlCalls<T>(fn: () => T): { result: T; calls: Array<[op: number, fd: number, events: number]> } {
  const original = binding.epollCtl!;
  const calls: Array<[number, number, number]> = [];
  binding.epollCtl = (epfd, op, fd, events, tag) => {
    calls.push([op, fd, events]);
    return original(epfd, op, fd, events, tag);
  };
  try {
    return { result: fn(), calls };
  } finally {
    binding.epollCtl = original;
  }
}

const { EPOLL_CTL_ADD: ADD, EPOLL_CTL_MOD: MOD, EPOLL_CTL_DEL: DEL } = binding.constants;
const { POLLIN, POLLPRI, POLLOUT, POLLHUP, POLLNVAL } = binding.constants;

/** Records what the loop asks and delivers, in order. */
class Recorder extends Dispatcher {
  events: string[] = [];
  r = true;
  w = false;
  override readable(): boolean {
    this.events.push('readable?');
    return this.r;
  }
  override writable(): boolean {
    this.events.push('writable?');
    return this.w;
  }
  override handleReadEvent(): void {
    this.events.push('read');
    const data = this.recv(4096);
    if (data.length > 0) this.events.push(`data:${data.toString()}`);
  }
  override handleWriteEvent(): void {
    this.events.push('write');
  }
  override handleExptEvent(): void {
    this.events.push('expt');
  }
  override handleClose(): void {
    this.events.push('close');
    this.close();
  }
}

linux('epoll backend', () => {
  let map: SocketMap;
  let before: Set<number>;
  beforeEach(() => {
    map = new Map();
    before = openFds();
  });
  afterEach(() => {
    for (const d of [...map.values()]) d.close();
    releaseBackend(map);
    const leaked = [...openFds()].filter((fd) => !before.has(fd));
    expect(leaked).toEqual([]);
  });

  test('echoes through loop({ backend: "epoll" }) with every byte checked, and closes its epoll fd when the map empties', () => {
    const payload = Buffer.alloc(200_000, 0);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >> 8)) & 0xff;
    const s = echoScenario(map, 20, payload);
    loop({ map, backend: 'epoll', timeout: 5 });
    expect(s.done()).toBe(true);
    s.check();
    expect(map.size).toBe(0);
    expect(epollFdOf(map)).toBe(-1);
  });

  test('keeps the interest set across passes: an unchanged answer costs no epoll_ctl, a changed one exactly one', () => {
    const pairs = Array.from({ length: 50 }, () => socket.socketpair());
    const recs = pairs.map(([a]) => new Recorder(a, map));
    const first = ctlCalls(() => loop({ map, backend: 'epoll', timeout: 0, count: 1 }));
    expect(first.calls.filter(([op]) => op === ADD)).toHaveLength(50);
    const idle = ctlCalls(() => loop({ map, backend: 'epoll', timeout: 0, count: 20 }));
    expect(idle.calls).toEqual([]);
    recs[7].w = true; // one answer changes
    const changed = ctlCalls(() => loop({ map, backend: 'epoll', timeout: 0, count: 5 }));
    expect(changed.calls).toEqual([[MOD, recs[7]._fileno, POLLIN | POLLPRI | POLLOUT]]);
    recs[7].r = false;
    recs[7].w = false; // no interest: leaves the kernel set
    const none = ctlCalls(() => loop({ map, backend: 'epoll', timeout: 0, count: 2 }));
    expect(none.calls).toEqual([[DEL, recs[7]._fileno, 0]]);
    for (const [, b] of pairs) b.close();
  });

  test('a channel that closes its socket leaves the set with no epoll_ctl (the kernel dropped it with the file); one that stays open is deleted', () => {
    const pairs = Array.from({ length: 4 }, () => socket.socketpair());
    const recs = pairs.map(([a]) => new Recorder(a, map));
    loop({ map, backend: 'epoll', timeout: 0, count: 1 });
    recs[0].close(); // closes the socket: the usual way a connection ends
    recs[1].delChannel(); // leaves the map, socket still open
    const after = ctlCalls(() => loop({ map, backend: 'epoll', timeout: 0, count: 1 }));
    expect(after.calls).toEqual([[DEL, pairs[1][0].fileno(), 0]]);
    // The closed one's number, reused at once, is a fresh registration that works.
    const [x, y] = socket.socketpair();
    const again = new Recorder(x, map);
    y.send('hi');
    loop({ map, backend: 'epoll', timeout: 0, count: 2 });
    expect(again.events).toContain('data:hi');
    pairs[1][0].close();
    for (const [, b] of pairs) b.close();
    y.close();
  });

  test('asks every channel readable() then writable() each pass, as poll2 does', () => {
    const [a, b] = socket.socketpair();
    const rec = new Recorder(a, map);
    rec.w = true;
    rec.accepting = false;
    loop({ map, backend: 'epoll', timeout: 0, count: 3 });
    expect(rec.events.filter((e) => e.endsWith('?'))).toEqual(['readable?', 'writable?', 'readable?', 'writable?', 'readable?', 'writable?']);
    b.close();
  });

  test('delivers the flags poll2 delivers, in the same handler order', () => {
    const scenario = (pass: (t: number, m: SocketMap) => void): string[] => {
      const m: SocketMap = new Map();
      const [a, b] = socket.socketpair();
      const [c, d] = socket.socketpair();
      const [e, f] = socket.socketpair();
      const ra = new Recorder(a, m); // data waiting
      const rc = new Recorder(c, m); // writable too, with data
      const re = new Recorder(e, m); // peer gone: read (EOF) then close for HUP
      rc.w = true;
      b.send('hello');
      d.send('x');
      f.close();
      pass(0, m);
      pass(0, m);
      const out = [...ra.events, '|', ...rc.events, '|', ...re.events].filter((x) => !x.endsWith('?'));
      for (const x of [ra, rc, re]) x.close();
      b.close();
      d.close();
      releaseBackend(m);
      return out;
    };
    const viaPoll = scenario(poll2);
    const viaEpoll = scenario(epollPass);
    expect(viaEpoll).toEqual(viaPoll);
    expect(viaEpoll).toContain('data:hello');
  });

  test('dispatches a channel once per pass, read before write in one readwrite()', () => {
    const [a, b] = socket.socketpair();
    const rec = new Recorder(a, map);
    rec.w = true;
    b.send('abc');
    loop({ map, backend: 'epoll', timeout: 0, count: 1 });
    expect(rec.events).toEqual(['readable?', 'writable?', 'read', 'data:abc', 'write']);
    b.close();
  });

  test('a channel closed earlier in the pass is skipped; a new channel on the same fd number is registered anew', () => {
    const [a, b] = socket.socketpair();
    const [c, d] = socket.socketpair();
    const first = new Recorder(a, map);
    let killer!: Recorder;
    class Killer extends Recorder {
      override handleReadEvent(): void {
        super.handleReadEvent();
        first.close(); // closes its socket too: the fd number is free
      }
    }
    killer = new Killer(c, map);
    loop({ map, backend: 'epoll', timeout: 0, count: 1 }); // registers both
    b.send('1');
    d.send('2');
    loop({ map, backend: 'epoll', timeout: 0, count: 1 });
    // Whichever came first in kernel order, `first` got at most its own read.
    const fdFree = first._fileno === null;
    expect(fdFree).toBe(true);
    // Reuse the number: a new socketpair gets the lowest free fds.
    const [x, y] = socket.socketpair();
    const third = new Recorder(x, map);
    y.send('3');
    loop({ map, backend: 'epoll', timeout: 0, count: 1 });
    expect(third.events).toContain('data:3');
    for (const s of [b, d, y]) s.close();
    expect(killer.events).toContain('data:2');
  });

  test('a channel that reconnects under the same fd number keeps getting events', () => {
    const [a, b] = socket.socketpair();
    const rec = new Recorder(a, map);
    loop({ map, backend: 'epoll', timeout: 0, count: 1 });
    const fd = rec._fileno!;
    rec.close();
    b.close();
    // The same object, a new socket that (being the lowest free fd) reuses the number.
    const [c, d] = socket.socketpair();
    expect(c.fileno() === fd || c.fileno() < fd).toBe(true); // normally the same number: the lowest free
    c.setblocking(false);
    rec.setSocket(c, map);
    d.send('again');
    loop({ map, backend: 'epoll', timeout: 0.5, count: 1 });
    expect(rec.events).toContain('data:again');
    d.close();
  });

  test('a socket closed under its channel comes back as POLLNVAL (handleClose), as with poll2', () => {
    for (const pass of ['poll', 'epoll'] as const) {
      const m: SocketMap = new Map();
      const [a, b] = socket.socketpair();
      const rec = new Recorder(a, m);
      loop({ map: m, backend: pass, timeout: 0, count: 1 });
      (rec.socket as socket.Socket).close(); // the map still holds the fd
      const t0 = Date.now();
      loop({ map: m, backend: pass, timeout: 2, count: 1 });
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(rec.events).toContain('close');
      expect(m.size).toBe(0);
      b.close();
    }
  });

  test('a regular file (which epoll refuses) is ready every pass, as poll() says, and the pass does not wait', () => {
    const file = path.join(os.tmpdir(), `epoll-regular-${process.pid}.txt`);
    fs.writeFileSync(file, 'abcdef');
    const fd = fs.openSync(file, 'r');
    try {
      const reads: Buffer[] = [];
      class Reader extends FileDispatcher {
        override writable(): boolean {
          return false;
        }
        override handleRead(): void {
          reads.push(this.recv(2));
        }
        override handleClose(): void {
          this.close();
        }
      }
      const r = new Reader(fd, map);
      const t0 = Date.now();
      loop({ map, backend: 'epoll', timeout: 5, count: 3 });
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(Buffer.concat(reads).toString()).toBe('abcdef');
      // at EOF: recv() returns b'' and closes, on the fourth pass
      loop({ map, backend: 'epoll', timeout: 5, count: 1 });
      expect(map.size).toBe(0);
      expect(r.socket!.fileno()).toBe(-1);
    } finally {
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  test('with nothing to wait for, a pass sleeps its timeout (epoll_wait on an empty set), truncated to whole ms', () => {
    const [a, b] = socket.socketpair();
    const rec = new Recorder(a, map);
    rec.r = false;
    rec.w = false;
    let t0 = process.hrtime.bigint();
    loop({ map, backend: 'epoll', timeout: 0.15, count: 1 });
    const slept = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(slept).toBeGreaterThanOrEqual(140);
    t0 = process.hrtime.bigint();
    loop({ map, backend: 'epoll', timeout: 0.0009, count: 1000 }); // int(0.0009 * 1000) == 0: never blocks
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(700); // 1 ms a pass would be 1000 ms
    b.close();
  });

  test('a registration the kernel keeps for a closed dup does not wake the loop early or reach a newcomer', () => {
    const [r, w] = binding.pipe();
    try {
      class PipeReader extends FileDispatcher {
        override writable(): boolean {
          return false;
        }
      }
      const pr = new PipeReader(r, map); // registers a dup of r
      const [a, b] = socket.socketpair();
      const idle = new Recorder(a, map);
      loop({ map, backend: 'epoll', timeout: 0, count: 1 });
      pr.close(); // closes the dup; r itself stays open, so the kernel keeps the registration
      binding.write(w, Buffer.from('wake'));
      const t0 = Date.now();
      loop({ map, backend: 'epoll', timeout: 0.3, count: 2 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
      expect(idle.events.filter((e) => !e.endsWith('?'))).toEqual([]);
      b.close();
    } finally {
      binding.close(r);
      binding.close(w);
    }
  });

  test('ExitNow from a handler propagates out of loop() and the set stays usable', () => {
    const [a, b] = socket.socketpair();
    class Quitter extends Recorder {
      override handleReadEvent(): void {
        throw new ExitNow('stop');
      }
    }
    new Quitter(a, map);
    b.send('x');
    expect(() => loop({ map, backend: 'epoll', timeout: 1 })).toThrow(ExitNow);
    expect(epollFdOf(map)).not.toBe(-1); // the map still has channels: the set is kept
    releaseBackend(map);
    expect(epollFdOf(map)).toBe(-1);
    b.close();
  });

  test('unknown backends are refused with the list of available ones', () => {
    expect(() => loop({ map, backend: 'kqueue' as never })).toThrow(/unknown backend "kqueue"; available backends: 'select', 'poll', 'epoll'/);
  });
});

describe('select backend and high fds', () => {
  test('an fd of FD_SETSIZE or more throws a RangeError out of loop() that names the poll and epoll backends', () => {
    const map: SocketMap = new Map();
    const [a, b] = socket.socketpair();
    const high = highFdDup(a.fileno());
    if (high === null) return; // fd limit below FD_SETSIZE: nothing to check
    try {
      const rec = new Recorder(new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, high), map);
      let err: unknown;
      try {
        loop({ map, backend: 'select', timeout: 0, count: 1 });
      } catch (e) {
        err = e;
      }
      // (the addon's RangeError comes from Node's realm, not jest's: compare by name)
      expect((err as Error).name).toBe('RangeError');
      expect((err as Error).message).toMatch(/out of range in select\(\).*poll.*epoll/);
      // the same map is served by poll (and epoll where there is one)
      b.send('x');
      loop({ map, backend: hasEpollBackend ? 'epoll' : 'poll', timeout: 1, count: 1 });
      expect(rec.events).toContain('data:x');
      rec.close();
      releaseBackend(map);
    } finally {
      a.close();
      b.close();
    }
  });
});
