// Item 60 and drift 4: with debug set, dispatcher_with_send.send() logs 'sending <repr>' with
// Python's bytes repr: quote chosen by content, escapes for control and non-ASCII bytes.
const { T, peerPair, DispatcherWithSend } = require('../difftrace');

const [a, b] = peerPair();
const d = new DispatcherWithSend(a, new Map());
d.debug = true;
for (const data of ['plain', "it's", 'say "hi"', 'both \' and "', Buffer.from('\x00\x01\t\n\r\\\x7f\x80\xff', 'latin1'), 'café', '']) d.send(data);
T('peer got', b.recv(1000));
d.close();
b.close();
