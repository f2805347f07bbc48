# Item 60 and drift 4: with debug set, dispatcher_with_send.send() logs 'sending <repr>' with
# Python's bytes repr: quote chosen by content, escapes for control and non-ASCII bytes.
from difftrace import *

a, b = peer_pair()
d = asyncore.dispatcher_with_send(a, {})
d.debug = True
for data in (b'plain', b"it's", b'say "hi"', b'both \' and "', b'\x00\x01\t\n\r\\\x7f\x80\xff', b'caf\xc3\xa9', b''):
    d.send(data)
T('peer got', b.recv(1000))
d.close()
b.close()
