/**
 * CPython's BaseTestAPI (Lib/test/test_asyncore.py 505-837): 14 scenarios on
 * real loopback sockets, for IPv4, IPv6 and AF_UNIX, each under the select
 * pass (usePoll false) and the poll pass (usePoll true).
 *
 * As in CPython, a BaseTestHandler throws from every handler it does not
 * expect, and its handleError re-throws, so an unexpected event fails the
 * test by propagating out of loop().
 */
import './helpers/native';
import { constants as osConstants } from 'node:os';
import { Dispatcher, closeAll, loop, socket, socketMap, OSError, type SocketMap, type Address } from '../lib';
import { loopUntil, loopWaitingForFlag, tmpUnixPath, unlinkQuiet, unlinkTmpPaths } from './helpers/loop';
import { ipv6Loopback } from './helpers/raw';

const { EINPROGRESS } = osConstants.errno;
const { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_LINGER, MSG_OOB } = socket;

const ipv6Usable = ipv6Loopback;

interface FamilyCase {
  name: string;
  family: number;
  addr: () => Address;
  available: boolean;
  isUnix: boolean;
}

const FAMILIES: FamilyCase[] = [
  { name: 'IPv4', family: AF_INET, addr: () => ['127.0.0.1', 0], available: true, isUnix: false },
  { name: 'IPv6', family: AF_INET6, addr: () => ['::1', 0], available: ipv6Usable, isUnix: false },
  { name: 'Unix', family: AF_UNIX, addr: () => tmpUnixPath('api'), available: true, isUnix: true },
];
const PASSES = [
  { pass: 'select', usePoll: false },
  { pass: 'poll', usePoll: true },
];
const MATRIX = FAMILIES.flatMap((f) => PASSES.map((p) => ({ ...f, ...p })));

class NotSupposedToBeCalled extends Error {}

/** Every handler the scenario does not expect throws; handleError re-throws (CPython's bare `raise`). */
class BaseTestHandler extends Dispatcher {
  flag = false;
  constructor(sock: socket.Socket | null, map: SocketMap) {
    super(sock, map);
  }
  override handleAccept(): void {
    throw new NotSupposedToBeCalled('handleAccept not supposed to be called');
  }
  override handleAccepted(): void {
    throw new NotSupposedToBeCalled('handleAccepted not supposed to be called');
  }
  override handleConnect(): void {
    throw new NotSupposedToBeCalled('handleConnect not supposed to be called');
  }
  override handleExpt(): void {
    throw new NotSupposedToBeCalled('handleExpt not supposed to be called');
  }
  override handleClose(): void {
    throw new NotSupposedToBeCalled('handleClose not supposed to be called');
  }
  override handleError(err: unknown): void {
    throw err;
  }
}

type HandlerClass = new (sock: socket.Socket, map: SocketMap) => Dispatcher;

/** bind_af_aware: a Unix path is unlinked first. Binds the raw socket, as CPython does (addr stays null). */
function bindAfAware(sock: socket.Socket, addr: Address): void {
  if (sock.family === AF_UNIX) unlinkQuiet(addr as string);
  sock.bind(addr);
}

class BaseServer extends Dispatcher {
  handler: HandlerClass;
  constructor(family: number, addr: Address, map: SocketMap, handler: HandlerClass = BaseTestHandler) {
    super(null, map);
    this.handler = handler;
    this.createSocket(family);
    this.setReuseAddr();
    bindAfAware(this.socket as socket.Socket, addr);
    this.listen(5);
  }
  get address(): Address {
    return (this.socket as socket.Socket).getsockname();
  }
  override handleAccepted(sock: socket.Socket): void {
    new this.handler(sock, this._map);
  }
  override handleError(err: unknown): void {
    throw err;
  }
}

class BaseClient extends BaseTestHandler {
  constructor(family: number, address: Address, map: SocketMap) {
    super(null, map);
    this.createSocket(family);
    this.connect(address);
  }
  override handleConnect(): void {}
}

/** `struct.pack('ii', 1, 0)`: linger on, 0 s, so close() sends a RST. */
function lingerZero(): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32LE(1, 0);
  b.writeInt32LE(0, 4);
  return b;
}

describe.each(MATRIX)('BaseTestAPI $name over $pass', (cfg) => {
  const { family, usePoll } = cfg;
  const maybe = cfg.available ? it : it.skip;
  const maybeNotUnix = cfg.available && !cfg.isUnix ? it : it.skip;
  let map: SocketMap;
  let addr: Address;

  beforeEach(() => {
    map = new Map();
    addr = cfg.addr();
  });

  afterEach(() => {
    closeAll(map, true);
    closeAll(socketMap, true);
    unlinkTmpPaths();
  });

  maybe('handleConnect is called on connect(), while connected is still false', () => {
    const seen: boolean[] = [];
    class TestClient extends BaseClient {
      override handleConnect(): void {
        seen.push(this.connected, this.connecting);
        this.flag = true;
      }
    }
    const server = new BaseServer(family, addr, map);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
    expect(seen).toEqual([false, true]); // item 48: connected turns true only after handleConnect
    expect(client.connected).toBe(true);
    expect(client.connecting).toBe(false);
  });

  maybe('handleAccept is called when a client connects', () => {
    class TestListener extends BaseTestHandler {
      address: Address;
      constructor() {
        super(null, map);
        this.createSocket(family);
        bindAfAware(this.socket as socket.Socket, addr);
        this.listen(5);
        this.address = (this.socket as socket.Socket).getsockname();
      }
      override handleAccept(): void {
        this.flag = true;
      }
    }
    const server = new TestListener();
    new BaseClient(family, server.address, map);
    loopWaitingForFlag(server, { usePoll, map });
    expect(server.accepting).toBe(true);
  });

  maybe('the default handleAccept calls accept() then handleAccepted(sock, addr)', () => {
    const accepted: Array<[socket.Socket, Address]> = [];
    class TestListener extends BaseTestHandler {
      address: Address;
      constructor() {
        super(null, map);
        this.createSocket(family);
        bindAfAware(this.socket as socket.Socket, addr);
        this.listen(5);
        this.address = (this.socket as socket.Socket).getsockname();
      }
      override handleAccept(): void {
        Dispatcher.prototype.handleAccept.call(this);
      }
      override handleAccepted(sock?: socket.Socket, peer?: Address): void {
        accepted.push([sock!, peer!]);
        sock!.close();
        this.flag = true;
      }
    }
    const server = new TestListener();
    const client = new BaseClient(family, server.address, map);
    loopWaitingForFlag(server, { usePoll, map });
    expect(accepted).toHaveLength(1);
    const [sock, peer] = accepted[0];
    expect(sock).toBeInstanceOf(socket.Socket);
    expect(sock.fileno()).toBe(-1); // closed by the handler
    if (cfg.isUnix) {
      expect(typeof peer).toBe('string');
    } else {
      // the peer address is the client's own address
      const own = (client.socket as socket.Socket).getsockname() as [string, number];
      expect((peer as [string, number])[1]).toBe(own[1]);
    }
  });

  maybe('handleRead is called when data arrives', () => {
    class TestClient extends BaseClient {
      override handleRead(): void {
        this.flag = true;
      }
    }
    class TestHandler extends BaseTestHandler {
      constructor(conn: socket.Socket, m: SocketMap) {
        super(conn, m);
        this.send(Buffer.alloc(1024, 'x'));
      }
    }
    const server = new BaseServer(family, addr, map, TestHandler);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
  });

  maybe('handleWrite is called for a connected client with the default writable()', () => {
    class TestClient extends BaseClient {
      override handleWrite(): void {
        this.flag = true;
      }
    }
    const server = new BaseServer(family, addr, map);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
  });

  maybe('handleClose is called when the other end closes (EOF seen by recv)', () => {
    const received: Buffer[] = [];
    class TestClient extends BaseClient {
      override handleRead(): void {
        // handle_close comes from at least one recv() call
        received.push(this.recv(1024));
      }
      override handleClose(): void {
        this.flag = true;
        this.close();
      }
    }
    class TestHandler extends BaseTestHandler {
      constructor(conn: socket.Socket, m: SocketMap) {
        super(conn, m);
        this.close();
      }
    }
    const server = new BaseServer(family, addr, map, TestHandler);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
    expect(received.length).toBeGreaterThanOrEqual(1);
    expect(received[received.length - 1].length).toBe(0); // recv() returned b'' at EOF
    expect(client.connected).toBe(false);
    expect(map.has(client._fileno ?? -1)).toBe(false);
  });

  maybe('a broken connection ends in handleClose or handleExpt (bpo-5661, bpo-11265)', () => {
    const data = Buffer.alloc(128);
    class TestClient extends BaseClient {
      override handleWrite(): void {
        this.send(data);
      }
      override handleClose(): void {
        this.flag = true;
        this.close();
      }
      override handleExpt(): void {
        this.flag = true;
        this.close();
      }
    }
    class TestHandler extends BaseTestHandler {
      override handleRead(): void {
        this.recv(data.length);
        this.close();
      }
      override writable(): boolean {
        return false;
      }
    }
    const server = new BaseServer(family, addr, map, TestHandler);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
    expect(client.connected).toBe(false);
  });

  maybeNotUnix('handleExpt is called on out-of-band data', () => {
    const oob: Buffer[] = [];
    class TestClient extends BaseClient {
      override handleExpt(): void {
        oob.push((this.socket as socket.Socket).recv(1024, MSG_OOB));
        this.flag = true;
      }
    }
    class TestHandler extends BaseTestHandler {
      constructor(conn: socket.Socket, m: SocketMap) {
        super(conn, m);
        (this.socket as socket.Socket).send(Buffer.from([244]), MSG_OOB);
      }
    }
    const server = new BaseServer(family, addr, map, TestHandler);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
    expect(Buffer.concat(oob)).toEqual(Buffer.from([244]));
  });

  maybe('handleError receives the error a handler threw', () => {
    class ZeroDivisionError extends Error {}
    const got: unknown[] = [];
    class TestClient extends BaseClient {
      override handleWrite(): void {
        throw new ZeroDivisionError('float division by zero');
      }
      override handleError(err: unknown): void {
        got.push(err);
        this.flag = true;
        if (!(err instanceof ZeroDivisionError)) throw new Error('exception not raised');
      }
    }
    const server = new BaseServer(family, addr, map);
    const client = new TestClient(family, server.address, map);
    loopWaitingForFlag(client, { usePoll, map });
    expect(got[0]).toBeInstanceOf(ZeroDivisionError);
  });

  maybe('connection attributes: accepting/connected through connect and close', () => {
    const server = new BaseServer(family, addr, map);
    const client = new BaseClient(family, server.address, map);
    // we start disconnected
    expect(server.connected).toBe(false);
    expect(server.accepting).toBe(true);
    expect(client.accepting).toBe(false);

    // execute some loops so that client connects to server
    loop({ timeout: 0.01, usePoll, map, count: 100 });
    if (!client.connected) loopUntil(() => client.connected, { usePoll, map }); // a slow machine
    expect(server.connected).toBe(false);
    expect(server.accepting).toBe(true);
    expect(client.connected).toBe(true);
    expect(client.accepting).toBe(false);

    // disconnect the client
    client.close();
    expect(server.connected).toBe(false);
    expect(server.accepting).toBe(true);
    expect(client.connected).toBe(false);
    expect(client.accepting).toBe(false);

    // stop serving
    server.close();
    expect(server.connected).toBe(false);
    expect(server.accepting).toBe(false);
  });

  maybe('createSocket makes a non-blocking, non-inheritable stream socket of the family', () => {
    const s = new Dispatcher(null, map);
    s.createSocket(family);
    const sock = s.socket as socket.Socket;
    expect(sock.type).toBe(SOCK_STREAM);
    expect(sock.family).toBe(family);
    expect(sock.gettimeout()).toBe(0);
    expect(sock.getInheritable()).toBe(false);
    expect(s.familyAndType).toEqual([family, SOCK_STREAM]);
    expect(map.get(sock.fileno())).toBe(s);
  });

  maybeNotUnix('bind: a second bind to the same port fails with EADDRINUSE', () => {
    const s1 = new Dispatcher(null, map);
    s1.createSocket(family);
    s1.bind(addr);
    s1.listen(5);
    const port = ((s1.socket as socket.Socket).getsockname() as [string, number])[1];

    const s2 = new Dispatcher(null, map);
    s2.createSocket(family);
    let thrown: unknown;
    try {
      s2.bind([(addr as [string, number])[0], port]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OSError);
    expect((thrown as OSError).code).toBe('EADDRINUSE');
  });

  maybeNotUnix('setReuseAddr turns SO_REUSEADDR on', () => {
    const s = new Dispatcher(new socket.Socket(family), map);
    expect((s.socket as socket.Socket).getsockopt(SOL_SOCKET, SO_REUSEADDR)).toBe(0);
    (s.socket as socket.Socket).close();
    s.createSocket(family);
    s.setReuseAddr();
    expect((s.socket as socket.Socket).getsockopt(SOL_SOCKET, SO_REUSEADDR)).not.toBe(0);
  });

  maybeNotUnix('quick connect: a connection reset before or while it is accepted does not break the loop (bpo-10340)', () => {
    // CPython runs loop(timeout=0.1, count=5) in a thread while the main thread connects with
    // SO_LINGER {1, 0} and closes (RST). Here the connect and the reset are interleaved with passes
    // of the loop, on the default map as in CPython, in three orders.
    const handlers: QuickHandler[] = [];
    const errors: unknown[] = [];
    class QuickHandler extends Dispatcher {
      connectedAtStart: boolean;
      closedByHandleClose = false;
      constructor(sock: socket.Socket, m: SocketMap) {
        super(sock, m);
        this.connectedAtStart = this.connected;
        handlers.push(this);
      }
      override handleRead(): void {
        this.recv(1); // ECONNRESET or EOF: handleClose
      }
      override writable(): boolean {
        return false;
      }
      override handleClose(): void {
        this.closedByHandleClose = true;
        this.close();
      }
      override handleError(err: unknown): void {
        errors.push(err);
        this.close();
      }
    }
    const server = new BaseServer(family, addr, socketMap, QuickHandler);
    const target = server.address;
    for (const order of ['reset-before-any-pass', 'reset-after-one-pass', 'reset-after-connected']) {
      const c = new socket.Socket(family, SOCK_STREAM);
      try {
        c.setblocking(false);
        c.setsockopt(SOL_SOCKET, SO_LINGER, lingerZero());
        const err = c.connectEx(target);
        expect([0, EINPROGRESS]).toContain(err);
        if (order === 'reset-after-one-pass') loop({ timeout: 0.01, count: 1, usePoll, map: socketMap });
        if (order === 'reset-after-connected') {
          const done = loopUntil(() => handlers.length > 0 && handlers[handlers.length - 1].connectedAtStart, { usePoll, map: socketMap });
          expect(done).toBe(true);
        }
      } finally {
        c.close(); // RST
      }
      expect(() => loop({ timeout: 0.1, count: 5, usePoll, map: socketMap })).not.toThrow();
    }
    // every accepted channel either started unconnected (ENOTCONN from getpeername) or saw the reset
    const settled = loopUntil(() => handlers.every((h) => !h.connected), { usePoll, map: socketMap });
    expect(settled).toBe(true);
    expect(errors).toEqual([]);
    expect(handlers.length).toBeGreaterThanOrEqual(1); // at least the connection that was accepted first
    for (const h of handlers) expect(!h.connectedAtStart || h.closedByHandleClose).toBe(true);
    expect(server.accepting).toBe(true);
  });
});
