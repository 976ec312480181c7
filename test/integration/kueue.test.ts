/**
 * The Kueue integration against real Kueue (v0.19.2, built from the Go module proxy; test/integration/support/kueue.ts)
 * and the operator with --kueue, on the kwok tier: one ClusterQueue with quota for one job at a time (2 CPUs; each
 * job asks 1.5: scheduler, one worker and the runner at 500m each) and preemption of lower priorities.
 * - Two queued jobs run one after the other: the second stays suspended, holding no Pods, until the first finishes
 *   and its Workload's quota is given back. Admitted Pods carry the ResourceFlavor's node labels and tolerations.
 * - A higher-priority job preempts a running one: the running one is suspended (its Pods deleted), the high one runs,
 *   and once it finished the preempted one is admitted again and starts afresh (a new runner attempt).
 */
import { App, Chart, Size } from 'cdk8s';
import { Cpu, DaskJob, RestartPolicy } from '../../lib/index';
import { eventually, itOnTier, kubectl, withNamespace } from './support';
import { condition, getObj, listObjs, type Obj, type PodObj } from './support/dask';
import { KueueProcess } from './support/kueue';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(300_000);
const ns = withNamespace('kueue');
let kueue: KueueProcess | undefined;
let op: OperatorProcess | undefined;
const CQ = `dask-cq-${process.pid}`;
const FLAVOR = `dask-flavor-${process.pid}`;
const LOW = `dask-low-${process.pid}`;
const HIGH = `dask-high-${process.pid}`;
const REQUESTS = { cpu: { request: Cpu.millis(500) }, memory: { request: Size.gibibytes(1) } };
const TOLERATION = { key: 'cdk8s-dask.io/batch', operator: 'Exists', effect: 'NoSchedule' };

beforeAll(async () => {
  await ensureOperatorBuilt();
  kueue = await KueueProcess.start();
  const objs = [
    { apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'ResourceFlavor', metadata: { name: FLAVOR }, spec: { nodeLabels: { type: 'kwok' }, tolerations: [TOLERATION] } },
    {
      apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'ClusterQueue', metadata: { name: CQ },
      spec: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } },
        resourceGroups: [{ coveredResources: ['cpu', 'memory'], flavors: [{ name: FLAVOR, resources: [{ name: 'cpu', nominalQuota: '2' }, { name: 'memory', nominalQuota: '16Gi' }] }] }],
        preemption: { withinClusterQueue: 'LowerPriority' },
      },
    },
    { apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'LocalQueue', metadata: { name: 'batch', namespace: ns.name }, spec: { clusterQueue: CQ } },
    { apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'WorkloadPriorityClass', metadata: { name: LOW }, value: 100 },
    { apiVersion: 'kueue.x-k8s.io/v1beta2', kind: 'WorkloadPriorityClass', metadata: { name: HIGH }, value: 1000 },
  ];
  await kubectl(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
  op = new OperatorProcess({ namespaces: [ns.name], args: ['--kueue'] });
  op.start();
}, 300_000);

afterAll(async () => {
  await op?.dispose();
  await kubectl(['delete', 'daskjobs', '--all', '-n', ns.name, '--wait=true', '--timeout=60s'], { allowFailure: true, timeoutMs: 70_000 });
  await kubectl(['delete', `clusterqueue/${CQ}`, `resourceflavor/${FLAVOR}`, `workloadpriorityclass/${LOW}`, `workloadpriorityclass/${HIGH}`, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  await kueue?.stop();
}, 120_000);

async function logged(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    (err as Error).message += `\n--- operator log tail ---\n${op?.tail(40)}\n--- kueue log tail ---\n${kueue?.tail(40)}`;
    throw err;
  }
}

/** A queued job whose runner kwok holds Running until the test releases it. */
async function submit(name: string, priorityClass?: string): Promise<void> {
  const app = new App();
  new DaskJob(new Chart(app, 'j', { namespace: ns.name }), name, {
    metadata: { labels: { 'kueue.x-k8s.io/queue-name': 'batch', ...(priorityClass ? { 'kueue.x-k8s.io/priority-class': priorityClass } : {}) } },
    runner: { args: ['python', '-m', 'etl'], restartPolicy: RestartPolicy.NEVER, resources: REQUESTS, metadata: { annotations: { 'fake.cdk8s-dask.io/outcome': 'Running' } } },
    cluster: { workers: 1, resources: REQUESTS },
  });
  await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
}

const job = (name: string): Promise<Obj | undefined> => getObj(ns.name, 'daskjob', name);
const podsOf = async (name: string): Promise<PodObj[]> => (await listObjs<PodObj>(ns.name, 'pods', `dask.org/cluster-name=${name}`)).filter((p) => !p.metadata.deletionTimestamp);
const workloadOf = async (name: string): Promise<Obj | undefined> => (await listObjs(ns.name, 'workloads.kueue.x-k8s.io', `kubernetes.dask.org/job-name=${name}`))[0];

async function running(name: string, attempt: number): Promise<Obj> {
  return eventually(async () => {
    const j = await job(name);
    expect(j?.status).toMatchObject({ jobStatus: 'Running', attempts: attempt });
    const runner = await getObj<PodObj>(ns.name, 'pod', j?.status?.jobRunnerPodName);
    expect(runner?.status?.phase).toBe('Running');
    return j as Obj;
  }, { timeoutMs: 90_000, describe: `DaskJob ${name} running attempt ${attempt}` });
}

async function held(name: string): Promise<void> {
  await eventually(async () => {
    const j = await job(name);
    expect(j?.spec?.suspend).toBe(true);
    expect(condition(j, 'Suspended')).toMatchObject({ status: 'True', message: 'the job holds no Pods' });
    expect(await podsOf(name)).toEqual([]);
    expect(condition(await workloadOf(name), 'Admitted')?.status).not.toBe('True');
  }, { timeoutMs: 90_000, describe: `DaskJob ${name} held suspended with no Pods and its Workload not admitted` });
}

async function finish(name: string): Promise<void> {
  const j = await job(name);
  await kubectl(['annotate', '--overwrite', '-n', ns.name, `pod/${j?.status?.jobRunnerPodName}`, 'fake.cdk8s-dask.io/outcome=Succeeded']);
  await eventually(async () => {
    expect((await job(name))?.status?.jobStatus).toBe('Successful');
    expect(condition(await workloadOf(name), 'Finished')).toMatchObject({ status: 'True', reason: 'Succeeded' });
  }, { timeoutMs: 60_000, describe: `DaskJob ${name} Successful and its Workload Finished` });
}

itOnTier('full')('two queued jobs with quota for one run one after the other; admitted Pods carry the flavor\'s node labels and tolerations', () => logged(async () => {
  await submit('first');
  await running('first', 1);
  await submit('second');
  await held('second');
  const wl = await workloadOf('first');
  expect(wl?.spec.podSets.map((p: { name: string; count: number }) => [p.name, p.count])).toEqual([['scheduler', 1], ['worker', 1], ['runner', 1]]);
  expect(wl?.spec.queueName).toBe('batch');
  const pods = await podsOf('first');
  expect(pods.map((p) => p.metadata.labels?.['dask.org/component']).sort()).toEqual(['job-runner', 'scheduler', 'worker']);
  for (const p of pods) {
    const spec = p.spec as PodObj['spec'] & { nodeSelector?: Record<string, string>; tolerations?: unknown[] };
    expect(spec.nodeSelector).toMatchObject({ type: 'kwok' });
    expect(spec.tolerations).toContainEqual(TOLERATION);
  }
  await finish('first');
  await running('second', 1);
  await finish('second');
  await eventually(async () => {
    const cq = await getObj('', 'clusterqueue.kueue.x-k8s.io', CQ);
    expect(cq?.status?.reservingWorkloads ?? 0).toBe(0);
  }, { timeoutMs: 30_000, describe: 'the ClusterQueue holds no reservations once both finished' });
}));

itOnTier('full')('a higher-priority job preempts a running one, which is suspended and later starts afresh', () => logged(async () => {
  await submit('low', LOW);
  await running('low', 1);
  await submit('high', HIGH);
  await eventually(async () => {
    const wl = await workloadOf('low');
    expect(condition(wl, 'Evicted')).toMatchObject({ status: 'True', reason: 'Preempted' });
  }, { timeoutMs: 60_000, describe: 'the low-priority Workload evicted by preemption' });
  await held('low');
  await running('high', 1);
  await eventually(async () => expect(condition(await workloadOf('low'), 'Requeued')).toMatchObject({ status: 'True', reason: 'Preempted' }), { timeoutMs: 30_000, describe: 'the low-priority Workload requeued' });
  await finish('high');
  const again = await running('low', 2);
  expect(condition(again, 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
  await finish('low');
}));
