/**
 * Reading a file through the loop (the PyMOTW article's
 * asyncore_file_dispatcher.py): FileDispatcher wraps a file descriptor so the
 * same select()/poll() passes that serve sockets serve it too. This one reads
 * examples/lorem.txt 256 bytes at a time; at the end of the file `recv()`
 * calls handleClose(), the channel leaves the map and `loop()` returns.
 *
 * A regular file is always "ready", so this only shows the mechanics; the
 * same class is what lets a pipe or a terminal share a loop with sockets.
 *
 *   node dist/examples/file_dispatcher.js [file] [--full] [--backend=select|poll]
 */
import * as fs from 'node:fs';
import { FileDispatcher, loop } from '../lib/index';
import { backendOption, examplePath, getLogger, type Logger, positionalArgs, preview } from './support/logger';

/** Reads its file to the end and prints what each read returned. */
export class FileReader extends FileDispatcher {
  readonly logger: Logger = getLogger('FileReader');
  /** Bytes read so far. */
  total = 0;

  override writable(): boolean {
    return false;
  }

  override handleRead(): void {
    const data = this.recv(256); // empty at the end of the file, after handleClose()
    this.total += data.length;
    this.logger.debug(`handleRead() -> (${data.length}) ${preview(data)}`);
  }

  /** Ignore events that look like out-of-band data. */
  override handleExpt(): void {}

  override handleClose(): void {
    this.logger.debug(`handleClose() after ${this.total} bytes`);
    this.close();
  }
}

function main(): void {
  const file = positionalArgs()[0] ?? examplePath('lorem.txt');
  const fd = fs.openSync(file, 'r');
  const reader = new FileReader(fd);
  fs.closeSync(fd); // the dispatcher's FileWrapper holds its own dup() of the fd

  getLogger().debug('LOOP STARTING');
  loop(backendOption());
  getLogger().debug('LOOP DONE');
  if (reader.total !== fs.statSync(file).size) process.exitCode = 1;
}

if (require.main === module) main();
