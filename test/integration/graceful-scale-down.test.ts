/**
 * Graceful scale-down end to end with real Dask (issue 5, items 3 and 4): the operator runs as a separate process
 * against the full-tier control plane; kwok pods run no processes, so a real `dask scheduler` and real `dask worker`s
 * run on loopback, named exactly after the worker Pods, and the operator is pointed at that scheduler through the
 * DASK_OPERATOR_SCHEDULER_ADDRESS_OVERRIDE test hook. Variants: HTTP API route on, off (TCP fallback), and HTTP
 * only (no comm port: the operator picks the workers itself); then an unreachable scheduler with
 * --scale-down-fallback=delete (default) and =wait.
 */
import { ADDRESS_OVERRIDE_ENV, createSchedulerClient, type SchedulerClient } from '../../operator/scheduler';
import { DaskProcesses, freePort, type SchedulerProc } from '../dask/support/dask-procs';
import { eventually, itOnTier, kubectl, kubectlJson, withNamespace } from './support';
import { seedCluster } from './support/dask';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(240_000);

const ns = withNamespace('gsd');
const CHUNKS = 24;

interface PodLite {
  metadata: { name: string; deletionTimestamp?: string; creationTimestamp?: string };
  status?: { phase?: string };
}
interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface EventLite {
  type: string;
  reason: string;
  message: string;
  count?: number;
}
interface CheckResult {
  chunks: number;
  bad: number[];
  ok: boolean;
  where: Record<string, number>;
}

function clusterManifest(name: string, workers: number): string {
  return JSON.stringify(seedCluster({ name, replicas: workers }));
}

async function workerPods(cluster: string): Promise<PodLite[]> {
  const list = await kubectlJson<{ items: PodLite[] }>(['get', 'pods', '-n', ns.name, '-l', `dask.org/cluster-name=${cluster},dask.org/component=worker`, '-o', 'json']);
  return list.items;
}
const liveNames = (pods: PodLite[]): string[] => pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();

async function groupCondition(group: string, type: string): Promise<Condition | undefined> {
  const g = await kubectlJson<{ status?: { conditions?: Condition[] } }>(['get', 'daskworkergroup', group, '-n', ns.name, '-o', 'json']);
  return g.status?.conditions?.find((c) => c.type === type);
}

async function groupEvents(group: string): Promise<EventLite[]> {
  const list = await kubectlJson<{ items: EventLite[] }>(['get', 'events', '-n', ns.name, '--field-selector', `involvedObject.kind=DaskWorkerGroup,involvedObject.name=${group}`, '-o', 'json']);
  return list.items;
}

/** Records the smallest number of live worker Pods seen while a scale-down runs. */
function watchMinimum(cluster: string): { stop: () => Promise<number> } {
  let min = Number.POSITIVE_INFINITY;
  let running = true;
  const loop = (async () => {
    while (running) {
      const n = liveNames(await workerPods(cluster).catch(() => [] as PodLite[])).length;
      if (n > 0) min = Math.min(min, n);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return min;
    },
  };
}

/** Starts the operator with the scheduler-address test hook set for this process only. */
function startOperator(override: string, args: string[] = []): OperatorProcess {
  const op = new OperatorProcess({ namespaces: [ns.name], args });
  const before = process.env[ADDRESS_OVERRIDE_ENV];
  process.env[ADDRESS_OVERRIDE_ENV] = override;
  try {
    op.start();
  } finally {
    if (before === undefined) delete process.env[ADDRESS_OVERRIDE_ENV];
    else process.env[ADDRESS_OVERRIDE_ENV] = before;
  }
  return op;
}

async function waitForRunningPods(cluster: string, n: number, op: OperatorProcess): Promise<string[]> {
  return eventually(
    async () => {
      const pods = (await workerPods(cluster)).filter((p) => !p.metadata.deletionTimestamp);
      return { names: pods.map((p) => p.metadata.name).sort(), running: pods.filter((p) => p.status?.phase === 'Running').length };
    },
    { describe: `${n} Running worker Pods of ${cluster}`, until: (v) => v.names.length === n && v.running === n, timeoutMs: 60_000 },
  ).then((v) => v.names).catch((e: Error) => {
    throw new Error(`${e.message}\noperator log:\n${op.tail(80)}`);
  });
}

type Mode = 'api-on' | 'api-off' | 'http-only';

describe.each<Mode>(['api-on', 'api-off', 'http-only'])('graceful scale-down with real Dask (%s)', (mode) => {
  const cluster = `gsd-${mode}`;
  const group = `${cluster}-default`;
  let procs: DaskProcesses | undefined;
  let sched: SchedulerProc;
  let client: SchedulerClient;
  let op: OperatorProcess | undefined;
  let failed = false;

  beforeAll(async () => {
    await ensureOperatorBuilt();
    procs = new DaskProcesses(`it-${mode}`);
    sched = await procs.startScheduler({ api: mode !== 'api-off' });
    client = createSchedulerClient({ tcpAddress: sched.tcpAddress, timeoutMs: 5000, retries: 2 });
    await eventually(() => client.health(), { describe: 'the local Dask scheduler to answer', until: (ok) => ok, timeoutMs: 30_000 });
    const address = mode === 'http-only' ? sched.httpBaseUrl : `${sched.httpBaseUrl},${sched.tcpAddress}`;
    op = startOperator(`${ns.name}/${cluster}=${address}`);
  });

  beforeEach(() => {
    failed = true; // cleared by the last line of each test
  });

  afterAll(async () => {
    await kubectl(['delete', 'daskcluster', cluster, '-n', ns.name, '--ignore-not-found', '--wait=false'], { allowFailure: true });
    await client?.close();
    await op?.dispose(failed);
    await procs?.stopAll();
  });

  itOnTier('full')('scales 4 → 2 by retiring exactly the workers the scheduler chose; the dataset survives', async () => {
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: clusterManifest(cluster, 4) });
    const before = await waitForRunningPods(cluster, 4, op!);
    for (const name of before) procs!.startWorker(name, sched);
    await eventually(() => client.workers(), { describe: '4 Dask workers named after the Pods', until: (ws) => ws.map((w) => w.name).sort().join() === before.join(), timeoutMs: 60_000 });
    const persisted = await procs!.daskctl<{ persisted: number; where: Record<string, number> }>(['persist', sched.tcpAddress, 'ds', String(CHUNKS)]);
    expect(Object.keys(persisted.where).sort()).toEqual(before); // every worker holds part of the data

    const minimum = watchMinimum(cluster);
    await kubectl(['scale', 'daskworkergroup', group, '-n', ns.name, '--replicas=2']);
    const after = await eventually(async () => liveNames(await workerPods(cluster)), { describe: '2 live worker Pods', until: (v) => v.length === 2, timeoutMs: 90_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\noperator log:\n${op!.tail(80)}`);
    });
    const daskWorkers = await eventually(async () => (await client.workers()).map((w) => w.name).sort(), { describe: '2 Dask workers left', until: (v) => v.length === 2, timeoutMs: 30_000 });
    // A little longer: nothing else goes.
    const settled = await eventually(async () => liveNames(await workerPods(cluster)), { describe: 'settled', until: (v) => v.length === 2, timeoutMs: 5_000 });
    expect(await minimum.stop()).toBe(2); // never below the requested count
    expect(settled).toEqual(after);

    const deleted = before.filter((n) => !after.includes(n));
    expect(deleted).toHaveLength(2);
    expect(after).toEqual(daskWorkers); // the Pods left are exactly the workers the scheduler kept

    const check = await procs!.daskctl<CheckResult>(['check', sched.tcpAddress, 'ds', String(CHUNKS)]);
    expect(check).toMatchObject({ chunks: CHUNKS, bad: [], ok: true });
    expect(Object.keys(check.where).every((w) => after.includes(w))).toBe(true);

    const cond = await eventually(() => groupCondition(group, 'ScaledDownGracefully'), { describe: 'ScaledDownGracefully condition', until: (c) => c !== undefined });
    expect(cond).toMatchObject({ status: 'True', reason: 'Retired' });
    for (const d of deleted) expect(cond?.message).toContain(d);
    const ev = await eventually(async () => (await groupEvents(group)).find((e) => e.reason === 'WorkersRetired'), { describe: 'a WorkersRetired Event', until: (e) => e !== undefined });
    expect(ev?.type).toBe('Normal');
    expect(ev?.message).toContain(mode === 'api-off' ? '(tcp)' : '(http)');
    for (const d of deleted) expect(ev?.message).toContain(d);
    expect((await groupEvents(group)).filter((e) => e.type === 'Warning')).toEqual([]);
    failed = false;
  });

  if (mode === 'api-on') {
    itOnTier('full')('with the scheduler stopped, a scale-down falls back to deleting newest first and says so', async () => {
      await client.close();
      await procs!.stopAll(); // scheduler and workers gone: the override now points at closed ports
      await kubectl(['scale', 'daskworkergroup', group, '-n', ns.name, '--replicas=1']);
      const after = await eventually(async () => liveNames(await workerPods(cluster)), { describe: '1 live worker Pod', until: (v) => v.length === 1, timeoutMs: 60_000 });
      expect(after).toHaveLength(1);
      const cond = await eventually(() => groupCondition(group, 'ScaledDownGracefully'), { describe: 'ScaledDownGracefully=False', until: (c) => c?.status === 'False' });
      expect(cond?.reason).toBe('DeletedWithoutRetirement');
      const ev = await eventually(async () => (await groupEvents(group)).find((e) => e.reason === 'WorkersDeletedWithoutRetirement'), { describe: 'a WorkersDeletedWithoutRetirement Event', until: (e) => e !== undefined });
      expect(ev?.type).toBe('Warning');
      expect(ev?.message).toMatch(/could not retire workers through the scheduler/);
      // Still exactly one a moment later (nothing over-deleted).
      expect(await eventually(async () => liveNames(await workerPods(cluster)), { describe: 'still 1', until: (v) => v.length === 1, timeoutMs: 3_000 })).toEqual(after);
      failed = false;
    });
  }
});

describe('--scale-down-fallback=wait with an unreachable scheduler', () => {
  const cluster = 'gsd-wait';
  const group = `${cluster}-default`;
  let op: OperatorProcess | undefined;
  let failed = false;

  beforeAll(async () => {
    await ensureOperatorBuilt();
    const [http, tcp] = [await freePort(), await freePort()]; // nothing listens there
    op = startOperator(`${ns.name}/${cluster}=http://127.0.0.1:${http},tcp://127.0.0.1:${tcp}`, ['--scale-down-fallback=wait']);
  });

  beforeEach(() => {
    failed = true; // cleared by the last line of each test
  });

  afterAll(async () => {
    await kubectl(['delete', 'daskcluster', cluster, '-n', ns.name, '--ignore-not-found', '--wait=false'], { allowFailure: true });
    await op?.dispose(failed);
  });

  itOnTier('full')('keeps the workers and reports RetireFailed', async () => {
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: clusterManifest(cluster, 2) });
    const before = await waitForRunningPods(cluster, 2, op!);
    await kubectl(['scale', 'daskworkergroup', group, '-n', ns.name, '--replicas=1']);
    const cond = await eventually(() => groupCondition(group, 'ScaledDownGracefully'), { describe: 'ScaledDownGracefully=False RetireFailed', until: (c) => c?.reason === 'RetireFailed', timeoutMs: 60_000 });
    expect(cond?.status).toBe('False');
    expect(cond?.message).toMatch(/--scale-down-fallback=wait/);
    const ev = await eventually(async () => (await groupEvents(group)).find((e) => e.reason === 'RetireFailed'), { describe: 'a RetireFailed Event', until: (e) => e !== undefined });
    expect(ev?.type).toBe('Warning');
    // It retries (requeue after 15 s) and still keeps both Pods.
    const deadline = Date.now() + 17_000;
    while (Date.now() < deadline) {
      expect(liveNames(await workerPods(cluster))).toEqual(before);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await groupEvents(group)).some((e) => e.reason === 'WorkersDeletedWithoutRetirement')).toBe(false);
    failed = false;
  });
});
