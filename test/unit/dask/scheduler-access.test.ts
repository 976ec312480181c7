import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { encodeMessage, FrameReader } from '../../../operator/scheduler/comm';
import { createSchedulerClient, SchedulerAccessRefused } from '../../../operator/scheduler';
import { SchedulerClientPool, schedulerServiceProblem } from '../../../operator/dask/scheduler-access';
import { FakeInformer } from '../../../operator/runtime/testing/fake-informer';
import type { DaskCluster, Service } from '../../../lib/schema/generated/types';
import type { KubeObject } from '../../../operator/runtime/object';

const cluster = (name: string, uid = `uid-${name}`): DaskCluster =>
  ({ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name, namespace: 'ns', uid }, spec: { worker: {}, scheduler: {} } }) as unknown as DaskCluster;
const owned = (c: DaskCluster, spec: Record<string, unknown>, uid = c.metadata.uid): Service =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${c.metadata.name}-scheduler`, namespace: 'ns', uid: 'svc', labels: { 'dask.org/cluster-name': c.metadata.name }, ownerReferences: [{ apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', name: c.metadata.name, uid, controller: true }] },
    spec,
  }) as unknown as Service;
const ours = { 'dask.org/cluster-name': 'c', 'dask.org/component': 'scheduler' };

describe('schedulerServiceProblem: the operator dials only the scheduler Service it created', () => {
  const c = cluster('c');
  test.each([
    ['ClusterIP with the operator selector', { type: 'ClusterIP', selector: ours }, undefined],
    ['no type (ClusterIP)', { selector: ours }, undefined],
    ['headless', { clusterIP: 'None', selector: ours }, undefined],
    ['NodePort', { type: 'NodePort', selector: ours }, undefined],
    ['LoadBalancer', { type: 'LoadBalancer', selector: ours }, undefined],
    ['ExternalName', { type: 'ExternalName', externalName: 'metadata.internal', selector: ours }, /of type ExternalName/],
    ['externalIPs', { type: 'ClusterIP', externalIPs: ['169.254.169.254'], selector: ours }, /sets externalIPs/],
    ['another selector', { selector: { app: 'database' } }, /does not select exactly the operator's scheduler labels/],
    ['a wider selector', { selector: { 'dask.org/cluster-name': 'c' } }, /does not select exactly/],
    ['no selector (manual Endpoints)', {}, /does not select exactly/],
  ])('%s', (_what, spec, problem) => {
    const got = schedulerServiceProblem(c, owned(c, spec));
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(problem);
  });

  test('missing, or not controlled by this cluster (a namesake, or a recreated cluster)', () => {
    expect(schedulerServiceProblem(c, undefined)).toMatch(/does not exist/);
    expect(schedulerServiceProblem(c, owned(c, { selector: ours }, 'someone-else'))).toMatch(/not controlled by this DaskCluster/);
  });

  test('a refused cluster gets a client that fails every call with SchedulerAccessRefused and dials nothing', async () => {
    const services = new FakeInformer<KubeObject>('services');
    services.upsert(owned(c, { type: 'ExternalName', externalName: 'x', selector: ours }) as unknown as KubeObject);
    let created = 0;
    const pool = new SchedulerClientPool({ services: services as never, create: () => (created++, createSchedulerClient({ tcpAddress: 'tcp://127.0.0.1:1', timeoutMs: 100, retries: 0 })) });
    const client = pool.get(c)!;
    await expect(client.adaptiveTarget()).rejects.toBeInstanceOf(SchedulerAccessRefused);
    await expect(client.idleSince()).rejects.toThrow(/refusing to contact the scheduler: Service c-scheduler is of type ExternalName/);
    expect(await client.health()).toBe(false);
    expect(created).toBe(0);
    expect(pool.size).toBe(0);
  });
});

describe('SchedulerClientPool: no client or socket outlives its cluster', () => {
  let server: net.Server;
  let port: number;
  const serverSockets = new Set<net.Socket>();
  /** Delay of the scheduler's replies (after the handshake). */
  let replyDelayMs = 0;

  beforeAll(async () => {
    // A Dask scheduler as far as check_idle goes: handshake, then nil (busy) to every request.
    server = net.createServer((s) => {
      serverSockets.add(s);
      s.on('close', () => serverSockets.delete(s));
      s.on('error', () => undefined);
      const reader = new FrameReader();
      let greeted = false;
      s.on('data', (chunk: Buffer) => {
        reader.push(chunk);
        while (reader.next()) {
          const reply = encodeMessage(greeted ? null : { compression: null, python: [3, 12, 0], 'pickle-protocol': 5 });
          if (greeted && replyDelayMs > 0) setTimeout(() => s.writable && s.write(reply), replyDelayMs);
          else s.write(reply);
          greeted = true;
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(() => {
    for (const s of serverSockets) s.destroy(); // one test's leftovers must not decide the next one
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

  async function settle(probe: () => boolean, what: () => string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  test('50 clusters: each gets a client with an idle connection; deleting them closes every one', async () => {
    const clusters = new FakeInformer<KubeObject>('daskclusters');
    const sizes: number[] = [];
    const pool = new SchedulerClientPool({ create: () => createSchedulerClient({ tcpAddress: `tcp://127.0.0.1:${port}`, timeoutMs: 2000, retries: 0 }), onSize: (n) => sizes.push(n) });
    pool.watch(clusters);
    const fdsBefore = openFds();
    const all = Array.from({ length: 50 }, (_, i) => cluster(`c${i}`));
    for (const c of all) {
      clusters.upsert(c as unknown as KubeObject);
      expect(await pool.get(c)!.idleSince()).toBeNull();
    }
    expect(pool.get(all[0]!)).toBe(pool.get(all[0]!)); // one client per cluster, reused
    expect(pool.size).toBe(50);
    await settle(() => serverSockets.size === 50, () => `${serverSockets.size} server connections`);
    expect(openFds()).toBeGreaterThanOrEqual(fdsBefore + 90); // both ends live in this process (give or take Jest's own)

    for (const c of all) clusters.remove('ns', c.metadata.name as string);
    expect(pool.size).toBe(0);
    expect(sizes[sizes.length - 1]).toBe(0);
    await settle(() => serverSockets.size === 0, () => `${serverSockets.size} server connections still open`);
    await settle(() => openFds() <= fdsBefore + 2, () => `${openFds()} fds open, ${fdsBefore} before`); // +2: Jest's own, not ours (we left 100)
  });

  test('a cluster deleted while a call is in flight: that connection closes when the call ends, later calls keep none', async () => {
    const clusters = new FakeInformer<KubeObject>('daskclusters');
    const pool = new SchedulerClientPool({ create: () => createSchedulerClient({ tcpAddress: `tcp://127.0.0.1:${port}`, timeoutMs: 2000, retries: 0 }) });
    pool.watch(clusters);
    const c = cluster('racy');
    clusters.upsert(c as unknown as KubeObject);
    const client = pool.get(c)!;
    replyDelayMs = 200;
    try {
      const inFlight = client.idleSince();
      await settle(() => serverSockets.size === 1, () => `${serverSockets.size} server connections`);
      clusters.remove('ns', 'racy');
      expect(await inFlight).toBeNull();
      await settle(() => serverSockets.size === 0, () => `${serverSockets.size} server connections still open after the call ended`);
      // A reconcile still holding the old client: it works, and keeps nothing open.
      expect(await client.idleSince()).toBeNull();
      await settle(() => serverSockets.size === 0, () => `${serverSockets.size} server connections kept by a closed client`);
    } finally {
      replyDelayMs = 0;
    }
  });

  test('a recreated cluster (new uid) gets a new client; the old one is closed', async () => {
    let made = 0;
    const pool = new SchedulerClientPool({ create: () => (made++, createSchedulerClient({ tcpAddress: `tcp://127.0.0.1:${port}`, timeoutMs: 2000, retries: 0 })) });
    const first = pool.get(cluster('r', 'uid-1'))!;
    await first.idleSince();
    await settle(() => serverSockets.size === 1, () => `${serverSockets.size} server connections`);
    const second = pool.get(cluster('r', 'uid-2'))!;
    expect(second).not.toBe(first);
    expect(made).toBe(2);
    expect(pool.size).toBe(1);
    await settle(() => serverSockets.size === 0, () => `${serverSockets.size} server connections still open`);
    pool.closeAll();
  });
});
