/**
 * The CRDs and the DaskOperator install on the real API server: upstream-valid objects are accepted with kubectl's
 * strict field validation, bad input is rejected at apply time with our messages, the operator runs with exactly
 * the RBAC the DaskOperator construct grants (it is started with the ServiceAccount's own token), and an install
 * with every pod-level prop, a PodDisruptionBudget and a NetworkPolicy is accepted and comes up on kwok.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { App, Chart, Duration, Size } from 'cdk8s';
import { stringify } from 'yaml';
import {
  DaskAutoscaler, DaskCluster, DaskJob, DaskOperator, DaskWorkerGroup, EnvValue, NodeSelectorOperator, ProfileType, TaintEffect, TolerationOperator, Volume,
} from '../../lib/index';
import { dropNulls } from '../../lib/validation/crd-schema';
import { loadYaml } from '../support/yaml';
import { eventually, FAKE_NODE_NAME, itOnTier, kubectl, kubectlJson, testCluster, withNamespace } from './support';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(180_000);
const ns = withNamespace('install');
const yamlOf = (docs: object[]): string => docs.map((d) => stringify(d)).join('---\n');

describe('CRDs on the API server', () => {
  test('the seed\'s YAML and upstream-valid objects (int-or-string both ways) pass strict server-side validation', async () => {
    const docs = [...loadYaml('test/fixtures/seed/my-cluster.yaml'), ...loadYaml('test/fixtures/seed/autoscaler.yaml'), ...loadYaml('test/fixtures/compat/int-or-string.yaml')];
    const r = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', ns.name, '-f', '-'], { input: yamlOf(docs), allowFailure: true });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.trim().split('\n')).toHaveLength(docs.length);
  });

  test('what the API server stores: defaults applied, nulls dropped, new pod fields kept', async () => {
    const seed = loadYaml('test/fixtures/seed/my-cluster.yaml')[0] as Record<string, any>;
    seed.metadata.name = 'stored';
    delete seed.spec.worker.replicas;
    seed.spec.worker.spec.hostUsers = false; // newer than upstream's 1.21 schema, which pruned it
    seed.spec.worker.spec.containers[0].ports = [{ containerPort: 9000, name: 'nanny' }];
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: stringify(seed) });
    const stored = await kubectlJson<Record<string, any>>(['get', 'daskcluster', 'stored', '-n', ns.name, '-o', 'json']);
    expect(stored.spec.worker.replicas).toBe(1);
    expect(stored.spec.idleTimeout).toBe(0);
    expect(stored.spec.worker.spec.hostUsers).toBe(false);
    expect(stored.spec.worker.spec.containers[0].ports[0].protocol).toBe('TCP');
    expect(stored.spec.worker.spec.containers[0].resources).toBeUndefined();
    await kubectl(['delete', 'daskcluster', 'stored', '-n', ns.name, '--wait=false']);
  });

  test.each([
    // CEL rejections name the field (fieldPath), not `<nil>`.
    ['a cluster name that is a DNS subdomain but not an RFC 1123 label', (o: any) => { o.metadata.name = 'my.cluster'; }, /metadata\.name: Invalid value: .*DaskCluster name must be an RFC 1123 label/],
    ['a cluster name over 53 characters', (o: any) => { o.metadata.name = 'a'.repeat(54); }, /metadata\.name: Invalid value: .*DaskCluster name must be at most 53 characters/],
    ['negative replicas', (o: any) => { o.spec.worker.replicas = -1; }, /spec.worker.replicas: Invalid value: -1: spec.worker.replicas in body should be greater than or equal to 0/],
    ['a typo in a pod field', (o: any) => { o.spec.worker.spec.containers[0].imagePullPolcy = 'Always'; }, /unknown field "spec.worker.spec.containers\[0\].imagePullPolcy"/],
    ['a malformed quantity', (o: any) => { o.spec.worker.spec.containers[0].resources = { limits: { memory: '16 GB' } }; }, /spec.worker.spec.containers\[0\].resources.limits.memory in body should match/],
  ])('rejects %s at apply time', async (_what, mutate, message) => {
    const o = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as any;
    mutate(o);
    const r = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', '-'], { input: stringify(o), allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('<nil>');
  });

  test('rejects an autoscaler with minimum > maximum (CEL rule)', async () => {
    const o = loadYaml('test/fixtures/seed/autoscaler.yaml')[0] as any;
    o.spec.minimum = 10;
    o.spec.maximum = 2;
    const r = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', '-'], { input: stringify(o), allowFailure: true });
    expect(r.stderr).toMatch(/spec\.minimum: Invalid value: .*minimum must be less than or equal to maximum/);
    expect(r.stderr).not.toContain('<nil>');
  });

  test('printer columns and short names work with kubectl', async () => {
    const r = await kubectl(['get', 'dsk,daskworkers,djb,daskautoscalers', '-n', ns.name]);
    expect(r.code).toBe(0);
    const explain = await kubectl(['explain', 'daskcluster.spec.worker.replicas']);
    expect(explain.stdout).toMatch(/Number of worker Pods/);
  });
});

describe('DaskOperator install (RBAC is enough, and no more)', () => {
  const operatorNs = 'dask-operator';
  let op: OperatorProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    const app = new App();
    new DaskOperator(new Chart(app, 'op'), 'operator', { installCrds: false });
    await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dask-operator-sa-'));
  });

  afterAll(async () => {
    await op?.dispose(Boolean((expect.getState() as { numFailingTests?: number }).numFailingTests));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    await kubectl(['delete', 'namespace', operatorNs, '--wait=false'], { allowFailure: true });
  });

  test('the operator running as the dask-operator ServiceAccount reconciles a cluster', async () => {
    const token = (await kubectl(['create', 'token', 'dask-operator', '-n', operatorNs, '--duration=1h'])).stdout.trim();
    const admin = fs.readFileSync(testCluster().kubeconfig, 'utf8');
    const server = /server:\s*(\S+)/.exec(admin)?.[1];
    const ca = /certificate-authority-data:\s*(\S+)/.exec(admin)?.[1];
    expect(server && ca).toBeTruthy();
    const kubeconfig = path.join(dir, 'sa.kubeconfig');
    fs.writeFileSync(kubeconfig, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'sa',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': ca } }],
      users: [{ name: 'sa', user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'c', user: 'sa', namespace: operatorNs } }],
    }));
    await ensureOperatorBuilt();
    op = new OperatorProcess({ namespaces: [ns.name], args: [`--kubeconfig=${kubeconfig}`, '--leader-elect', `--leader-election-namespace=${operatorNs}`, '--leader-election-id=install-test'] });
    op.start();

    const app = new App();
    new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'rbac-check', { workers: 2 });
    await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
    const status = await eventually(async () => {
      const c = await kubectlJson<{ status?: { phase?: string; readyReplicas?: number } }>(['get', 'daskcluster', 'rbac-check', '-n', ns.name, '-o', 'json']);
      if (c.status?.phase !== 'Running' || c.status.readyReplicas !== 2) throw new Error(`status ${JSON.stringify(c.status)}`);
      return c.status;
    }, { timeoutMs: 60_000, describe: 'cluster Running with 2 ready workers, reconciled by the ServiceAccount' });
    expect(status.phase).toBe('Running');
    // It could take the Lease and write Events with its own permissions.
    const lease = await kubectlJson<{ spec?: { holderIdentity?: string } }>(['get', 'lease', 'install-test', '-n', operatorNs, '-o', 'json']);
    expect(lease.spec?.holderIdentity).toBeTruthy();
    const events = await kubectlJson<{ items: { reason: string }[] }>(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.name=rbac-check', '-o', 'json']);
    expect(events.items.map((e) => e.reason)).toContain('SchedulerCreated');
    expect(op.log()).not.toMatch(/forbidden/i);
  });

  test('with the same token it scales, adopts, autoscales, runs a DaskJob, deletes its cluster, and deletes a DaskJob past its TTL', async () => {
    await kubectl(['scale', 'daskcluster', 'rbac-check', '-n', ns.name, '--replicas=1']); // patch the group, delete a Pod
    const app = new App();
    const chart = new Chart(app, 'more', { namespace: ns.name });
    new DaskWorkerGroup(chart, 'extra', { cluster: DaskCluster.fromClusterName(chart, 'rbac-check-ref', 'rbac-check'), name: 'rbac-check-extra', workers: 1 }); // adoption patch
    new DaskAutoscaler(chart, 'scaler', { cluster: DaskCluster.fromClusterName(chart, 'rbac-check-ref2', 'rbac-check'), name: 'rbac-check', minimum: 1, maximum: 3 }); // adoption patch
    new DaskJob(chart, 'rbac-job', { runner: { args: ['true'], metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '1s' } } }, cluster: { workers: 1 } });
    new DaskJob(chart, 'rbac-ttl', { runner: { args: ['true'], metadata: { annotations: { 'fake.cdk8s-dask.io/run-for': '1s' } } }, cluster: { workers: 0 }, ttlAfterFinished: Duration.seconds(1) });
    await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
    await eventually(async () => {
      const pods = await kubectlJson<{ items: { metadata: { name: string } }[] }>(['get', 'pods', '-n', ns.name, '-l', 'dask.org/cluster-name=rbac-check,dask.org/component=worker', '-o', 'json']);
      expect(pods.items.map((p) => p.metadata.name.replace(/-worker-[0-9a-f]{10}$/, '')).sort()).toEqual(['rbac-check-default', 'rbac-check-extra']);
      const scaler = await kubectlJson<{ metadata: { ownerReferences?: { name: string }[] } }>(['get', 'daskautoscaler', 'rbac-check', '-n', ns.name, '-o', 'json']);
      expect(scaler.metadata.ownerReferences?.[0]?.name).toBe('rbac-check');
      const job = await kubectlJson<{ status?: { jobStatus?: string } }>(['get', 'daskjob', 'rbac-job', '-n', ns.name, '-o', 'json']);
      expect(job.status?.jobStatus).toBe('Successful');
      expect((await kubectl(['get', 'daskcluster', 'rbac-job', '-n', ns.name], { allowFailure: true })).code).not.toBe(0);
      expect((await kubectl(['get', 'daskjob', 'rbac-ttl', '-n', ns.name], { allowFailure: true })).code).not.toBe(0);
    }, { timeoutMs: 90_000, describe: 'scale-down, adoption, DaskJob success, cluster deletion and a DaskJob\'s TTL deletion by the ServiceAccount' });
    expect(op?.log()).not.toMatch(/forbidden/i);
  });

  test('scheduler Pods get the HTTP API route switched on, unless the user configured the routes', async () => {
    const routesOf = async (pod: string): Promise<string | undefined> => {
      const p = await kubectlJson<{ spec: { containers: { env?: { name: string; value?: string }[] }[] } }>(['get', 'pod', pod, '-n', ns.name, '-o', 'json']);
      return p.spec.containers[0].env?.find((e) => e.name === 'DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES')?.value;
    };
    const routes = JSON.parse((await routesOf('rbac-check-scheduler')) ?? '[]') as string[];
    expect(routes).toContain('distributed.http.scheduler.api');
    expect(routes).toContain('distributed.http.health');
    const app = new App();
    new DaskCluster(new Chart(app, 'c', { namespace: ns.name }), 'own-routes', { workers: 0, env: { DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES: '["distributed.http.health"]' } });
    await kubectl(['apply', '-f', '-'], { input: app.synthYaml() });
    const own = await eventually(() => routesOf('own-routes-scheduler'), { timeoutMs: 30_000, describe: 'scheduler Pod own-routes-scheduler' });
    expect(own).toBe('["distributed.http.health"]');
  });

  test.each([
    ['get', 'secrets'], ['create', 'deployments.apps'], ['update', 'pods'], ['delete', 'nodes'], ['create', 'leases.coordination.k8s.io', '-n', 'default'],
    ['delete', 'services'], ['patch', 'daskjobs.kubernetes.dask.org'], ['update', 'daskclusters.kubernetes.dask.org/status'],
    ['create', 'workloads.kueue.x-k8s.io'],
  ])('the ServiceAccount may not %s %s', async (...args: string[]) => {
    const r = await kubectl(['auth', 'can-i', ...args, '--as=system:serviceaccount:dask-operator:dask-operator'], { allowFailure: true });
    expect(r.stdout.trim()).toBe('no');
  });
});

describe('DaskOperator with the upstream chart\'s values, a PodDisruptionBudget and a NetworkPolicy', () => {
  // Its own namespace, watched alone, no user roles: nothing cluster-scoped collides with the install above.
  const opNs = withNamespace('operator-parity');
  const priorityClass = `cdk8s-dask-parity-${randomBytes(3).toString('hex')}`;
  let yaml = '';

  beforeAll(async () => {
    await kubectl(['apply', '-f', '-'], {
      input: yamlOf([
        { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: priorityClass }, value: 100_000, description: 'install.test.ts' },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'operator-plugins', namespace: opNs.name }, data: { 'index.js': 'module.exports = {};' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry', namespace: opNs.name }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } },
      ]),
    });
    const app = new App();
    new DaskOperator(new Chart(app, 'op'), 'operator', {
      namespace: opNs.name,
      createNamespace: false,
      installCrds: false,
      watchNamespaces: [opNs.name],
      userRoles: false,
      replicas: 2,
      imagePullSecrets: ['registry'],
      serviceAccountName: 'dask-ops',
      serviceAccountAnnotations: { 'example.com/role': 'dask-operator' },
      podMetadata: { labels: { team: 'platform' }, annotations: { 'example.com/owner': 'platform' } },
      podSecurityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: ProfileType.RUNTIME_DEFAULT } },
      containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
      volumes: [Volume.fromConfigMap('plugins', 'operator-plugins', { defaultMode: 0o444 }), Volume.fromEmptyDir('cache', { sizeLimit: Size.mebibytes(16) })],
      volumeMounts: [{ name: 'plugins', mountPath: '/plugins', readOnly: true }, { name: 'cache', mountPath: '/cache' }],
      env: { HTTPS_PROXY: 'http://proxy.example:3128' },
      envValues: { NODE_NAME: EnvValue.fromFieldRef('spec.nodeName') },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'platform', effect: TaintEffect.NO_SCHEDULE }],
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'type', operator: NodeSelectorOperator.IN, values: ['kwok'] }] }] } },
        // Preferred, not required: the kwok tier has one node, and both replicas must fit on it.
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } } }] },
      },
      priorityClassName: priorityClass,
      probeTimeout: Duration.seconds(5),
      workerCreationBatchSize: 20,
      networkPolicy: {
        metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }, { ipBlock: { cidr: '10.0.0.0/8' } }],
        apiServerCidrs: ['127.0.0.1/32'],
      },
    });
    yaml = app.synthYaml();
  });

  afterAll(async () => {
    await kubectl(['delete', 'priorityclass', priorityClass, '--ignore-not-found', '--wait=false'], { allowFailure: true });
  });

  test('every object passes strict server-side validation (dry run)', async () => {
    const r = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: yaml, allowFailure: true });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'deployment.apps/dask-operator created (server dry run)',
      'networkpolicy.networking.k8s.io/dask-operator created (server dry run)',
      'poddisruptionbudget.policy/dask-operator created (server dry run)',
      'role.rbac.authorization.k8s.io/dask-operator created (server dry run)',
      'role.rbac.authorization.k8s.io/dask-operator-leader-election created (server dry run)',
      'rolebinding.rbac.authorization.k8s.io/dask-operator created (server dry run)',
      'rolebinding.rbac.authorization.k8s.io/dask-operator-leader-election created (server dry run)',
      'service/dask-operator-metrics created (server dry run)',
      'serviceaccount/dask-ops created (server dry run)',
    ]);
  });

  itOnTier('full')('applied, the Deployment becomes available (2 replicas on kwok) with the props in its Pods, and the budget allows one disruption', async () => {
    await kubectl(['apply', '--validate=strict', '-f', '-'], { input: yaml });
    interface Deploy { status?: { availableReplicas?: number; readyReplicas?: number; conditions?: { type: string; status: string }[] } }
    const deploy = await eventually(
      () => kubectlJson<Deploy>(['get', 'deployment', 'dask-operator', '-n', opNs.name, '-o', 'json']),
      { timeoutMs: 90_000, describe: 'deployment dask-operator Available with 2 replicas', until: (d) => d.status?.availableReplicas === 2 && d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True') === true },
    );
    expect(deploy.status?.readyReplicas).toBe(2);

    type PodJson = { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, any>; status: { phase: string } };
    const pods = (await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '-n', opNs.name, '-l', 'app.kubernetes.io/name=dask-operator', '-o', 'json'])).items;
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Running');
      expect(pod.spec.nodeName).toBe(FAKE_NODE_NAME);
      expect(pod.metadata.labels.team).toBe('platform');
      expect(pod.metadata.annotations?.['example.com/owner']).toBe('platform');
      expect(pod.spec.serviceAccountName).toBe('dask-ops');
      expect(pod.spec.priorityClassName).toBe(priorityClass);
      expect(pod.spec.priority).toBe(100_000); // resolved by the Priority admission plugin
      expect(pod.spec.imagePullSecrets).toEqual([{ name: 'registry' }]);
      expect(pod.spec.tolerations).toEqual(expect.arrayContaining([{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }]));
      expect(pod.spec.securityContext.fsGroup).toBe(1000);
      expect(pod.spec.volumes.map((v: { name: string }) => v.name)).toEqual(expect.arrayContaining(['tmp', 'plugins', 'cache']));
      const c = pod.spec.containers[0];
      expect(c.args).toEqual(expect.arrayContaining(['--leader-elect', '--create-batch-size=20', `--namespaces=${opNs.name}`]));
      expect(c.livenessProbe.timeoutSeconds).toBe(5);
      expect(c.env.map((e: { name: string }) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'HTTPS_PROXY', 'NODE_NAME']);
    }

    // The disruption controller (kube-controller-manager) counts both Pods healthy and allows one eviction at a time.
    interface Pdb { status?: { currentHealthy?: number; desiredHealthy?: number; expectedPods?: number; disruptionsAllowed?: number } }
    const pdb = await eventually(
      () => kubectlJson<Pdb>(['get', 'poddisruptionbudget', 'dask-operator', '-n', opNs.name, '-o', 'json']),
      { timeoutMs: 60_000, describe: 'PodDisruptionBudget status: 2 healthy, 1 disruption allowed', until: (p) => p.status?.expectedPods === 2 && p.status.currentHealthy === 2 },
    );
    expect(pdb.status).toMatchObject({ expectedPods: 2, currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1 });

    // The NetworkPolicy is stored as written (no network plugin enforces it here: kwok Pods have no network).
    const np = await kubectlJson<{ spec: { podSelector: unknown; ingress: { from: unknown[] }[]; egress: { to?: unknown[] }[] } }>(['get', 'networkpolicy', 'dask-operator', '-n', opNs.name, '-o', 'json']);
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/instance': 'dask-operator', 'app.kubernetes.io/name': 'dask-operator' } });
    expect(np.spec.ingress[0].from).toHaveLength(2);
    expect(np.spec.egress[1].to).toEqual([{ ipBlock: { cidr: '127.0.0.1/32' } }]);
    const sa = await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(['get', 'serviceaccount', 'dask-ops', '-n', opNs.name, '-o', 'json']);
    expect(sa.metadata.annotations?.['example.com/role']).toBe('dask-operator');
  });
});
