// Item 47: a UDP dispatcher is neither connected nor connecting, and still gets handle_read;
// recvfrom() gives each datagram whole, on both passes.
const { T, st, run, PASSES, Rec, socket } = require('../difftrace');
const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

let sender;
class Udp extends Rec {
  handleRead() {
    const [data, addr] = this.socket.recvfrom(100);
    T(this.name, 'handle_read', data, 'from the sender', same(addr, sender.getsockname()), st(this));
  }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const m = new Map();
  const u = new Udp('udp', null, m);
  u.wantWrite = false;
  u.createSocket(socket.AF_INET, socket.SOCK_DGRAM);
  u.bind(['127.0.0.1', 0]);
  T(u.toString(), same(u.familyAndType, [socket.AF_INET, socket.SOCK_DGRAM]));
  sender = new socket.Socket(socket.AF_INET, socket.SOCK_DGRAM);
  sender.bind(['127.0.0.1', 0]);
  for (const msg of ['one', 'two', '']) sender.sendto(msg, u.socket.getsockname());
  run(m, usePoll, 4);
  u.wantWrite = true;
  run(m, usePoll, 1);
  u.close();
  sender.close();
}
