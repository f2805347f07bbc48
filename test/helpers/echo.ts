/**
 * An echo scenario shared by the backend tests: an echo server and `n`
 * clients on one map; each client sends `payload` and checks the echo.
 */
import { Dispatcher, DispatcherWithSend, socket, type SocketMap } from '../../lib';

export function echoScenario(map: SocketMap, n: number, payload: Buffer): { done: () => boolean; check: () => void } {
  class Echo extends DispatcherWithSend {
    override handleRead(): void {
      const d = this.recv(65536);
      if (d.length) this.send(d);
    }
    override handleClose(): void {
      this.close();
    }
  }
  class Server extends Dispatcher {
    override handleAccepted(sock: socket.Socket): void {
      new Echo(sock, map);
    }
    override writable(): boolean {
      return false;
    }
  }
  const server = new Server(null, map);
  server.createSocket();
  server.setReuseAddr();
  server.bind(['127.0.0.1', 0]);
  server.listen(128);
  const port = (server.socket as socket.Socket).getsockname()[1] as number;
  const clients: Client[] = [];
  let finished = 0;
  class Client extends DispatcherWithSend {
    got: Buffer[] = [];
    size = 0;
    override handleConnect(): void {
      this.send(payload);
    }
    override handleRead(): void {
      const d = this.recv(65536);
      this.got.push(d);
      this.size += d.length;
      if (this.size >= payload.length) {
        this.close();
        if (++finished === n) server.close();
      }
    }
    override handleClose(): void {
      this.close();
    }
  }
  for (let i = 0; i < n; i++) {
    const c = new Client(null, map);
    c.createSocket();
    c.connect(['127.0.0.1', port]);
    clients.push(c);
  }
  return {
    done: () => finished === n,
    check: () => {
      for (const c of clients) expect(Buffer.concat(c.got).equals(payload)).toBe(true);
    },
  };
}
