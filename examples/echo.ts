/**
 * An echo server, its per-connection handler and a client, all in one process
 * and one socket map (the PyMOTW article's asyncore_echo_server.py,
 * asyncore_echo_client.py and the script that runs them together).
 *
 * The client sends examples/lorem.txt in 512-byte writes; the handler reads
 * 256 bytes at a time and echoes each chunk back. When the whole text has
 * come back unchanged the client prints RECEIVED COPY OF MESSAGE and closes;
 * the handler sees the end of the stream and closes too, and the server stops
 * listening after its one connection, so the map empties and `loop()` returns.
 *
 *   node dist/examples/echo.js [file] [--full] [--backend=select|poll|epoll]
 *   (--full prints whole chunks; --backend picks loop()'s readiness call)
 */
import * as fs from 'node:fs';
import { Dispatcher, loop, socket, type Address, type IPv4Address, type IPv6Address } from '../lib/index';
import { backendOption, examplePath, formatAddress, getLogger, type Logger, positionalArgs, preview } from './support/logger';

/** Accepts connections and gives each one an {@link EchoHandler}. */
export class EchoServer extends Dispatcher<socket.Socket<IPv4Address | IPv6Address>> {
  readonly logger: Logger = getLogger('EchoServer');

  constructor(address: Address) {
    super();
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.logger.debug(`binding to ${formatAddress(address)}`);
    this.bind(address);
    this.listen(1);
    this.logger.debug(`listening on ${formatAddress(this.address)}`);
  }

  /** Where the server really listens (port 0 asks the kernel to pick one). */
  get address(): IPv4Address | IPv6Address {
    return this.socket.getsockname();
  }

  override handleAccepted(sock: socket.Socket, addr: Address): void {
    this.logger.debug(`handleAccepted() -> ${formatAddress(addr)}`);
    new EchoHandler(sock);
    // This server serves one client only, so it stops listening once that client is in.
    // A real server would keep listening until told to stop.
    this.handleClose();
  }

  override handleClose(): void {
    this.logger.debug('handleClose()');
    this.close();
  }
}

/** Echoes everything one client sends, `chunkSize` bytes at a time. */
export class EchoHandler extends Dispatcher {
  readonly logger: Logger = getLogger('EchoHandler');
  /** Chunks received and not yet echoed, oldest first. */
  private dataToWrite: Buffer[] = [];

  constructor(
    sock: socket.Socket,
    readonly chunkSize = 256,
  ) {
    super(sock);
  }

  /** Write while anything received is waiting to go back. */
  override writable(): boolean {
    const response = this.dataToWrite.length > 0;
    if (response) this.logger.debug(`writable() -> ${response}`);
    return response;
  }

  override handleWrite(): void {
    const data = this.dataToWrite.shift()!;
    const sent = this.send(data.subarray(0, this.chunkSize));
    if (sent < data.length) this.dataToWrite.unshift(data.subarray(sent));
    this.logger.debug(`handleWrite() -> (${sent}) ${preview(data.subarray(0, sent))}`);
  }

  override handleRead(): void {
    const data = this.recv(this.chunkSize); // empty at the end of the stream, after handleClose()
    this.logger.debug(`handleRead() -> (${data.length}) ${preview(data)}`);
    if (data.length > 0) this.dataToWrite.push(data);
  }

  override handleClose(): void {
    this.logger.debug('handleClose()');
    this.close();
  }
}

/** Sends `message` and checks that the same bytes come back. */
export class EchoClient extends Dispatcher {
  readonly logger: Logger = getLogger('EchoClient');
  private toSend: Buffer;
  private received: Buffer[] = [];
  private receivedLength = 0;
  /** True once the whole message came back unchanged. */
  ok = false;

  constructor(
    host: string,
    port: number,
    readonly message: Buffer,
    readonly chunkSize = 512,
  ) {
    super();
    this.toSend = message;
    this.createSocket(socket.AF_INET, socket.SOCK_STREAM);
    this.logger.debug(`connecting to ${formatAddress([host, port])}`);
    this.connect([host, port]);
  }

  override handleConnect(): void {
    this.logger.debug('handleConnect()');
  }

  override writable(): boolean {
    const response = this.toSend.length > 0;
    this.logger.debug(`writable() -> ${response}`);
    return response;
  }

  override handleWrite(): void {
    const sent = this.send(this.toSend.subarray(0, this.chunkSize));
    this.logger.debug(`handleWrite() -> (${sent}) ${preview(this.toSend.subarray(0, sent))}`);
    this.toSend = this.toSend.subarray(sent);
  }

  override handleRead(): void {
    const data = this.recv(this.chunkSize);
    if (data.length === 0) return; // the server hung up: handleClose() has run
    this.logger.debug(`handleRead() -> (${data.length}) ${preview(data)}`);
    this.received.push(data);
    this.receivedLength += data.length;
    if (this.receivedLength >= this.message.length) this.handleClose();
  }

  override handleClose(): void {
    this.logger.debug('handleClose()');
    this.close();
    const receivedMessage = Buffer.concat(this.received);
    if (receivedMessage.equals(this.message)) {
      this.ok = true;
      this.logger.debug('RECEIVED COPY OF MESSAGE');
    } else {
      this.logger.debug('ERROR IN TRANSMISSION');
      this.logger.debug(`EXPECTED (${this.message.length}) ${preview(this.message)}`);
      this.logger.debug(`RECEIVED (${receivedMessage.length}) ${preview(receivedMessage)}`);
    }
  }
}

function main(): void {
  const file = positionalArgs()[0] ?? examplePath('lorem.txt');
  const root = getLogger();

  const server = new EchoServer(['127.0.0.1', 0]); // port 0: let the kernel pick a free one
  const [ip, port] = server.address;
  const client = new EchoClient(ip, port, fs.readFileSync(file));

  root.debug('LOOP STARTING');
  loop(backendOption());
  root.debug('LOOP DONE');
  if (!client.ok) process.exitCode = 1;
}

if (require.main === module) main();
