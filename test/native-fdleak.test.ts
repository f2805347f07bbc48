/**
 * fd leak check: the number of entries in /proc/self/fd before and after a
 * batch of raw-layer operations — successes and every kind of failure — is
 * the same. Failure paths are where leaks hide (an fd opened, then an error
 * thrown before it is handed back).
 */
import './helpers/native';
import { socket, select, OSError } from '../lib';
import { binding, hasProcFd, openFdTable, outcome, tmpSockPath, unlinkQuiet, waitReadable } from './helpers/raw';

function fdCount(): number {
  return openFdTable().size;
}

function batch(): void {
  // Successful lifecycles.
  const l = new socket.Socket();
  l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1);
  l.bind(['127.0.0.1', 0]);
  l.listen(8);
  const c = new socket.Socket();
  c.connect(l.getsockname());
  const [s] = l.accept();
  c.sendall('x');
  waitReadable(s);
  s.recv(1);
  // A failed accept (EAGAIN) opens nothing.
  l.setblocking(false);
  outcome(() => l.accept());
  s.close();
  c.close();
  l.close();

  // Refused connect, non-blocking and blocking.
  const holder = new socket.Socket();
  holder.bind(['127.0.0.1', 0]);
  const r1 = new socket.Socket();
  r1.setblocking(false);
  r1.connectEx(holder.getsockname());
  const r2 = new socket.Socket();
  outcome(() => r2.connect(holder.getsockname()));
  r2.close();
  r1.close();
  holder.close();

  // Resolver failures and argument errors after the fd exists.
  const u = new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM);
  outcome(() => u.sendto('x', ['no-such-host.invalid', 9]));
  outcome(() => u.bind(['127.0.0.1', 70000]));
  outcome(() => u.bind(['256.256.256.256', 1]));
  u.close();

  // AF_UNIX with a path, and a bind to a path that exists (EADDRINUSE).
  const p = tmpSockPath('leak');
  const a = new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM);
  a.bind(p);
  const b = new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM);
  outcome(() => b.bind(p));
  a.close();
  b.close();
  unlinkQuiet(p);

  // Pairs, pipes, dups, adopted fds.
  const [x, y] = socket.socketpair();
  const d = binding.dup(x.fileno());
  const adopted = new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, d);
  adopted.close();
  x.close();
  y.close();
  const [pr, pw] = binding.pipe();
  binding.close(pr);
  binding.close(pw);
  outcome(() => new socket.Socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, pr)); // EBADF: nothing adopted

  // socket() / socketpair() failures.
  outcome(() => new socket.Socket(socket.AF_INET, 9999));
  outcome(() => socket.socketpair(socket.AF_INET));

  // Readiness objects.
  const ep = select.epoll();
  outcome(() => ep.register(-1));
  ep.close();
  const po = select.poll();
  po.register(0, select.POLLOUT);
  po.poll(0);
  select.select([], [], [], 0);
}

(hasProcFd ? test : test.skip)('a batch of operations, repeated, leaves the fd count unchanged', () => {
  const before = fdCount();
  expect(fdCount()).toBe(before); // listing /proc/self/fd does not count itself
  batch();
  const afterOne = fdCount();
  for (let i = 0; i < 50; i++) batch();
  const after = fdCount();
  expect(afterOne).toBe(before);
  expect(after).toBe(before);
});

(hasProcFd ? test : test.skip)('every OSError path of the Socket class closes what it opened', () => {
  const before = fdCount();
  for (let i = 0; i < 100; i++) {
    const s = new socket.Socket();
    try {
      s.connect(['127.0.0.1', 1]);
    } catch (e) {
      expect(e).toBeInstanceOf(OSError);
    } finally {
      s.close();
    }
  }
  expect(fdCount()).toBe(before);
});
