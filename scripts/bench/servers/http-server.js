'use strict';
// node:http static-file server, the anchor of the HTTP workload.
//   node http-server.js [--host 127.0.0.1] [--port 0] [--root DIR]
// Serves the files under --root (default: the working directory) with
// keep-alive; reads the file on every request, as a static server does.
// Prints the bound port on stdout when listening; SIGTERM ends it.
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '0'));
const root = path.resolve(arg('--root', process.cwd()));
const TYPES = { '.html': 'text/html', '.txt': 'text/plain', '.css': 'text/css', '.js': 'text/javascript', '.json': 'application/json' };

const server = http.createServer((req, res) => {
  let rel;
  try {
    rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const file = path.join(root, path.normalize(rel));
  if (!file.startsWith(root + path.sep) || req.method !== 'GET') {
    res.writeHead(req.method !== 'GET' ? 405 : 403).end();
    return;
  }
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
      'Content-Length': body.length,
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.on('error', (err) => {
  console.error(`http-server: ${err.message}`);
  process.exit(1);
});
server.listen({ host, port, backlog: 4096 }, () => {
  process.stdout.write(`${server.address().port}\n`);
});
