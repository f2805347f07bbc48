# Items 63, 64, 66, 67 (FileWrapperTest): file_dispatcher on a pipe reads through a dup of the
# fd, is connected from the start, sees EOF as handle_close; a regular file is always ready;
# file_wrapper's close is idempotent even when the fd was closed behind it.
from difftrace import *


class FileRec(asyncore.file_dispatcher):
    def handle_read(self):
        T('handle_read', self.recv(100), st(self))

    def writable(self):
        return False

    def handle_close(self):
        T('handle_close', st(self))
        self.close()


for name, use_poll in PASSES:
    T('==', name)
    r, w = os.pipe()
    m = {}
    f = FileRec(r, m)
    T('dup', f.socket.fd != r, st(f), 'in map', f._fileno in m)
    os.close(r)
    os.write(w, b'through a pipe')
    run(m, use_poll, 1)
    os.close(w)
    run(m, use_poll, 2)
    T('in map', len(m))
    path = tmp_path('file')
    with open(path, 'wb') as fh:
        fh.write(b"It's not dead, it's sleeping!")
    fd = os.open(path, os.O_RDONLY)
    g = FileRec(fd, m)
    os.close(fd)
    asyncore.loop(0.01, True, m, 2)
    os.unlink(path)
    fw = asyncore.file_wrapper(os.open('/dev/null', os.O_RDONLY))
    os.close(fw.fd)
    try:
        fw.close()
    except OSError as e:
        T('close after a close behind its back:', exc(e), 'fd', fw.fd)
    fw.close()
    T('second close: fd', fw.fd, 'SO_ERROR', fw.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
