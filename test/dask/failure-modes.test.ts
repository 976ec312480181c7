// A scheduler that is down, slow (accepts and never answers) or answers garbage: every call ends within
// a bound computed from timeoutMs and retries, with a typed error whose message says what happened.
import * as http from 'node:http';
import * as net from 'node:net';
import {
  SchedulerClient,
  SchedulerClientError,
  SchedulerNotConfigured,
  SchedulerProtocolError,
  SchedulerRemoteError,
  SchedulerTimeout,
  SchedulerUnreachable,
  createSchedulerClient,
} from '../../operator/scheduler';
import { encodeMessage } from '../../operator/scheduler/comm';
import { freePort } from './support/dask-procs';

const TIMEOUT = 300;
const RETRIES = 2;
const DELAY = 50;
// per path: (retries + 1) attempts of at most TIMEOUT (connect + handshake + request may each take TIMEOUT on TCP)
// plus the backoff pauses; two paths; generous slack for a loaded 2-core machine
const BOUND_MS = 2 * ((RETRIES + 1) * 3 * TIMEOUT + DELAY * 3) + 1500;

interface Failure {
  err: SchedulerClientError;
  ms: number;
}

async function failure(p: () => Promise<unknown>): Promise<Failure> {
  const t0 = Date.now();
  try {
    const v = await p();
    throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
  } catch (err) {
    if (!(err instanceof SchedulerClientError)) throw err;
    return { err, ms: Date.now() - t0 };
  }
}

const servers: { close(): void }[] = [];
const sockets: net.Socket[] = [];

/** A TCP server on loopback that hands each connection to `onConn` (which may do nothing at all). */
async function tcpServer(onConn: (s: net.Socket) => void): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    sockets.push(s);
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  servers.push(srv);
  return { port: (srv.address() as net.AddressInfo).port, connections: () => n };
}

async function httpServer(handler: http.RequestListener): Promise<{ port: number; requests: () => number }> {
  let n = 0;
  const srv = http.createServer((req, res) => {
    n++;
    handler(req, res);
  });
  srv.on('connection', (s) => sockets.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  servers.push(srv);
  return { port: (srv.address() as net.AddressInfo).port, requests: () => n };
}

function client(o: { http?: number; tcp?: number }): SchedulerClient {
  return createSchedulerClient({
    retireTimeoutMs: 2 * TIMEOUT,
    ...(o.http ? { httpBaseUrl: `http://127.0.0.1:${o.http}` } : {}),
    ...(o.tcp ? { tcpAddress: `tcp://127.0.0.1:${o.tcp}` } : {}),
    timeoutMs: TIMEOUT,
    retries: RETRIES,
    retryDelayMs: DELAY,
  });
}

afterAll(() => {
  for (const s of sockets) s.destroy();
  for (const s of servers) s.close();
});

describe('scheduler down (nothing listening)', () => {
  test('every call fails fast with SchedulerUnreachable naming both paths; health is false', async () => {
    const [h, t] = [await freePort(), await freePort()];
    const c = client({ http: h, tcp: t });
    expect(await c.health()).toBe(false);
    expect(c.lastError).toBeInstanceOf(SchedulerUnreachable);
    for (const call of [() => c.adaptiveTarget(), () => c.idleSince(), () => c.workers(), () => c.retireWorkers({ n: 1 }), () => c.workersToClose(1)]) {
      const { err, ms } = await failure(call);
      expect(err).toBeInstanceOf(SchedulerUnreachable);
      expect(err.reason).toBe('SchedulerUnreachable');
      expect(err.message).toContain(`tcp://127.0.0.1:${t}`);
      expect(ms).toBeLessThan(BOUND_MS);
    }
    const { err } = await failure(() => c.adaptiveTarget());
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).toContain(`http://127.0.0.1:${h}`);
    expect(err.message).toMatch(/after 3 attempts/);
  });
});

describe('scheduler slow (accepts, never answers)', () => {
  test('TCP: SchedulerTimeout within the bound, retried for reads', async () => {
    const t = await tcpServer(() => undefined);
    const c = client({ tcp: t.port });
    const { err, ms } = await failure(() => c.adaptiveTarget());
    expect(err).toBeInstanceOf(SchedulerTimeout);
    expect(err.message).toMatch(/no handshake reply within 300 ms/);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT * (RETRIES + 1));
    expect(ms).toBeLessThan(BOUND_MS);
    expect(t.connections()).toBe(RETRIES + 1);
    expect(await c.health()).toBe(false);
  });

  test('HTTP: SchedulerTimeout within the bound when the server never sends a response', async () => {
    const h = await httpServer(() => undefined);
    const c = client({ http: h.port });
    const { err, ms } = await failure(() => c.idleSince());
    expect(err).toBeInstanceOf(SchedulerTimeout);
    expect(err.message).toContain(`GET http://127.0.0.1:${h.port}/api/v1/check_idle`);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(h.requests()).toBe(RETRIES + 1);
  });

  test('HTTP: a body that starts but never ends also times out', async () => {
    const h = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"workers": ');
    });
    const { err, ms } = await failure(() => client({ http: h.port }).adaptiveTarget());
    expect(err).toBeInstanceOf(SchedulerTimeout);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  test('a retirement that timed out over HTTP is neither repeated nor sent again over TCP', async () => {
    const h = await httpServer((req, res) => {
      if (req.url === '/api/v1/get_workers') {
        res.end(JSON.stringify({ workers: [{ name: 'a', address: 'tcp://127.0.0.1:1' }] }));
      } // retire_workers: never answers
    });
    const t = await tcpServer(() => undefined);
    const c = client({ http: h.port, tcp: t.port });
    const { err, ms } = await failure(() => c.retireWorkers({ names: ['a'] }));
    expect(err).toBeInstanceOf(SchedulerTimeout);
    expect(err.message).toContain('/api/v1/retire_workers');
    expect(h.requests()).toBe(2); // get_workers + one retire_workers, no retry
    expect(t.connections()).toBe(0);
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

describe('scheduler answers garbage', () => {
  test('TCP: text instead of frames → SchedulerProtocolError, not retried', async () => {
    const t = await tcpServer((s) => s.end('SSH-2.0-OpenSSH_9.6 hello there, this is not dask\r\n'));
    const { err, ms } = await failure(() => client({ tcp: t.port }).adaptiveTarget());
    expect(err).toBeInstanceOf(SchedulerProtocolError);
    expect(err.message).toMatch(/not a Dask comm/);
    expect(t.connections()).toBe(1);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  test('TCP: a huge announced length is refused without waiting for it', async () => {
    const t = await tcpServer((s) => {
      const b = Buffer.alloc(24);
      b.writeBigUInt64LE(1n << 40n, 0);
      b.writeBigUInt64LE(1n, 8);
      b.writeBigUInt64LE(1n << 40n, 16);
      s.write(b);
    });
    const { err } = await failure(() => client({ tcp: t.port }).idleSince());
    expect(err).toBeInstanceOf(SchedulerProtocolError);
    expect(err.message).toMatch(/implausible message length/);
  });

  test('TCP: well-framed bytes that are not msgpack, or a handshake that is not a map', async () => {
    const bad = Buffer.from([0xc1, 0xc1, 0xc1]); // 0xc1 is never used in msgpack
    const frame = Buffer.alloc(24 + bad.length);
    frame.writeBigUInt64LE(BigInt(16 + bad.length), 0);
    frame.writeBigUInt64LE(1n, 8);
    frame.writeBigUInt64LE(BigInt(bad.length), 16);
    bad.copy(frame, 24);
    const t1 = await tcpServer((s) => s.write(frame));
    const e1 = await failure(() => client({ tcp: t1.port }).adaptiveTarget());
    expect(e1.err).toBeInstanceOf(SchedulerProtocolError);
    expect(e1.err.message).toMatch(/not valid msgpack/);

    const t2 = await tcpServer((s) => s.write(encodeMessage([1, 2, 3])));
    const e2 = await failure(() => client({ tcp: t2.port }).adaptiveTarget());
    expect(e2.err).toBeInstanceOf(SchedulerProtocolError);
    expect(e2.err.message).toMatch(/did not send a Dask handshake/);
  });

  test('TCP: a peer that handshakes and then answers with the wrong shape', async () => {
    const t = await tcpServer((s) => {
      s.write(encodeMessage({ compression: null, python: [3, 11, 0], 'pickle-protocol': 5 }));
      let seen = 0;
      s.on('data', (d) => {
        seen += d.length;
        if (seen > 0) s.write(encodeMessage('forty-two'));
      });
    });
    const { err } = await failure(() => client({ tcp: t.port }).adaptiveTarget());
    expect(err).toBeInstanceOf(SchedulerProtocolError);
    expect(err.message).toMatch(/adaptive_target: expected a non-negative integer, got a string of 9 character\(s\)/);
    expect(err.message).not.toContain('forty-two'); // the peer's bytes are never quoted
  });

  test('HTTP: a peer that does not speak HTTP → SchedulerProtocolError', async () => {
    const t = await tcpServer((s) => s.end('\x00\x01garbage\r\n\r\n'));
    const { err, ms } = await failure(() => client({ http: t.port }).adaptiveTarget());
    expect(err).toBeInstanceOf(SchedulerProtocolError);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  test('HTTP: 200 with a body that is not JSON, 500 with an error, 200 with the wrong shape', async () => {
    const h = await httpServer((req, res) => {
      if (req.url === '/api/v1/adaptive_target') res.end('<html>nope</html>');
      else if (req.url === '/api/v1/check_idle') {
        res.writeHead(500);
        res.end('{"Error": "Internal Server Error"}');
      } else if (req.url === '/api/v1/get_workers') res.end('{"workers": 3}');
      else if (req.url === '/health') res.end('not ok');
      else {
        res.writeHead(404);
        res.end();
      }
    });
    const c = client({ http: h.port });
    expect((await failure(() => c.adaptiveTarget())).err).toBeInstanceOf(SchedulerProtocolError);
    const e500 = (await failure(() => c.idleSince())).err;
    expect(e500).toBeInstanceOf(SchedulerRemoteError);
    expect(e500.message).toMatch(/HTTP 500/);
    expect((await failure(() => c.workers())).err.message).toMatch(/without a 'workers' list/);
    expect(await c.health()).toBe(false);
    expect(c.lastError?.message).toMatch(/instead of 'ok'/);
  });
});

describe('HTTP retire_workers answers 500 after acting (distributed < 2025.9)', () => {
  test('the outcome is read from the worker list, never guessed', async () => {
    let workers = [
      { name: 'a', address: 'tcp://127.0.0.1:11' },
      { name: 'b', address: 'tcp://127.0.0.1:12' },
      { name: 'c', address: 'tcp://127.0.0.1:13' },
    ];
    let posts = 0;
    const h = await httpServer((req, res) => {
      if (req.url === '/api/v1/get_workers') {
        res.end(JSON.stringify({ num_workers: workers.length, workers }));
        return;
      }
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posts++;
        const p = JSON.parse(body) as { workers?: string[]; n?: number };
        // "retire" a (never b, as if its data could not move), then fail to encode the reply
        if (p.workers) workers = workers.filter((w) => !(p.workers!.includes(w.address) && w.name === 'a'));
        else workers = workers.slice(p.n);
        res.writeHead(500);
        res.end('{"Error": "Internal Server Error"}');
      });
    });
    const t = await tcpServer(() => undefined);
    const c = client({ http: h.port, tcp: t.port });
    const r1 = await c.retireWorkers({ names: ['a', 'b'] });
    expect(r1).toEqual({ retired: [{ name: 'a', address: 'tcp://127.0.0.1:11', host: '127.0.0.1' }], notRetired: ['b'], confirmedBy: 'worker-list' });
    const r2 = await c.retireWorkers({ n: 1 });
    expect(r2.retired.map((w) => w.name)).toEqual(['b']);
    expect(r2.confirmedBy).toBe('worker-list');
    // nothing gone: the 500 is reported as is, and not repeated over TCP
    const { err } = await failure(() => c.retireWorkers({ names: ['c', 'zz'] }));
    expect(err).toBeInstanceOf(SchedulerRemoteError);
    expect(err.message).toMatch(/HTTP 500/);
    expect(posts).toBe(3);
    expect(t.connections()).toBe(0);
  });
});

describe('configuration errors', () => {
  test('no address, bad addresses, bad arguments', async () => {
    expect(() => createSchedulerClient({ timeoutMs: 100, retries: 0 })).toThrow(SchedulerNotConfigured);
    expect(() => createSchedulerClient({ tcpAddress: 'http://x:1', timeoutMs: 100, retries: 0 })).toThrow(/tcp:\/\/host:port/);
    expect(() => createSchedulerClient({ httpBaseUrl: 'tcp://x:1', timeoutMs: 100, retries: 0 })).toThrow(/http:\/\//);
    const c = createSchedulerClient({ httpBaseUrl: 'http://127.0.0.1:1', timeoutMs: 100, retries: 0 });
    await expect(c.workersToClose(1)).rejects.toThrow(/TCP address/);
    await expect(c.retireWorkers({})).rejects.toThrow(/exactly one/);
    await expect(c.retireWorkers({ names: ['a'], n: 1 })).rejects.toThrow(/exactly one/);
    await expect(c.retireWorkers({ n: -1 })).rejects.toThrow(/non-negative integer/);
    expect(await c.retireWorkers({ n: 0 })).toEqual({ retired: [], notRetired: [], confirmedBy: 'reply' });
  });
});
