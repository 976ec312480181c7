/**
 * Whatever answers on a scheduler's ports costs the operator bounded memory and time, and what it says reaches
 * conditions and Events only as bounded text. The peers run in a child process (support/hostile-peer.js) so their own
 * buffers do not count in this process's heap, and they report how much they managed to send before we closed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { DaskComm } from '../../../operator/scheduler/comm';
import { createSchedulerClient, MAX_HTTP_BODY_BYTES, SchedulerProtocolError, SchedulerRemoteError, type SchedulerClient } from '../../../operator/scheduler';
import { apiServerFetcher } from '../../../operator/dask/proxy-fetcher';
import { reconcileAutoscaler } from '../../../operator/dask/autoscaler-reconciler';
import type { DaskAutoscaler } from '../../../lib/schema/generated/types';
import { FakeWorld, rc } from '../dask/fake';

const MiB = 1024 * 1024;
/** Far below what any of the peers sends (512 MiB, an 8 M-element graph ≈ 64 MiB, 100 MiB). */
const HEAP_BOUND = 40 * MiB;

interface Peer {
  readonly port: number;
  /** Bytes the peer had written when each connection closed. */
  readonly sent: number[];
  stop(): void;
}

const peers: ChildProcess[] = [];
afterEach(() => {
  for (const child of peers.splice(0)) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
});

async function startPeer(mode: string): Promise<Peer> {
  const child = spawn(process.execPath, [path.join(__dirname, 'support', 'hostile-peer.js'), mode], { cwd: path.join(__dirname, '..', '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] });
  peers.push(child);
  const sent: number[] = [];
  let buf = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hostile peer ${mode} exited with ${code}`)));
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [word, n] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        if (word === 'PORT') resolve(Number(n));
        if (word === 'SENT') sent.push(Number(n));
      }
    });
  });
  return { port, sent, stop: () => child.pid && process.kill(child.pid, 'SIGTERM') };
}

/** Samples heap + array buffers while `fn` runs; returns its outcome and the peak growth above the start. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; heapDelta: number; ms: number }> {
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, used())), 1);
  const started = Date.now();
  try {
    const value = await fn();
    return { value, heapDelta: Math.max(peak, used()) - base, ms: Date.now() - started };
  } catch (error) {
    return { error, heapDelta: Math.max(peak, used()) - base, ms: Date.now() - started };
  } finally {
    clearInterval(timer);
    if (process.env.HOSTILE_PEERS_REPORT) process.stderr.write(`measured: peak heap+buffers delta ${((peak - base) / MiB).toFixed(1)} MiB in ${Date.now() - started} ms\n`);
  }
}

async function until(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('hostile scheduler peers', () => {
  test('512 MiB after a reply: the reply is used, the connection is closed at the first unasked-for byte (protocol error), heap and time bounded', async () => {
    const peer = await startPeer('tcp-trailing');
    const comm = await DaskComm.connect(`tcp://127.0.0.1:${peer.port}`, { timeoutMs: 2000 });
    const r = await measured(async () => {
      const reply = await comm.call('adaptive_target').catch((e: unknown) => e);
      await until(() => !comm.usable, 'the connection to be dropped');
      return reply;
    });
    expect(r.value === 3 || r.value instanceof SchedulerProtocolError).toBe(true);
    expect(comm.error).toBeInstanceOf(SchedulerProtocolError);
    expect(comm.error?.message).toMatch(/nobody asked for/);
    await until(() => peer.sent.length === 1, 'the peer to see the connection close');
    expect(peer.sent[0]).toBeLessThan(64 * MiB);
    expect(r.heapDelta).toBeLessThan(HEAP_BOUND);
    expect(r.ms).toBeLessThan(5000);
    comm.destroy();

    // Through the client: every call gets its reply, no connection is kept past the garbage.
    const client = createSchedulerClient({ tcpAddress: `tcp://127.0.0.1:${peer.port}`, timeoutMs: 2000, retries: 0 });
    const again = await measured(async () => {
      const out: unknown[] = [];
      for (let i = 0; i < 3; i++) out.push(await client.adaptiveTarget().catch((e: unknown) => e));
      return out;
    });
    for (const v of again.value ?? []) expect(v === 3 || v instanceof SchedulerProtocolError).toBe(true);
    expect(again.heapDelta).toBeLessThan(HEAP_BOUND);
    await client.close();
  });

  test('an array32 of 8 M fixints: refused from its header as a protocol error, never decoded', async () => {
    const peer = await startPeer('tcp-array32');
    const client = createSchedulerClient({ tcpAddress: `tcp://127.0.0.1:${peer.port}`, timeoutMs: 5000, retries: 0 });
    const r = await measured(() => client.adaptiveTarget());
    expect(r.error).toBeInstanceOf(SchedulerProtocolError);
    expect((r.error as Error).message).toMatch(/list of 8388608 entries \(limit 100000\)/);
    expect(r.heapDelta).toBeLessThan(HEAP_BOUND);
    expect(r.ms).toBeLessThan(5000);
    await client.close();
  });

  test.each(['http-chunked', 'http-length'])('a 100 MiB HTTP body (%s): reading stops at the limit, protocol error, heap bounded', async (mode) => {
    const peer = await startPeer(mode);
    const client = createSchedulerClient({ httpBaseUrl: `http://127.0.0.1:${peer.port}`, timeoutMs: 5000, retries: 0 });
    const r = await measured(() => client.adaptiveTarget());
    expect(r.error).toBeInstanceOf(SchedulerProtocolError);
    expect((r.error as Error).message).toContain(`more than the ${MAX_HTTP_BODY_BYTES} this client reads`);
    expect(r.heapDelta).toBeLessThan(HEAP_BOUND);
    await until(() => peer.sent.length === 1, 'the peer to see the connection close');
    expect(peer.sent[0]).toBeLessThan(50 * MiB);
    expect(r.ms).toBeLessThan(5000);
  });

  test('a 100 MiB HTTP body through the API server proxy fetcher: the same limit', async () => {
    const peer = await startPeer('http-chunked');
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${peer.port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = createSchedulerClient({ httpBaseUrl: `http://127.0.0.1:${peer.port}/proxy`, fetch: apiServerFetcher(kc), timeoutMs: 5000, retries: 0 });
    const r = await measured(() => client.adaptiveTarget());
    expect(r.error).toBeInstanceOf(SchedulerProtocolError);
    expect((r.error as Error).message).toContain('this client reads');
    expect(r.heapDelta).toBeLessThan(HEAP_BOUND);
    await until(() => peer.sent.length === 1, 'the peer to see the connection close');
    expect(peer.sent[0]).toBeLessThan(50 * MiB);
  });

  test('a 5 MiB exception text becomes a remote error and a condition message and Event of at most 1 KiB', async () => {
    const peer = await startPeer('tcp-exception');
    const client: SchedulerClient = createSchedulerClient({ tcpAddress: `tcp://127.0.0.1:${peer.port}`, timeoutMs: 5000, retries: 0 });
    const err = await client.adaptiveTarget().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerRemoteError);
    expect((err as Error).message.length).toBeLessThan(1024);
    expect((err as Error).message).toMatch(/ValueError: x+… \(5242892 characters in all\)/);

    const w = new FakeWorld();
    w.scheduler = client;
    const owner = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', name: 'c', uid: 'cu', controller: true };
    w.stores.daskclusters.put({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name: 'c', namespace: 'ns', uid: 'cu' }, spec: { worker: {}, scheduler: {} } } as never);
    w.stores.pods.put({ metadata: { name: 'c-scheduler', namespace: 'ns', uid: 'p' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } as never);
    w.stores.daskworkergroups.put({ metadata: { name: 'c-default', namespace: 'ns', uid: 'g' }, spec: { cluster: 'c', worker: { replicas: 1, spec: { containers: [] } } } } as never);
    w.stores.daskautoscalers.put({ metadata: { name: 'c', namespace: 'ns', uid: 'a', generation: 1, ownerReferences: [owner] }, spec: { cluster: 'c', minimum: 1, maximum: 5 } } as never);
    await reconcileAutoscaler(w.context(), { namespace: 'ns', name: 'c' }, rc);
    const scaler = w.stores.daskautoscalers.get('ns', 'c') as unknown as DaskAutoscaler;
    const cond = scaler.status?.conditions?.find((c) => c.type === 'ScalingActive');
    expect(cond).toMatchObject({ status: 'False', reason: 'SchedulerUnreachable' });
    expect(Buffer.byteLength(cond?.message ?? '', 'utf8')).toBeLessThanOrEqual(1024);
    const event = w.events.find((e) => e.reason === 'SchedulerUnreachable');
    expect(Buffer.byteLength(event?.message ?? '', 'utf8')).toBeLessThanOrEqual(1024);
    expect(JSON.stringify(scaler.status).length).toBeLessThan(4096);
    await client.close();
  });
});
