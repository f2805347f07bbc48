'use strict';
// Small helpers the soak and load scripts share: open fds, megabytes, and
// whether loop() takes a backend on this machine.
const fs = require('node:fs');

const MB = 1024 * 1024;

/** Megabytes, one decimal. */
const mb = (n) => Math.round((n / MB) * 10) / 10;

/** Open fds of this process (readdir's own fd is in the list while it is read, and closed afterwards). */
function fdCount() {
  return fs.readdirSync('/proc/self/fd').length - 1;
}

/** Whether `loop({ backend })` is available here: one pass over an empty map throws for a missing backend. */
function backendAvailable(loop, backend) {
  try {
    loop({ backend, map: new Map(), count: 1 });
    return true;
  } catch {
    return false;
  }
}

module.exports = { MB, mb, fdCount, backendAvailable };
