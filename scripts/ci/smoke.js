#!/usr/bin/env node
// A short smoke suite for one build of the package on one Node: the checks a
// prebuild must pass wherever it is claimed to work. CI runs it with every
// Node major of the matrix, under qemu with the arm64 Node, and in the
// projects that installed the packed tarball.
//
//   node scripts/ci/smoke.js [PACKAGE_DIR]
//
// PACKAGE_DIR is the package to test (default: this checkout), e.g. an
// installed node_modules/asyncore-node. Set PREBUILDS_ONLY=1 to make sure the
// prebuild is what loads (node-gyp-build otherwise prefers build/Release).
// Plain CommonJS for Node >= 18; every check is bounded in time and closes
// what it opens. Prints one line per check and exits 1 if any failed.
'use strict';
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const target = path.resolve(process.argv[2] || path.join(__dirname, '..', '..'));
const results = [];

async function check(name, fn) {
  try {
    const note = await fn();
    results.push(true);
    console.log(`ok - ${name}${note ? ` (${note})` : ''}`);
  } catch (err) {
    results.push(false);
    console.log(`not ok - ${name}: ${err && err.stack ? err.stack : err}`);
  }
}

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

// One TCP echo on 127.0.0.1 in `map`: a listener serving one client, an echo
// handler, and a client that sends `payload` and checks what comes back.
// Returns { done(), cleanup() }; the map is empty once the echo is complete.
function echoScenario(lib, map, payload) {
  const { Dispatcher, DispatcherWithSend, socket } = lib;
  let echoed = false;
  class Echo extends DispatcherWithSend {
    handleRead() {
      const d = this.recv(65536);
      if (d.length) this.send(d);
    }
    handleClose() {
      this.close();
    }
  }
  class Server extends Dispatcher {
    handleAccepted(sock) {
      new Echo(sock, map);
      this.close();
    }
  }
  class Client extends DispatcherWithSend {
    handleConnect() {
      this.got = [];
      this.send(payload);
    }
    handleRead() {
      this.got.push(this.recv(65536));
      const all = Buffer.concat(this.got);
      if (all.length >= payload.length) {
        echoed = all.equals(payload);
        this.close();
      }
    }
    handleClose() {
      this.close();
    }
  }
  const server = new Server(null, map);
  server.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  server.setReuseAddr();
  server.bind(['127.0.0.1', 0]);
  server.listen(5);
  const client = new Client(null, map);
  client.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  client.connect(server.socket.getsockname());
  return {
    done: () => echoed && map.size === 0,
    cleanup: () => lib.closeAll(map),
  };
}

const payload = Buffer.alloc(200000, 'asyncore ');

async function main() {
  let lib;
  await check(`load ${path.relative(process.cwd(), target) || '.'} on Node ${process.version} ${process.platform}-${process.arch}`, () => {
    lib = require(target);
    const gypBuild = require(require.resolve('node-gyp-build', { paths: [target] }));
    return path.relative(target, gypBuild.path(target));
  });
  if (!lib) return;
  const { socket, select } = lib;

  await check('socketpair: send and recv', () => {
    const [a, b] = socket.socketpair();
    try {
      a.send('ping');
      assert(b.recv(4).toString() === 'ping', 'ping arrives');
    } finally {
      a.close();
      b.close();
    }
  });

  await check('select(), poll() and epoll() see a readable end', () => {
    const [a, b] = socket.socketpair();
    const ep = select.hasEpoll ? select.epoll() : null;
    try {
      assert(select.select([b], [], [], 0)[0].length === 0, 'select: not readable before a send');
      a.send('x');
      assert(select.select([b], [], [], 5)[0].length === 1, 'select: readable');
      const p = select.poll();
      p.register(b, select.POLLIN);
      const events = p.poll(5000);
      assert(events.length === 1 && events[0][1] & select.POLLIN, 'poll: POLLIN');
      if (ep) {
        ep.register(b.fileno(), select.EPOLLIN);
        const ready = ep.poll(5);
        assert(ready.length === 1 && ready[0][1] & select.EPOLLIN, 'epoll: EPOLLIN');
      }
      return ep ? 'epoll too' : 'no epoll on this platform';
    } finally {
      if (ep) ep.close();
      a.close();
      b.close();
    }
  });

  for (const backend of ['select', 'poll', ...(select.hasEpoll ? ['epoll'] : [])]) {
    await check(`echo of ${payload.length} bytes through loop({ backend: '${backend}' })`, () => {
      const map = new Map();
      const s = echoScenario(lib, map, payload);
      try {
        lib.loop({ map, backend, timeout: 1, count: 5000 });
        assert(s.done(), 'the echo is complete and every dispatcher closed');
      } finally {
        s.cleanup();
      }
    });
  }

  await check(`echo of ${payload.length} bytes through loopAsync()`, async () => {
    const map = new Map();
    const s = echoScenario(lib, map, payload);
    const ticks = setInterval(() => {}, 1); // Node's own loop keeps turning meanwhile
    const timer = setTimeout(() => s.cleanup(), 20000); // bounded: closing all ends the loop
    try {
      await lib.loopAsync({ map, timeout: 1 });
      assert(s.done(), 'the echo is complete and every dispatcher closed');
    } finally {
      clearInterval(ticks);
      clearTimeout(timer);
      s.cleanup();
    }
  });

  // In a worker: its process.env is its own copy, and the library it loads
  // reads ASYNCORE_WAIT there (a child process would not run under qemu-user).
  await check("loopAsync() with the addon's own wait thread (ASYNCORE_WAIT=thread, in a worker)", () =>
    inWorker(
      `const { socket } = lib;
      const [a, b] = socket.socketpair();
      const map = new Map();
      class Reader extends lib.Dispatcher {
        handleRead() { this.got = this.recv(16).toString(); this.close(); }
        writable() { return false; }
      }
      const r = new Reader(b, map);
      setTimeout(() => a.send('late'), 50);
      lib.loopAsync({ map, timeout: 5 }).then(() => {
        a.close();
        parentPort.postMessage(r.got === 'late');
      });`,
      { ASYNCORE_WAIT: 'thread' },
    ),
  );

  await check('a worker thread loads the addon and runs an echo through loop()', () =>
    inWorker(
      `const map = new Map();
      const s = (${echoScenario.toString()})(lib, map, Buffer.alloc(100000, 'worker '));
      lib.loop({ map, timeout: 1, count: 5000 });
      const ok = s.done();
      s.cleanup();
      parentPort.postMessage(ok);`,
    ),
  );
}

// Runs `body` in a worker thread that has `lib` (the package) and
// `parentPort`; resolves when it posts true, rejects on false, an error or
// after 20 s.
function inWorker(body, env = {}) {
  return new Promise((resolve, reject) => {
    const code = `const { parentPort } = require('node:worker_threads');
      const lib = require(${JSON.stringify(target)});
      ${body}`;
    const worker = new Worker(code, { eval: true, env: { ...process.env, ...env } });
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new Error('the worker did not answer within 20 s'));
    }, 20000);
    worker.once('message', (ok) => {
      clearTimeout(timer);
      worker.terminate().then(() => (ok === true ? resolve() : reject(new Error('the worker reported a failed check'))));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

main().then(
  () => {
    const passed = results.filter(Boolean).length;
    const failed = results.length - passed;
    console.log(`smoke (Node ${process.version}, ${process.arch}): ${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
