/**
 * Two operator replicas behind one Lease: only the leader reconciles, the standby reports not-leader on /readyz, and
 * when the leader is killed (SIGKILL, no lease release) the standby takes over and keeps reconciling. Also checks the
 * /metrics, /healthz and /readyz endpoints of a running operator.
 */
import { freePort } from '../dask/support/dask-procs';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';
import { seedCluster } from './support/dask';

jest.setTimeout(180_000);
const ns = withNamespace('leader');
const LEASE = 'leader-test';
const ops: OperatorProcess[] = [];

afterAll(async () => {
  const failed = Boolean((expect.getState() as { numFailingTests?: number }).numFailingTests);
  for (const op of ops) await op.dispose(failed);
});

async function startReplica(): Promise<{ op: OperatorProcess; url: string }> {
  const port = await freePort();
  const op = new OperatorProcess({ namespaces: [ns.name], args: ['--leader-elect', `--leader-election-namespace=${ns.name}`, `--leader-election-id=${LEASE}`, `--metrics-bind-address=127.0.0.1:${port}`] });
  op.start();
  ops.push(op);
  return { op, url: `http://127.0.0.1:${port}` };
}

const get = async (url: string): Promise<{ status: number; text: string }> => {
  const r = await fetch(url);
  return { status: r.status, text: await r.text() };
};
const holder = async (): Promise<string | undefined> =>
  (await kubectlJson<{ spec?: { holderIdentity?: string } }>(['get', 'lease', LEASE, '-n', ns.name, '-o', 'json'])).spec?.holderIdentity;
const workers = async (cluster: string): Promise<number> =>
  (await kubectlJson<{ items: unknown[] }>(['get', 'pods', '-n', ns.name, '-l', `dask.org/cluster-name=${cluster},dask.org/component=worker`, '-o', 'json'])).items.length;


test('one leader reconciles; after it is killed the standby takes over', async () => {
  const a = await startReplica();
  const first = await eventually(async () => {
    const h = await holder();
    if (!h) throw new Error('no holder yet');
    return h;
  }, { timeoutMs: 30_000, describe: 'a leader' });
  const b = await startReplica();
  // Both serve /healthz; only the leader is ready to reconcile, the standby says so on /readyz.
  await eventually(async () => {
    expect((await get(`${a.url}/healthz`)).status).toBe(200);
    expect((await get(`${b.url}/healthz`)).status).toBe(200);
  }, { timeoutMs: 30_000, describe: 'both replicas serving /healthz' });
  const metrics = await get(`${a.url}/metrics`);
  expect(metrics.text).toMatch(/dask_operator_reconcile_total/);
  expect(metrics.text).toMatch(/dask_operator_leader/);

  await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: JSON.stringify(seedCluster({ name: 'led', replicas: 2 })) });
  await eventually(async () => expect(await workers('led')).toBe(2), { timeoutMs: 30_000, describe: '2 workers under the first leader' });

  // Kill whichever holds the lease (identity is hostname_pid outside a pod); the other says "standby" on /readyz.
  const victim = first.endsWith(`_${a.op.pid}`) ? a : b;
  const survivor = victim === a ? b : a;
  expect(first.endsWith(`_${victim.op.pid}`)).toBe(true);
  await eventually(async () => {
    expect((await get(`${victim.url}/readyz`)).text).toMatch(/leader/);
    expect((await get(`${survivor.url}/readyz`)).text).toMatch(/standby/);
  }, { timeoutMs: 30_000, describe: 'leader and standby on /readyz' });
  await victim.op.kill();
  const killedAt = Date.now();
  const next = await eventually(async () => {
    const h = await holder();
    if (!h || h === first) throw new Error(`lease still held by ${h}`);
    return h;
  }, { timeoutMs: 40_000, describe: 'the standby takes the lease' });
  const failoverMs = Date.now() - killedAt;
  expect(next.endsWith(`_${survivor.op.pid}`)).toBe(true);
  expect(failoverMs).toBeLessThan(30_000); // lease duration 15 s + retry period 2 s, with slack for a loaded machine

  // The new leader reconciles: scale the cluster and see it happen.
  await kubectl(['scale', 'daskcluster', 'led', '-n', ns.name, '--replicas=4']);
  await eventually(async () => expect(await workers('led')).toBe(4), { timeoutMs: 30_000, describe: '4 workers under the new leader' });
});
