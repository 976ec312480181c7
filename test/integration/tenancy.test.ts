/**
 * Tenant isolation on the real API server (docs/security.md): the aggregated user roles reach namespace users through
 * the built-in view/edit/admin roles (kube-controller-manager's aggregation controller), the pod-spec admission policy
 * refuses what a namespace user could not run themselves, and the NetworkPolicies select exactly the Pods the operator
 * creates. Enforcement of NetworkPolicy needs a CNI plugin that implements it; none runs here (docs/security.md says
 * where testing stops).
 */
import { App, Chart } from 'cdk8s';
import { DaskCluster, DaskNetworkPolicy, DaskPodSpecPolicy, DaskUserRoles } from '../../lib/index';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { apply, seedCluster, withOperator, workerPods, type Obj } from './support/dask';

jest.setTimeout(120_000);
const ns = withNamespace('tenancy');
const operator = withOperator(ns);
const POLICY = 'dask-pod-spec-policy-test';

const synthYaml = (build: (chart: Chart) => void, namespace?: string): string => {
  const app = new App();
  build(new Chart(app, 'c', namespace ? { namespace } : {}));
  return app.synthYaml();
};
const canIn = async (namespace: string, user: string, ...args: string[]): Promise<string> =>
  (await kubectl(['auth', 'can-i', ...args, '-n', namespace, `--as=${user}`], { allowFailure: true })).stdout.trim();
const canI = (user: string, ...args: string[]): Promise<string> => canIn(ns.name, user, ...args);

afterAll(async () => {
  await kubectl(['delete', 'validatingadmissionpolicybinding', POLICY, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'validatingadmissionpolicy', POLICY, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'clusterrole', 'tenancy-test-view', 'tenancy-test-edit', '--ignore-not-found'], { allowFailure: true });
});

describe('aggregated user roles', () => {
  beforeAll(async () => {
    await kubectl(['apply', '-f', '-'], { input: synthYaml((c) => new DaskUserRoles(c, 'roles', { namePrefix: 'tenancy-test' })) });
    await kubectl(['create', 'rolebinding', 'alice-edit', '--clusterrole=edit', '--user=alice', '-n', ns.name]);
    await kubectl(['create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob', '-n', ns.name]);
    await kubectl(['create', 'rolebinding', 'carol-admin', '--clusterrole=admin', '--user=carol', '-n', ns.name]);
  });

  test('edit and admin holders may create, scale and delete Dask objects; view holders may only read; status stays the operator\'s', async () => {
    // The aggregation controller folds the new rules into the built-in roles shortly after they appear.
    await eventually(async () => {
      expect(await canI('alice', 'create', 'daskclusters.kubernetes.dask.org')).toBe('yes');
      expect(await canI('carol', 'delete', 'daskjobs.kubernetes.dask.org')).toBe('yes');
      expect(await canI('bob', 'list', 'daskworkergroups.kubernetes.dask.org')).toBe('yes');
    }, { timeoutMs: 60_000, describe: 'the aggregated rules in the built-in edit, admin and view roles' });
    expect(await canI('alice', 'patch', 'daskclusters.kubernetes.dask.org', '--subresource=scale')).toBe('yes');
    expect(await canI('alice', 'patch', 'daskclusters.kubernetes.dask.org', '--subresource=status')).toBe('no');
    expect(await canI('bob', 'create', 'daskclusters.kubernetes.dask.org')).toBe('no');
    expect(await canI('bob', 'get', 'daskclusters.kubernetes.dask.org', '--subresource=status')).toBe('yes');
    expect(await canIn('default', 'alice', 'create', 'daskclusters.kubernetes.dask.org')).toBe('no'); // only where bound
  });

  test('as alice (edit): kubectl apply and kubectl scale work; as bob (view) apply is forbidden and get works', async () => {
    const cluster = seedCluster({ name: 'alices', replicas: 1 });
    await kubectl(['apply', '-n', ns.name, '-f', '-', '--as=alice'], { input: JSON.stringify(cluster) });
    await kubectl(['scale', 'daskcluster', 'alices', '--replicas=2', '-n', ns.name, '--as=alice']);
    const denied = await kubectl(['apply', '-n', ns.name, '-f', '-', '--as=bob'], { input: JSON.stringify(seedCluster({ name: 'bobs' })), allowFailure: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);
    const seen = await kubectlJson<Obj>(['get', 'daskcluster', 'alices', '-n', ns.name, '-o', 'json', '--as=bob']);
    expect(seen.spec.worker.replicas).toBe(2);
  });
});

describe('the pod-spec admission policy', () => {
  beforeAll(async () => {
    await kubectl(['apply', '-f', '-'], {
      input: synthYaml((c) => new DaskPodSpecPolicy(c, 'policy', { name: POLICY, allowedServiceAccounts: ['default', 'dask-reader'], namespaceLabels: { 'kubernetes.io/metadata.name': ns.name } })),
    });
  });

  const withPodSpec = (name: string, edit: (spec: Record<string, any>) => void): Obj => {
    const c = seedCluster({ name, replicas: 0 });
    edit(c.spec.worker.spec);
    return c;
  };
  const applyResult = (obj: object) => kubectl(['apply', '-n', ns.name, '-f', '-'], { input: JSON.stringify(obj), allowFailure: true });

  test('refuses hostPath, privileged, host namespaces and other ServiceAccounts, with the field named; accepts the rest', async () => {
    // The API server loads a new policy asynchronously (a few seconds): wait, with server-side dry runs (admission
    // runs, nothing is stored), until it refuses the first bad object.
    const hostPath = withPodSpec('hostpath', (s) => { s.volumes = [{ name: 'root', hostPath: { path: '/' } }]; });
    await eventually(async () => {
      const r = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', '-'], { input: JSON.stringify(hostPath), allowFailure: true });
      expect(r.code).not.toBe(0);
    }, { timeoutMs: 60_000, describe: 'the policy in force' });
    const first = await applyResult(hostPath);
    expect(first.stderr).toContain(`ValidatingAdmissionPolicy '${POLICY}'`);
    expect(first.stderr).toContain('hostPath volumes are not allowed');
    const cases: [Obj, string][] = [
      [withPodSpec('privileged', (s) => { s.containers[0].securityContext = { privileged: true }; }), 'privileged containers are not allowed'],
      [withPodSpec('privinit', (s) => { s.initContainers = [{ name: 'init', image: 'x', securityContext: { privileged: true } }]; }), 'privileged containers are not allowed'],
      [withPodSpec('hostnet', (s) => { s.hostNetwork = true; }), 'host\'s network, PID or IPC'],
      [withPodSpec('hostpid', (s) => { s.hostPID = true; }), 'host\'s network, PID or IPC'],
      [withPodSpec('othersa', (s) => { s.serviceAccountName = 'ci-deployer'; }), 'only run as the ServiceAccounts default, dask-reader'],
    ];
    for (const [obj, message] of cases) {
      const r = await applyResult(obj);
      expect({ name: obj.metadata.name, code: r.code === 0 ? 0 : 1, refused: r.stderr.includes(message) }).toEqual({ name: obj.metadata.name, code: 1, refused: true });
    }
    // Scheduler templates and the other kinds are checked too.
    const badScheduler = seedCluster({ name: 'schedhost', replicas: 0 });
    badScheduler.spec.scheduler.spec.hostIPC = true;
    expect((await applyResult(badScheduler)).stderr).toContain('host\'s network, PID or IPC');
    const group = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskWorkerGroup', metadata: { name: 'alices-gpu' }, spec: { cluster: 'alices', worker: { replicas: 1, spec: { containers: [{ name: 'worker', image: 'x', securityContext: { privileged: true } }] } } } };
    expect((await applyResult(group)).stderr).toContain('privileged containers are not allowed');
    const job = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskJob', metadata: { name: 'nightly' }, spec: { job: { spec: { hostNetwork: true, containers: [{ name: 'job', image: 'x' }] } }, cluster: { spec: seedCluster().spec } } };
    expect((await applyResult(job)).stderr).toContain('host\'s network, PID or IPC');
    // Allowed: an allowed ServiceAccount, an emptyDir, unprivileged containers.
    const fine = withPodSpec('fine', (s) => { s.serviceAccountName = 'dask-reader'; s.volumes = [{ name: 'scratch', emptyDir: {} }]; s.containers[0].securityContext = { privileged: false, runAsNonRoot: true }; });
    const ok = await applyResult(fine);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    // Nothing refused was stored.
    const names = (await kubectlJson<{ items: Obj[] }>(['get', 'daskclusters', '-n', ns.name, '-o', 'json'])).items.map((c) => c.metadata.name);
    expect(names.filter((n) => ['hostpath', 'privileged', 'privinit', 'hostnet', 'hostpid', 'othersa', 'schedhost'].includes(n))).toEqual([]);
  });
});

describe('NetworkPolicies', () => {
  operator.it('are accepted with strict validation and select exactly the scheduler and the worker Pods the operator made', async () => {
    const yaml = synthYaml((c) => {
      const cluster = new DaskCluster(c, 'fenced', { workers: 2 });
      new DaskNetworkPolicy(c, 'fence', { cluster, allowFrom: [{ namespaceLabels: { team: 'notebooks' }, podLabels: { app: 'jupyter' } }] });
    }, ns.name);
    const r = await kubectl(['apply', '--validate=strict', '-f', '-'], { input: yaml, allowFailure: true });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    await eventually(async () => {
      expect(await workerPods(ns.name, 'fenced-default')).toHaveLength(2);
    }, { timeoutMs: 60_000, describe: 'the operator made 2 workers' });
    type Np = { spec: { podSelector: { matchLabels: Record<string, string> } } };
    const select = async (policy: string): Promise<string[]> => {
      const np = await kubectlJson<Np>(['get', 'networkpolicy', policy, '-n', ns.name, '-o', 'json']);
      const selector = Object.entries(np.spec.podSelector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
      return (await kubectlJson<{ items: Obj[] }>(['get', 'pods', '-n', ns.name, '-l', selector, '-o', 'json'])).items.map((p) => p.metadata.name).sort();
    };
    expect(await select('fenced-scheduler')).toEqual(['fenced-scheduler']);
    const workers = (await workerPods(ns.name, 'fenced-default')).map((p) => p.metadata.name).sort();
    expect(await select('fenced-workers')).toEqual(workers);
    // The scheduler policy's named ports are the scheduler container's.
    const pod = await kubectlJson<{ spec: { containers: { ports?: { name?: string }[] }[] } }>(['get', 'pod', 'fenced-scheduler', '-n', ns.name, '-o', 'json']);
    expect(pod.spec.containers[0].ports?.map((p) => p.name)).toEqual(expect.arrayContaining(['tcp-comm', 'http-dashboard']));
    await apply(ns.name, seedCluster({ name: 'unfenced', replicas: 0 })); // other clusters are not selected
    expect(await select('fenced-scheduler')).toEqual(['fenced-scheduler']);
  });
});
