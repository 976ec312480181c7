/**
 * A hostile or broken "scheduler" on 127.0.0.1, run as a child process so that its own buffers do not count in the
 * test's heap measurements. Usage: node hostile-peer.js <mode>. Prints `PORT <n>` once listening and, for every
 * connection that ends, `SENT <bytes written before the peer closed>`.
 *
 * Modes:
 *   tcp-trailing   Dask handshake, then every reply is followed by 512 MiB of garbage (written with backpressure)
 *   tcp-array32    Dask handshake, then a reply whose frame 0 is an array32 of 8 M positive fixints
 *   tcp-exception  Dask handshake, then every reply is an uncaught-error with a 5 MiB exception_text
 *   http-chunked   HTTP 200 with a 100 MiB body without Content-Length (chunked), to any request
 *   http-length    HTTP 200 announcing and sending a 100 MiB body with Content-Length
 */
'use strict';
const net = require('node:net');
const http = require('node:http');
const { encode } = require('@msgpack/msgpack');

const MiB = 1024 * 1024;
const mode = process.argv[2];

function message(frame0) {
  const out = Buffer.alloc(24 + frame0.length);
  out.writeBigUInt64LE(BigInt(16 + frame0.length), 0);
  out.writeBigUInt64LE(1n, 8);
  out.writeBigUInt64LE(BigInt(frame0.length), 16);
  Buffer.from(frame0).copy(out, 24);
  return out;
}

/** Writes `total` bytes in 1 MiB pieces through `write`, respecting backpressure, until done or the socket closes. */
function flood(socket, write, total) {
  const piece = Buffer.alloc(MiB, 0x41);
  let sent = 0;
  const pump = () => {
    while (sent < total && !socket.destroyed) {
      const n = Math.min(MiB, total - sent);
      sent += n;
      if (!write(n === MiB ? piece : piece.subarray(0, n))) return socket.once('drain', pump);
    }
    if (sent >= total) socket.end();
  };
  pump();
}

function daskServer(onRequest) {
  return net.createServer((socket) => {
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let greeted = false;
    let written = 0;
    const write = (b) => {
      written += b.length;
      return socket.write(b);
    };
    socket.on('close', () => process.stdout.write(`SENT ${written}\n`));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Requests from the client are small: parse whole messages.
      for (;;) {
        if (buffered.length < 16) return;
        const nosplit = Number(buffered.readBigUInt64LE(0));
        if (buffered.length < 8 + nosplit) return;
        const n = Number(buffered.readBigUInt64LE(8));
        const len = Number(buffered.readBigUInt64LE(16));
        const frame = buffered.subarray(8 + 8 * (n + 1), 8 + 8 * (n + 1) + len);
        buffered = buffered.subarray(8 + nosplit);
        if (!greeted) {
          greeted = true;
          write(message(encode({ compression: null, python: [3, 12, 0], 'pickle-protocol': 5 })));
          continue;
        }
        onRequest(frame, write, (bytes) => flood(socket, write, bytes));
      }
    });
  });
}

let server;
switch (mode) {
  case 'tcp-trailing':
    server = daskServer((_frame, write, floodFn) => {
      // The reply and the start of the garbage leave in the same write.
      write(Buffer.concat([message(encode(3)), Buffer.alloc(64 * 1024, 0x41)]));
      floodFn(512 * MiB - 64 * 1024);
    });
    break;
  case 'tcp-array32': {
    const n = 8 * MiB;
    const frame = Buffer.alloc(5 + n, 0x01);
    frame[0] = 0xdd;
    frame.writeUInt32BE(n, 1);
    server = daskServer((_frame, write) => write(message(frame)));
    break;
  }
  case 'tcp-exception': {
    const reply = message(encode({ status: 'uncaught-error', exception_text: `ValueError: ${'x'.repeat(5 * MiB)}`, traceback_text: 'tb' }));
    server = daskServer((_frame, write) => write(reply));
    break;
  }
  case 'http-chunked':
  case 'http-length':
    server = http.createServer((req, res) => {
      req.resume();
      const total = 100 * MiB;
      res.writeHead(200, mode === 'http-length' ? { 'content-type': 'application/json', 'content-length': total } : { 'content-type': 'application/json' });
      const piece = Buffer.alloc(MiB, 0x20);
      let sent = 0;
      const report = () => process.stdout.write(`SENT ${sent}\n`);
      res.once('close', report);
      const pump = () => {
        while (sent < total && !res.destroyed) {
          sent += MiB;
          if (!res.write(piece)) return res.once('drain', pump);
        }
        if (sent >= total) res.end();
      };
      pump();
    });
    break;
  default:
    process.stderr.write(`unknown mode ${mode}\n`);
    process.exit(2);
}
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
