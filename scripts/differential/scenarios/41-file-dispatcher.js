// Items 63, 64, 66, 67 (FileWrapperTest): file_dispatcher on a pipe reads through a dup of the
// fd, is connected from the start, sees EOF as handle_close; a regular file is always ready;
// file_wrapper's close is idempotent even when the fd was closed behind it.
const fs = require('node:fs');
const { T, exc, st, run, PASSES, tmpPath, FileDispatcher, FileWrapper, OSError, socket, loop } = require('../difftrace');
const { binding } = require('../../../dist/lib/native');

class FileRec extends FileDispatcher {
  handleRead() { T('handle_read', this.recv(100), st(this)); }
  writable() { return false; }
  handleClose() { T('handle_close', st(this)); this.close(); }
}

for (const [name, usePoll] of PASSES) {
  T('==', name);
  const [r, w] = binding.pipe();
  const m = new Map();
  const f = new FileRec(r, m);
  T('dup', f.socket.fd !== r, st(f), 'in map', m.has(f._fileno));
  fs.closeSync(r);
  fs.writeSync(w, 'through a pipe');
  run(m, usePoll, 1);
  fs.closeSync(w);
  run(m, usePoll, 2);
  T('in map', m.size);
  const path = tmpPath('file');
  fs.writeFileSync(path, "It's not dead, it's sleeping!");
  const fd = fs.openSync(path, 'r');
  new FileRec(fd, m);
  fs.closeSync(fd);
  loop(0.01, true, m, 2);
  fs.unlinkSync(path);
  const fw = new FileWrapper(fs.openSync('/dev/null', 'r'));
  fs.closeSync(fw.fd);
  try { fw.close(); } catch (e) { if (e instanceof OSError) T('close after a close behind its back:', exc(e), 'fd', fw.fd); }
  fw.close();
  T('second close: fd', fw.fd, 'SO_ERROR', fw.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR));
}
