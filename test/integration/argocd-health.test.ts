/**
 * The Argo CD health checks (argocd/resource_customizations/kubernetes.dask.org/<Kind>/health.lua) on real objects:
 * the operator (a separate process) drives DaskClusters, DaskWorkerGroups, DaskAutoscalers and DaskJobs on the local
 * control plane into each state a platform team sees, and every object is read back and evaluated with Argo CD's
 * health Lua environment (hack/argocd, gopher-lua):
 *
 *   Healthy      a Ready cluster and its default group; a steady autoscaler (a real Dask scheduler on loopback);
 *                a successful job
 *   Progressing  no status yet (a namespace no operator watches); workers starting (unschedulable); a scheduler not
 *                scheduled; a worker-template rollout; an autoscaler waiting for its scheduler; a running or
 *                starting job
 *   Suspended    a job created suspended
 *   Degraded     a scheduler that cannot start (StartError / CrashLoopBackOff) and a worker OOMKilled, as the kubelet
 *                reports them (written to the Pods' status here: kwok runs no containers); phase Error (an invalid
 *                name stored under a CRD without the name rules); a worker group or autoscaler whose cluster is
 *                missing; an autoscaler whose scheduler cannot be reached; a scale-down blocked by
 *                --scale-down-fallback=wait; a failed job; a job past its deadline
 *
 * With CDK8S_DASK_CAPTURE_ARGOCD=1 the objects are also written as the checks' testdata and health_test.yaml cases
 * (namespace renamed to `analytics`), which test/unit/argocd-health.test.ts then replays on every run.
 */
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { App, Chart, Duration } from 'cdk8s';
import { DaskCluster, DaskJob, type DaskJobProps, RestartPolicy } from '../../lib/index';
import { ADDRESS_OVERRIDE_ENV } from '../../operator/scheduler';
import { DaskProcesses, requireVenv, type SchedulerProc } from '../dask/support/dask-procs';
import { evaluateHealth, sanitizeForTestdata, writeCase, type DaskKind, type Health } from '../support/argocd';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { REPO_ROOT } from './support/cluster';
import type { Obj, PodObj } from './support/dask';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(240_000);

const CAPTURE = process.env.CDK8S_DASK_CAPTURE_ARGOCD === '1';
const ns = withNamespace('argocd');
const nsWait = withNamespace('argocd-wait');
const nsUnwatched = withNamespace('argocd-nobody');
const NO_NODE = { 'cdk8s-dask.io/no-such-node': 'true' };
const CRD = 'daskclusters.kubernetes.dask.org';
const CRD_FILE = path.join(REPO_ROOT, 'crds', 'kubernetes.dask.org_daskclusters.yaml');
let procs: DaskProcesses;
let scheduler: SchedulerProc;
let op: OperatorProcess;
let opWait: OperatorProcess;
let crdPatched = false;
let failed = false;

beforeAll(async () => {
  requireVenv();
  await ensureOperatorBuilt();
  procs = new DaskProcesses('argocd');
  scheduler = await procs.startScheduler({ api: true });
  const before = process.env[ADDRESS_OVERRIDE_ENV];
  process.env[ADDRESS_OVERRIDE_ENV] = `${ns.name}/steady=${scheduler.httpBaseUrl},${scheduler.tcpAddress}`;
  try {
    op = new OperatorProcess({ namespaces: [ns.name] });
    op.start();
  } finally {
    if (before === undefined) delete process.env[ADDRESS_OVERRIDE_ENV];
    else process.env[ADDRESS_OVERRIDE_ENV] = before;
  }
  opWait = new OperatorProcess({ namespaces: [nsWait.name], args: ['--scale-down-fallback=wait'] });
  opWait.start();
}, 180_000);

afterAll(async () => {
  await kubectl(['delete', '-n', ns.name, 'daskcluster', 'my.cluster', '--ignore-not-found', '--wait=true'], { allowFailure: true });
  if (crdPatched) await kubectl(['replace', '-f', CRD_FILE], { allowFailure: true });
  await op?.dispose(failed);
  await opWait?.dispose(failed);
  await procs?.stopAll();
}, 60_000);

/** Synthesizes constructs into plain objects, then lets the test bend them (unschedulable Pods, ...). */
function synth(namespace: string, build: (chart: Chart) => void): Obj[] {
  const app = new App();
  build(new Chart(app, 'c', { namespace }));
  return parseAllDocuments(app.synthYaml()).map((d) => d.toJS() as Obj);
}

async function applyObjs(objs: object[]): Promise<void> {
  await kubectl(['apply', '-f', '-'], { input: objs.map((o) => JSON.stringify(o)).join('\n') });
}

const get = (namespace: string, kind: string, name: string): Promise<Obj> => kubectlJson<Obj>(['get', kind.toLowerCase(), name, '-n', namespace, '-o', 'json']);

/**
 * Waits until the live object's health has `status` (and `message` matches), then checks the message and, when
 * capturing, writes the object as testdata with the health it evaluated to.
 */
async function expectHealth(namespace: string, kind: DaskKind, name: string, status: string, message: RegExp, capture?: string): Promise<void> {
  let seen: { obj: Obj; health: Health | null } | undefined;
  try {
    seen = await eventually(async () => {
      const obj = await get(namespace, kind, name);
      return { obj, health: evaluateHealth(kind, [obj])[0] };
    }, { timeoutMs: 60_000, describe: `${kind} ${name} health ${status} (${message})`, until: (v) => v.health?.status === status && message.test(v.health.message) });
  } catch (e) {
    failed = true;
    throw e;
  }
  expect(seen.health).toEqual({ status, message: expect.stringMatching(message) });
  if (CAPTURE && capture) {
    const obj = sanitizeForTestdata(seen.obj as unknown as Record<string, unknown>, namespace);
    const [health] = evaluateHealth(kind, [obj]);
    expect(health?.status).toBe(status);
    writeCase(kind, capture, obj, health as Health, `Read from the local control plane (${kind} ${name}, written by the cdk8s-dask operator); namespace renamed.`);
  }
}

/** The kubelet's view of a container that cannot start, written to a Pod's status (kwok runs no containers). */
async function failContainer(namespace: string, podName: string, how: 'start-error' | 'oom'): Promise<void> {
  const pod = await kubectlJson<PodObj & { status: { startTime?: string } }>(['get', 'pod', podName, '-n', namespace, '-o', 'json']);
  const c = pod.spec.containers[0];
  const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const lastState = how === 'start-error'
    ? { terminated: { exitCode: 128, reason: 'StartError', message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${c.name === 'scheduler' ? 'dask-scheduler' : 'dask-worker'}": executable file not found in $PATH: unknown`, startedAt: '1970-01-01T00:00:00Z', finishedAt: t } }
    : { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: t, finishedAt: t } };
  const status = {
    phase: 'Running',
    conditions: [
      { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
      { type: 'Initialized', status: 'True', lastTransitionTime: t },
      { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${c.name}]`, lastTransitionTime: t },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${c.name}]`, lastTransitionTime: t },
    ],
    containerStatuses: [{
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=${c.name} pod=${podName}_${namespace}(${pod.metadata.uid})` } },
      lastState,
    }],
  };
  await kubectl(['patch', 'pod', podName, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

const workerPodNames = async (namespace: string, group: string): Promise<string[]> =>
  (await kubectlJson<{ items: PodObj[] }>(['get', 'pods', '-n', namespace, '-l', `dask.org/workergroup-name=${group}`, '-o', 'json'])).items
    .filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();

describe('DaskCluster and DaskWorkerGroup health on real objects', () => {
  test('Ready: Healthy', async () => {
    await applyObjs(synth(ns.name, (c) => new DaskCluster(c, 'ready', { workers: 2 })));
    await expectHealth(ns.name, 'DaskCluster', 'ready', 'Healthy', /^scheduler and all workers are Ready$/, 'ready');
    await expectHealth(ns.name, 'DaskWorkerGroup', 'ready-default', 'Healthy', /^2\/2 workers Ready$/, 'ready');
  });

  test('no status yet (no operator watches the namespace): Progressing', async () => {
    await applyObjs(synth(nsUnwatched.name, (c) => new DaskCluster(c, 'fresh', { workers: 1 })));
    await expectHealth(nsUnwatched.name, 'DaskCluster', 'fresh', 'Progressing', /^Waiting for the Dask operator to report the cluster's status$/, 'no-status');
  });

  test('workers that cannot be scheduled yet (scaling up): Progressing', async () => {
    const objs = synth(ns.name, (c) => new DaskCluster(c, 'starting', { workers: 2 }));
    objs[0].spec.worker.spec.nodeSelector = NO_NODE;
    await applyObjs(objs);
    await expectHealth(ns.name, 'DaskCluster', 'starting', 'Progressing', /^WorkersNotReady: /, 'workers-starting');
    await expectHealth(ns.name, 'DaskWorkerGroup', 'starting-default', 'Progressing', /^WorkersNotReady: 0\/2 workers Ready$/, 'scaling-up');
  });

  test('a scheduler that is not scheduled yet: Progressing', async () => {
    const objs = synth(ns.name, (c) => new DaskCluster(c, 'unscheduled', { workers: 1 }));
    objs[0].spec.scheduler.spec.nodeSelector = NO_NODE;
    await applyObjs(objs);
    await expectHealth(ns.name, 'DaskCluster', 'unscheduled', 'Progressing', /^SchedulerNotReady: /, 'scheduler-starting');
  });

  test('a new worker template rolling out: Progressing on the group and on the cluster', async () => {
    const objs = synth(ns.name, (c) => new DaskCluster(c, 'rollout', { workers: 2 }));
    await applyObjs(objs);
    await expectHealth(ns.name, 'DaskCluster', 'rollout', 'Healthy', /Ready/);
    // The new template's Pods cannot be scheduled, so the rollout stays under way (old Pods keep running).
    objs[0].spec.worker.spec.nodeSelector = NO_NODE;
    await applyObjs(objs);
    await expectHealth(ns.name, 'DaskWorkerGroup', 'rollout-default', 'Progressing', /^RollingOut: 2\/2 workers Ready, 2 on an old template being replaced$/, 'rolling-out');
    await expectHealth(ns.name, 'DaskCluster', 'rollout', 'Progressing', /^RollingOut: /, 'rolling-out');
  });

  test('a scheduler container that cannot start (StartError, then CrashLoopBackOff): Degraded', async () => {
    await applyObjs(synth(ns.name, (c) => new DaskCluster(c, 'crashing', { workers: 1 })));
    await expectHealth(ns.name, 'DaskCluster', 'crashing', 'Healthy', /Ready/);
    await failContainer(ns.name, 'crashing-scheduler', 'start-error');
    await expectHealth(ns.name, 'DaskCluster', 'crashing', 'Degraded', /^SchedulerFailed: the scheduler cannot start: .*StartError/, 'scheduler-failed');
  });

  test('a worker OOMKilled: Degraded on the group and on the cluster', async () => {
    await applyObjs(synth(ns.name, (c) => new DaskCluster(c, 'oom', { workers: 2 })));
    await expectHealth(ns.name, 'DaskWorkerGroup', 'oom-default', 'Healthy', /Ready/);
    const [victim] = await workerPodNames(ns.name, 'oom-default');
    await failContainer(ns.name, victim, 'oom');
    await expectHealth(ns.name, 'DaskWorkerGroup', 'oom-default', 'Degraded', /^OOMKilled: 1 of 2 worker Pod\(s\) cannot start: /, 'containers-failing');
    await expectHealth(ns.name, 'DaskCluster', 'oom', 'Degraded', /^WorkersFailed: a worker cannot start: .*OOMKilled/, 'workers-failed');
  });

  test('phase Error (an invalid name, stored under a CRD without the name rules, as upstream allows): Degraded', async () => {
    const objs = synth(ns.name, (c) => new DaskCluster(c, 'placeholder', { workers: 1 }));
    const obj = JSON.parse(JSON.stringify(objs[0]).split('placeholder').join('my.cluster'));
    await eventually(async () => {
      const crd = await kubectlJson<{ spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } }>(['get', 'crd', CRD, '-o', 'json']);
      crdPatched = true;
      if (crd.spec.versions[0].schema.openAPIV3Schema['x-kubernetes-validations']) {
        await kubectl(['patch', 'crd', CRD, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: '/spec/versions/0/schema/openAPIV3Schema/x-kubernetes-validations' }])]);
      }
      await kubectl(['create', '-f', '-'], { input: JSON.stringify(obj) });
    }, { timeoutMs: 30_000, intervalMs: 500, describe: 'DaskCluster my.cluster stored once the name rules are gone' });
    await kubectl(['replace', '-f', CRD_FILE]);
    crdPatched = false;
    await expectHealth(ns.name, 'DaskCluster', 'my.cluster', 'Degraded', /^InvalidName: name /, 'error-phase');
  });

  test('a worker group whose cluster does not exist: Degraded', async () => {
    const group = {
      apiVersion: 'kubernetes.dask.org/v1',
      kind: 'DaskWorkerGroup',
      metadata: { name: 'orphan', namespace: ns.name },
      spec: { cluster: 'no-such-cluster', worker: { replicas: 1, spec: { containers: [{ name: 'worker', image: 'ghcr.io/dask/dask:2026.8.0', args: ['dask', 'worker'] }] } } },
    };
    await applyObjs([group]);
    await expectHealth(ns.name, 'DaskWorkerGroup', 'orphan', 'Degraded', /^ClusterNotFound: DaskCluster no-such-cluster does not exist/, 'cluster-missing');
  });

  test('a scale-down the operator may not finish (--scale-down-fallback=wait, scheduler unreachable): Degraded on the group', async () => {
    const objs = synth(nsWait.name, (c) => new DaskCluster(c, 'blocked', { workers: 3 }));
    await applyObjs(objs);
    await expectHealth(nsWait.name, 'DaskWorkerGroup', 'blocked-default', 'Healthy', /3\/3/);
    await kubectl(['scale', 'daskworkergroup', 'blocked-default', '-n', nsWait.name, '--replicas=1']);
    await expectHealth(nsWait.name, 'DaskWorkerGroup', 'blocked-default', 'Degraded', /^Scale-down to 1 workers is blocked: RetireFailed: /, 'scale-down-blocked');
  });
});

describe('DaskAutoscaler health on real objects', () => {
  const autoscaler = (name: string, cluster: string) => ({
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskAutoscaler',
    metadata: { name, namespace: ns.name },
    spec: { cluster, minimum: 1, maximum: 3 },
  });

  test('steady, asking a real Dask scheduler for its adaptive target: Healthy', async () => {
    await applyObjs([...synth(ns.name, (c) => new DaskCluster(c, 'steady', { workers: 1 })), autoscaler('steady', 'steady')]);
    await expectHealth(ns.name, 'DaskAutoscaler', 'steady', 'Healthy', /^(Steady|Scaled): /, 'steady');
  });

  test('its cluster does not exist: Degraded', async () => {
    await applyObjs([autoscaler('orphan', 'no-such-cluster')]);
    await expectHealth(ns.name, 'DaskAutoscaler', 'orphan', 'Degraded', /^ClusterNotFound: /, 'cluster-missing');
  });

  test('its scheduler is not Ready yet: Progressing', async () => {
    await applyObjs([autoscaler('waiting', 'unscheduled')]);
    await expectHealth(ns.name, 'DaskAutoscaler', 'waiting', 'Progressing', /^SchedulerNotReady: /, 'scheduler-not-ready');
  });

  test('its scheduler cannot be reached by the operator: Degraded', async () => {
    await applyObjs([autoscaler('unreachable', 'ready')]);
    await expectHealth(ns.name, 'DaskAutoscaler', 'unreachable', 'Degraded', /^SchedulerUnreachable: could not read the scheduler's adaptive target/, 'scheduler-unreachable');
  });
});

describe('DaskJob health on real objects', () => {
  const job = (name: string, annotations: Record<string, string>, restartPolicy: RestartPolicy = RestartPolicy.ON_FAILURE, more: Partial<DaskJobProps> = {}) =>
    synth(ns.name, (c) => new DaskJob(c, name, { runner: { args: ['python', '-m', 'etl'], restartPolicy, metadata: { annotations } }, cluster: { workers: 1 }, ...more }));
  /** Runner Pods are named {job}-runner-{first 5 hex of the job's uid}-{attempt}. */
  const RUNNER = (jobName: string) => `${jobName}-runner-[0-9a-f]{5}-1`;

  test('starting (the runner is not scheduled yet): Progressing', async () => {
    const objs = job('job-starting', {});
    objs[0].spec.job.spec.nodeSelector = NO_NODE;
    await applyObjs(objs);
    await expectHealth(ns.name, 'DaskJob', 'job-starting', 'Progressing', /^The job's cluster and runner are starting \(ClusterCreated\)$/, 'starting');
  });

  test('running: Progressing', async () => {
    await applyObjs(job('job-running', { 'fake.cdk8s-dask.io/outcome': 'Running' }));
    await expectHealth(ns.name, 'DaskJob', 'job-running', 'Progressing', /^The job is running since /, 'running');
  });

  test('succeeded: Healthy', async () => {
    await applyObjs(job('job-done', { 'fake.cdk8s-dask.io/run-for': '1s' }));
    await expectHealth(ns.name, 'DaskJob', 'job-done', 'Healthy', new RegExp(`^The job succeeded: ${RUNNER('job-done')} completed at `), 'succeeded');
  });

  test('failed: Degraded', async () => {
    await applyObjs(job('job-failed', { 'fake.cdk8s-dask.io/outcome': 'Failed', 'fake.cdk8s-dask.io/run-for': '1s' }, RestartPolicy.NEVER));
    await expectHealth(ns.name, 'DaskJob', 'job-failed', 'Degraded', new RegExp(`^The job failed: ${RUNNER('job-failed')} exited with an error at `), 'failed');
  });

  test('past its activeDeadlineSeconds: Degraded, with the reason', async () => {
    await applyObjs(job('job-late', { 'fake.cdk8s-dask.io/outcome': 'Running' }, RestartPolicy.ON_FAILURE, { activeDeadline: Duration.seconds(2) }));
    await expectHealth(ns.name, 'DaskJob', 'job-late', 'Degraded', /^The job failed \(DeadlineExceeded\): /, 'deadline-exceeded');
  });

  test('created suspended: Suspended, and it holds no Pods', async () => {
    await applyObjs(job('job-suspended', {}, RestartPolicy.ON_FAILURE, { suspend: true }));
    await expectHealth(ns.name, 'DaskJob', 'job-suspended', 'Suspended', /^The DaskJob is suspended: .*holds no Pods/, 'suspended');
  });

  test('no status yet (no operator watches the namespace): Progressing', async () => {
    const objs = synth(nsUnwatched.name, (c) => new DaskJob(c, 'queued', { runner: { args: ['python', '-m', 'etl'] } }));
    await applyObjs(objs);
    await expectHealth(nsUnwatched.name, 'DaskJob', 'queued', 'Progressing', /^Waiting for the Dask operator to start the job$/, 'no-status');
  });
});
