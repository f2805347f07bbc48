/**
 * A line-based chat room on AsyncChat. Clients connect (telnet, nc, …),
 * send `nick NAME` to join, then lines of text; everyone in the room sees
 * `NAME: text`. `who` lists the room, `quit` leaves it.
 *
 *   node dist/examples/chat_server.js [--host 127.0.0.1] [--port 0] [--backend select|poll|epoll] [--idle-timeout 300]
 *   node dist/examples/chat_server.js --demo
 *
 * `--demo` starts the server and three scripted clients in this one process
 * and socket map, prints the transcript (what each client sends and sees),
 * and exits once everyone has quit.
 *
 * Each connection is a {@link ChatSession}: its terminator is `\n`, so
 * `collectIncomingData()` gathers a line and `foundTerminator()` acts on it.
 * Output goes through `push()`, which queues what the kernel does not take
 * at once. A line longer than 4 KiB gets the session closed, through
 * AsyncChat's `maxIncomingBuffer`. A client that sends nothing for
 * `--idle-timeout` seconds is told so and dropped: each session holds a
 * `callLater` timer that every line it sends resets (and that `close()` cancels).
 */
import { AsyncChat, BufferOverflowError, Dispatcher, loop, socket, type Address, type IPv4Address, type IPv6Address, type SocketMap, type TimerHandle } from '../lib/index';
import { chooseBackend, hostPort, parseServerArgs } from './support/cli';

const NAME = /^[A-Za-z0-9_-]{1,16}$/;
const MAX_LINE = 4096;
const WELCOME = "* welcome: send 'nick NAME' to join, 'who' to list the room, 'quit' to leave";

/** Listens, and gives each connection a {@link ChatSession}. */
export class ChatServer extends Dispatcher<socket.Socket<IPv4Address | IPv6Address>> {
  /** Everyone connected, named or not. */
  readonly sessions = new Set<ChatSession>();

  /**
   * @param idleTimeout seconds a client may stay silent before it is dropped; null: never
   */
  constructor(
    address: Address,
    map: SocketMap | null = null,
    readonly idleTimeout: number | null = null,
  ) {
    super(null, map);
    this.createSocket(typeof address !== 'string' && address[0].includes(':') ? socket.AF_INET6 : socket.AF_INET, socket.SOCK_STREAM);
    this.setReuseAddr();
    this.bind(address);
    this.listen(16);
  }

  /** Where the server really listens (port 0 asks the kernel to pick one). */
  get address(): IPv4Address | IPv6Address {
    return this.socket.getsockname();
  }

  override handleAccepted(sock: socket.Socket): void {
    this.sessions.add(new ChatSession(this, sock));
  }

  /** The session called `name`, if any. */
  named(name: string): ChatSession | undefined {
    for (const s of this.sessions) if (s.name === name) return s;
    return undefined;
  }

  /** Send `line` to everyone in the room (that is, every named session) but `except`. */
  broadcast(line: string, except: ChatSession | null = null): void {
    for (const s of this.sessions) if (s.name !== null && s !== except) s.say(line);
  }

  override handleClose(): void {
    this.close();
  }
}

/** One client of the room. */
export class ChatSession extends AsyncChat {
  name: string | null = null;
  /** Drops the client after `server.idleTimeout` silent seconds; reset by what it sends. */
  private readonly idle: TimerHandle | null;

  constructor(
    readonly server: ChatServer,
    sock: socket.Socket,
  ) {
    super(sock, server._map);
    // Chat lines are small and interactive: without this, Nagle's algorithm holds
    // a line back until the client acknowledges the previous one (up to 40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
    this.setTerminator('\n');
    this.maxIncomingBuffer = MAX_LINE;
    this.idle = server.idleTimeout === null ? null : this.callLater(server.idleTimeout, this.dropIdle);
    this.say(WELCOME);
  }

  /** Queue one line for this client. */
  say(line: string): void {
    this.push(line + '\r\n');
  }

  override collectIncomingData(data: Buffer): void {
    this.idle?.reset();
    this._collectIncomingData(data);
  }

  /** The idle timer fired: say why, leave the room and close once that is sent. */
  private dropIdle(): void {
    if (this.closing) return;
    this.say(`* idle for ${this.server.idleTimeout} s, bye`);
    this.leave();
    this.closing = true;
    this.closeWhenDone();
  }

  override foundTerminator(): void {
    const line = this._getData().toString('utf8').replace(/\r$/, '').trim();
    if (line !== '' && !this.closing) this.handleLine(line);
  }

  private handleLine(line: string): void {
    const space = line.indexOf(' ');
    const command = space < 0 ? line : line.slice(0, space);
    const arg = space < 0 ? '' : line.slice(space + 1).trim();
    if (line === 'quit') {
      this.say('* bye');
      this.leave();
      this.closing = true;
      this.closeWhenDone();
    } else if (line === 'who') {
      const names = [...this.server.sessions].map((s) => s.name).filter((n): n is string => n !== null);
      this.say(`* here: ${names.sort().join(', ') || 'nobody yet'}`);
    } else if (command === 'nick') {
      this.nick(arg);
    } else if (this.name === null) {
      this.say("* say 'nick NAME' first");
    } else {
      this.server.broadcast(`${this.name}: ${line}`);
    }
  }

  private nick(name: string): void {
    if (!NAME.test(name)) {
      this.say('* a name is 1 to 16 letters, digits, _ or -');
    } else if (this.server.named(name) !== undefined) {
      this.say(`* the name ${name} is taken`);
    } else if (this.name === null) {
      this.name = name;
      this.server.broadcast(`* ${name} joined`);
    } else {
      const old = this.name;
      this.name = name;
      this.server.broadcast(`* ${old} is now ${name}`);
    }
  }

  /** Leave the room (once), telling the others. */
  private leave(): void {
    if (!this.server.sessions.delete(this)) return;
    if (this.name !== null) this.server.broadcast(`* ${this.name} left`);
  }

  /** No more reading once the session is on its way out. */
  override readable(): boolean {
    return !this.closing;
  }

  override handleClose(): void {
    this.leave();
    this.close();
  }

  override handleError(err: unknown): void {
    if (err instanceof BufferOverflowError) {
      this.say(`* lines are limited to ${MAX_LINE} bytes, bye`);
      this.leave();
      this.closing = true;
      this.closeWhenDone();
      return;
    }
    super.handleError(err);
  }
}

// ---- the demo: three scripted clients in the same map -----------------------------------

interface Step {
  who: string;
  send: string;
  /** The line the sender gets back when the server has acted on `send`. */
  expect: string;
}

const SCRIPT: Step[] = [
  { who: 'alice', send: 'nick alice', expect: '* alice joined' },
  { who: 'bob', send: 'hello?', expect: "* say 'nick NAME' first" },
  { who: 'bob', send: 'nick alice', expect: '* the name alice is taken' },
  { who: 'bob', send: 'nick bob', expect: '* bob joined' },
  { who: 'alice', send: 'hi bob', expect: 'alice: hi bob' },
  { who: 'bob', send: 'hi alice, how are you?', expect: 'bob: hi alice, how are you?' },
  { who: 'carol', send: 'nick carol', expect: '* carol joined' },
  { who: 'carol', send: 'who', expect: '* here: alice, bob, carol' },
  { who: 'bob', send: 'quit', expect: '* bye' },
  { who: 'carol', send: 'see you, alice', expect: 'carol: see you, alice' },
  { who: 'alice', send: 'quit', expect: '* bye' },
  { who: 'carol', send: 'quit', expect: '* bye' },
];

/** A client that prints what it sees and tells the director. */
class ScriptedClient extends AsyncChat<socket.Socket> {
  readonly seen: string[] = [];

  constructor(
    readonly label: string,
    address: Address,
    map: SocketMap,
    readonly director: Director,
  ) {
    super(null, map);
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1);
    this.connect(address);
    this.setTerminator('\r\n');
  }

  override handleConnect(): void {}

  override collectIncomingData(data: Buffer): void {
    this._collectIncomingData(data);
  }

  override foundTerminator(): void {
    const line = this._getData().toString('utf8');
    this.seen.push(line);
    process.stdout.write(`[${this.label}] ${line}\n`);
    this.director.heard(this, line);
  }

  send_(line: string): void {
    process.stdout.write(`${this.label}> ${line}\n`);
    this.push(line + '\n');
  }

  override handleClose(): void {
    this.close();
    this.director.closed(this);
  }
}

/**
 * Runs the script: a step is sent once the previous one's answer came back
 * to its sender and a loop pass then went by with nothing more to read, so
 * the transcript shows everyone's view of a step before the next one.
 */
class Director {
  private step = -1;
  private readonly clients = new Map<string, ScriptedClient>();
  private welcomed = 0;
  /** The current step's answer has arrived. */
  private answered = false;
  /** Some client read a line during the last pass. */
  private busy = false;
  done = false;

  constructor(
    readonly server: ChatServer,
    map: SocketMap,
  ) {
    for (const name of ['alice', 'bob', 'carol']) this.clients.set(name, new ScriptedClient(name, server.address, map, this));
  }

  heard(client: ScriptedClient, line: string): void {
    this.busy = true;
    if (line === WELCOME) {
      if (++this.welcomed === this.clients.size) this.answered = true;
      return;
    }
    const current = SCRIPT[this.step];
    if (current !== undefined && client.label === current.who && line === current.expect) this.answered = true;
  }

  /** Called between loop passes: the script's own work, done outside the handlers. */
  tick(): void {
    const quiet = !this.busy;
    this.busy = false;
    if (!this.answered || !quiet) return;
    this.answered = false;
    this.step++;
    const s = SCRIPT[this.step];
    if (s !== undefined) this.clients.get(s.who)!.send_(s.send);
  }

  closed(_client: ScriptedClient): void {
    if ([...this.clients.values()].every((c) => !c.connected) && this.step >= SCRIPT.length - 1) {
      this.done = true;
      this.server.close(); // the last channel: the map empties and the loop returns
    }
  }
}

function demo(backend: ReturnType<typeof chooseBackend>): number {
  const map: SocketMap = new Map();
  const server = new ChatServer(['127.0.0.1', 0], map);
  const director = new Director(server, map);
  // One pass at a time, so the director can act between passes. Bounded, so a
  // broken demo cannot hang: at most 3000 passes of at most 0.02 s each.
  for (let pass = 0; pass < 3000 && map.size > 0; pass++) {
    loop({ map, timeout: 0.02, count: 1, backend });
    director.tick();
  }
  if (!director.done) {
    process.stderr.write(`the demo did not finish (${map.size} channels still open)\n`);
    for (const ch of map.values()) ch.close();
    return 1;
  }
  process.stdout.write('demo finished\n');
  return 0;
}

function main(): number {
  const args = parseServerArgs({ demo: { type: 'boolean', default: false }, 'idle-timeout': { type: 'string', default: '300' } });
  if (args.help) {
    process.stdout.write('usage: chat_server [--host 127.0.0.1] [--port 0] [--backend select|poll|epoll] [--idle-timeout 300] [--demo]\n');
    return 0;
  }
  const idleTimeout = Number(args.values['idle-timeout']);
  if (!(idleTimeout > 0)) throw new Error('--idle-timeout must be a positive number of seconds');
  const backend = chooseBackend(args.backend);
  if (args.values.demo === true) return demo(backend);
  const server = new ChatServer([args.host, args.port], null, idleTimeout);
  process.stdout.write(`listening on ${hostPort(args.host, server.address[1])}\n`);
  loop({ timeout: 30, backend });
  return 0;
}

if (require.main === module) process.exitCode = main();
