'use strict';
/**
 * The library's half of the differential scenarios: the helpers of difftrace.py
 * under the same names, on the built library (dist/). A scenario prints one
 * line per callback and the state it saw; run.js compares it with CPython's.
 */
const path = require('node:path');
const lib = require(path.join(__dirname, '..', '..', 'dist', 'lib'));
const { reprBytes, reprStr } = require(path.join(__dirname, '..', '..', 'dist', 'lib', 'dispatcher'));

const { Dispatcher, OSError, loop, socket } = lib;
const PASSES = [
  ['select', false],
  ['poll', true],
];

/** Python's repr() of the values the scenarios print. */
function r(v) {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return reprStr(v);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (Array.isArray(v)) return `(${v.map(r).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (ArrayBuffer.isView(v)) return reprBytes(v);
  if (v instanceof Set) return v.size === 0 ? 'frozenset()' : `frozenset({${[...v].map(r).join(', ')}})`;
  return String(v);
}

/** One trace line: strings as they are, anything else through r(). */
function T(...parts) {
  process.stdout.write(parts.map((p) => (typeof p === 'string' ? p : r(p))).join(' ') + '\n');
}

/** Python's names for the JavaScript errors that stand in for its exceptions. */
const PY_NAMES = { RangeError: 'ValueError' };

/** An error as 'Type:message'; OSErrors as 'OSError:ECODE'. */
function exc(e, message = true) {
  if (e instanceof OSError) return `OSError:${e.code}`;
  const name = PY_NAMES[e.name] ?? e.name;
  return message ? `${name}:${e.message}` : name;
}

/** The flags asyncore keeps in the open, as 'flags=connected+accepting' ('-' for none). */
function st(d) {
  const on = ['connected', 'accepting', 'connecting'].filter((f) => d[f]);
  return `flags=${on.join('+') || '-'}`;
}

const cell = new Int32Array(new SharedArrayBuffer(4));
/** Let loopback traffic land before a pass. */
function settle(seconds = 0.01) {
  Atomics.wait(cell, 0, 0, seconds * 1000);
}

/** n single passes, each after settle(). */
function run(map, usePoll, n = 1, timeout = 0.05) {
  for (let i = 0; i < n; i++) {
    settle();
    loop(timeout, usePoll, map, 1);
  }
}

function tmpPath(tag) {
  return `/tmp/adiff-${process.pid}-${tag}`;
}

/** The error scenarios throw from handlers (Python: class Boom(Exception)). */
class Boom extends Error {
  get name() {
    return 'Boom';
  }
}

/** A dispatcher that traces every handler (see difftrace.py's Rec). */
class Rec extends Dispatcher {
  constructor(name, sock = null, map = null) {
    super(sock, map);
    this.name = name;
    this.wantRead = true;
    this.wantWrite = true;
  }
  readable() {
    return this.wantRead;
  }
  writable() {
    return this.wantWrite;
  }
  handleConnect() {
    T(this.name, 'handle_connect', st(this));
  }
  handleAccepted(sock, addr) {
    T(this.name, 'handle_accepted', st(this));
    this.accepted = new Rec(`${this.name}.conn`, sock, this._map);
    this.accepted.wantWrite = false;
  }
  handleRead() {
    const data = this.recv(100);
    T(this.name, 'handle_read', data, st(this));
  }
  handleWrite() {
    T(this.name, 'handle_write', st(this));
  }
  handleExpt() {
    T(this.name, 'handle_expt', st(this));
  }
  handleClose() {
    T(this.name, 'handle_close', st(this));
    this.close();
  }
  handleError(err) {
    T(this.name, 'handle_error', exc(err), st(this));
    this.close();
  }
}

/** A listening Rec on 127.0.0.1 (an ephemeral port); returns [server, address]. */
function tcpServer(map, name = 'srv') {
  const s = new Rec(name, null, map);
  s.createSocket(socket.AF_INET, socket.SOCK_STREAM);
  s.setReuseAddr();
  s.bind(['127.0.0.1', 0]);
  s.listen(5);
  return [s, s.socket.getsockname()];
}

/** A connected socketpair: [ours, theirs]; theirs is non-blocking and stays out of any map. */
function peerPair() {
  const [a, b] = socket.socketpair();
  b.setblocking(false);
  return [a, b];
}

/** An AsyncChat that traces collect/found/close/error (see difftrace.py's Chat). */
class Chat extends lib.AsyncChat {
  constructor(name, sock = null, map = null, terminator = '\n') {
    super(sock, map);
    this.name = name;
    this.hooks = {};
    if (terminator !== 'unset') this.setTerminator(terminator);
  }
  hook(event) {
    const f = this.hooks[event];
    delete this.hooks[event];
    if (f) f(this);
  }
  collectIncomingData(data) {
    T(this.name, 'collect', data);
    this.hook('collect');
  }
  foundTerminator() {
    T(this.name, 'found', this.getTerminator());
    this.hook('found');
  }
  handleClose() {
    T(this.name, 'handle_close', st(this));
    this.close();
  }
  handleError(err) {
    T(this.name, 'handle_error', exc(err), st(this));
    this.close();
  }
}

/** Send each chunk from the raw peer, with a pass after each. */
function feed(peer, chunks, map, usePoll) {
  for (const c of chunks) {
    try {
      peer.send(c);
    } catch (e) {
      if (!(e instanceof lib.OSError)) throw e;
      T('peer send:', exc(e));
      return;
    }
    run(map, usePoll, 1);
  }
}

module.exports = { ...lib, Chat, feed, lib, PASSES, r, T, exc, st, settle, run, tmpPath, Boom, Rec, tcpServer, peerPair };
