#!/usr/bin/env node
// A byte forwarder for the node tier's apiserver (docs/control-plane.md, "The node tier"):
//
//   node hack/cluster/forward.js <listen> <connect>      each address: tcp:HOST:PORT or unix:PATH
//
// Inside the tier's network namespace it listens on a UNIX socket in the cluster's temp dir and connects to the
// apiserver on that namespace's loopback; outside, it listens on 127.0.0.1:PORT of the caller's namespace and
// connects to that socket. UNIX sockets are files, so they cross network namespaces; no other route exists.
// One process, no children: stopping it (SIGTERM) closes every connection it carries.
'use strict';
const fs = require('node:fs');
const net = require('node:net');

function parse(arg) {
  if (typeof arg === 'string' && arg.startsWith('unix:') && arg.length > 5) return { path: arg.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(arg ?? '');
  if (m) return { host: m[1], port: Number(m[2]) };
  process.stderr.write(`forward.js: bad address "${arg}" (want tcp:HOST:PORT or unix:PATH)\n`);
  process.exit(2);
}

const [listenArg, connectArg] = process.argv.slice(2);
const listen = parse(listenArg);
const target = parse(connectArg);
const open = new Set();

const server = net.createServer((client) => {
  const upstream = net.connect(target);
  open.add(client);
  open.add(upstream);
  const done = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('error', done).on('close', done);
  upstream.on('error', done).on('close', done);
  client.pipe(upstream);
  upstream.pipe(client);
});

if (listen.path) fs.rmSync(listen.path, { force: true });
server.on('error', (err) => {
  process.stderr.write(`forward.js: cannot listen on ${listenArg}: ${err.message}\n`);
  process.exit(1);
});
server.listen(listen, () => {
  if (listen.path) fs.chmodSync(listen.path, 0o600);
  process.stdout.write(`forwarding ${listenArg} -> ${connectArg}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    server.close();
    for (const s of open) s.destroy();
    if (listen.path) fs.rmSync(listen.path, { force: true });
    process.exit(0);
  });
}
