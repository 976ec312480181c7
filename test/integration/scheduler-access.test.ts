/**
 * What the operator dials when it talks to schedulers (--scheduler-access=dns), on the real control plane.
 *
 * The test namespace has no cluster DNS, so the operator process gets a private /etc/hosts (OperatorProcess `hosts`)
 * mapping each scheduler Service name to 127.0.0.1: what cluster DNS would answer for a ClusterIP Service whose Pod
 * is a loopback listener, and equally what it would answer for an ExternalName Service aliasing `localhost`.
 *
 * - A DaskCluster whose spec.scheduler.service is an ExternalName Service: its loopback listener (which would answer
 *   with a secret) receives nothing, and the refusal shows in the autoscaler's condition; next to it, a normal
 *   cluster's scheduler IS dialled (so the harness would see a dial).
 * - 50 DaskClusters polled for idleness each get a client with an idle connection; deleting them brings the pool
 *   size (dask_operator_scheduler_clients) and the operator's open file descriptors back where they started.
 */
import { MAX_IDLE_API_CONNECTIONS } from '../../operator/runtime/kubeconfig';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from '../dask/support/dask-procs';
import { decodeMessage, encodeMessage, FrameReader } from '../../operator/scheduler/comm';
import { eventually, kubectl, withNamespace } from './support';
import { apply, condition, events, getObj, seedCluster, withOperator, type Obj } from './support/dask';

jest.setTimeout(240_000);

const ns = withNamespace('sched-access');
const POOL = Array.from({ length: 50 }, (_, i) => `pool-${i}`);
let metricsUrl: string;

/** A Dask scheduler as far as the operator's polling goes: handshake, then plausible answers. */
class FakeScheduler {
  readonly ops: string[] = [];
  readonly sockets = new Set<net.Socket>();
  accepted = 0;
  private readonly server = net.createServer((s) => {
    this.accepted++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    const reader = new FrameReader();
    let greeted = false;
    s.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let frames = reader.next(); frames; frames = reader.next()) {
        const msg = decodeMessage(frames) as { op?: string };
        if (!greeted) {
          greeted = true;
          s.write(encodeMessage({ compression: null, python: [3, 12, 0], 'pickle-protocol': 5 }));
          continue;
        }
        this.ops.push(String(msg.op));
        if (msg.op === 'close') continue;
        s.write(encodeMessage(msg.op === 'adaptive_target' ? 0 : msg.op === 'identity' ? { type: 'Scheduler', workers: {} } : null));
      }
    });
  });
  port = 0;
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** What an attacker would point an ExternalName at: it answers every connection with a secret. */
class Bait {
  connections = 0;
  private readonly server = net.createServer((s) => {
    this.connections++;
    s.on('error', () => undefined);
    s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"workers": 7, "secret": "SECRET-FROM-INTERNAL-SERVICE"}');
  });
  port = 0;
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }
  async close(): Promise<void> {
    await new Promise((r) => this.server.close(r));
  }
}

let scheduler: FakeScheduler;
let bait: Bait;
let baitHttp: Bait;
let closedPort: number;
let metricsPort: number;

/** A seed cluster without workers, polled for idleness, whose Service ports point at `tcp`/`http` on loopback. */
function cluster(name: string, tcp: number, http: number, service: Record<string, unknown> = {}): Obj {
  const c = seedCluster({ name, replicas: 0 });
  c.spec.idleTimeout = 3600;
  c.spec.scheduler.service = {
    ...c.spec.scheduler.service,
    ports: [{ name: 'tcp-comm', port: tcp, protocol: 'TCP', targetPort: 'tcp-comm' }, { name: 'http-dashboard', port: http, protocol: 'TCP', targetPort: 'http-dashboard' }],
    ...service,
  };
  return c;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

beforeAll(async () => {
  scheduler = await new FakeScheduler().start();
  bait = await new Bait().start();
  baitHttp = await new Bait().start();
  closedPort = await freePort(); // nothing listens: the HTTP path is refused at once and the client uses TCP
  metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}`;
}, 180_000);

// Started after the hooks above (it needs the metrics port); cluster DNS names resolve to loopback in its own /etc/hosts.
const operator = withOperator(ns, () => ({
  args: ['--scheduler-access=dns', `--metrics-bind-address=127.0.0.1:${metricsPort}`],
  hosts: Object.fromEntries(['good', 'evil', ...POOL].map((n) => [`${n}-scheduler.${ns.name}.svc.cluster.local`, '127.0.0.1'])),
}));

afterAll(async () => {
  await scheduler?.close();
  await bait?.close();
  await baitHttp?.close();
}, 60_000);


describe('scheduler access (dns)', () => {
  operator.it('an ExternalName scheduler Service is never dialled, and says so; a normal one is', async () => {
    await apply(ns.name, cluster('good', scheduler.port, closedPort));
    await apply(ns.name, cluster('evil', bait.port, baitHttp.port, { type: 'ExternalName', externalName: 'localhost' }));
    await apply(ns.name, { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskAutoscaler', metadata: { name: 'evil' }, spec: { cluster: 'evil', minimum: 0, maximum: 2 } });

    // The ExternalName Service exists as the user asked: the refusal is the operator's, at dial time.
    const svc = await eventually(() => getObj(ns.name, 'service', 'evil-scheduler'), { describe: 'Service evil-scheduler', until: (s) => s !== undefined });
    expect(svc?.spec.type).toBe('ExternalName');
    const scaler = await eventually(() => getObj(ns.name, 'daskautoscaler', 'evil'), {
      describe: 'DaskAutoscaler evil to report the refusal',
      timeoutMs: 60_000,
      until: (a) => /refusing to contact the scheduler/.test(condition(a, 'ScalingActive')?.message ?? ''),
    });
    expect(condition(scaler, 'ScalingActive')).toMatchObject({ status: 'False', message: expect.stringContaining('Service evil-scheduler is of type ExternalName') });

    // The harness sees dials: the normal cluster's idle poll reaches its scheduler, several times.
    const seen = scheduler.ops.filter((o) => o === 'check_idle').length;
    await eventually(() => scheduler.ops.filter((o) => o === 'check_idle').length, { describe: 'two more idle polls of cluster good', timeoutMs: 60_000, until: (n) => n >= seen + 2 });
    expect(bait.connections + baitHttp.connections).toBe(0);
    const evilCluster = await getObj(ns.name, 'daskcluster', 'evil');
    const said = JSON.stringify([evilCluster?.status, scaler?.status, await events(ns.name, 'evil')]);
    expect(said).not.toContain('SECRET');
  });

  operator.it('50 clusters: the pool and the operator\'s open file descriptors return to where they started once the clusters are gone', async () => {
    await eventually(() => metric('dask_operator_scheduler_clients'), { describe: 'the pool to hold cluster good', until: (n) => n === 1 });
    const clientsBefore = await metric('dask_operator_scheduler_clients');
    const socketsBefore = scheduler.sockets.size;
    const fdsBefore = await metric('dask_operator_process_open_fds');
    for (const name of POOL) await apply(ns.name, cluster(name, scheduler.port, closedPort));
    await eventually(async () => ({ clients: await metric('dask_operator_scheduler_clients'), sockets: scheduler.sockets.size }), {
      describe: '50 more pooled clients, each with an idle connection',
      timeoutMs: 120_000,
      intervalMs: 500,
      until: (v) => v.clients === clientsBefore + 50 && v.sockets >= socketsBefore + 50,
    });
    const fdsPeak = await metric('dask_operator_process_open_fds');
    // 50 scheduler sockets more; idle keep-alive connections to the API server may close meanwhile.
    expect(fdsPeak).toBeGreaterThanOrEqual(fdsBefore + 50 - MAX_IDLE_API_CONNECTIONS);
    // The running operator serves the read-your-own-writes gauge, and 50 clusters' status writes leave no entry behind
    // once each cluster was reconciled after its last write.
    await eventually(() => metric('dask_operator_own_status_writes'), { describe: 'no own status write held', timeoutMs: 60_000, intervalMs: 500, until: (n) => n === 0 });

    await kubectl(['delete', '-n', ns.name, 'daskcluster', ...POOL, '--wait=false']);
    const after = await eventually(async () => ({ clients: await metric('dask_operator_scheduler_clients'), sockets: scheduler.sockets.size, fds: await metric('dask_operator_process_open_fds') }), {
      describe: `the pool back to ${clientsBefore}, the fake scheduler back to ${socketsBefore} connections, the operator back to ${fdsBefore} fds`,
      timeoutMs: 60_000,
      intervalMs: 500,
      // fds: the same, give or take the idle keep-alive connections to the API server (at most MAX_IDLE_API_CONNECTIONS);
      // a leak per cluster would be 50.
      until: (v) => v.clients === clientsBefore && v.sockets <= socketsBefore && v.fds <= fdsBefore + MAX_IDLE_API_CONNECTIONS,
    });
    process.stderr.write(`[scheduler-access] operator fds: ${fdsBefore} before, ${fdsPeak} with 50 clusters, ${after.fds} after; fake scheduler connections ${socketsBefore} → ${after.sockets}\n`);
  });
});
