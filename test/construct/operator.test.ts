import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import {
  DaskOperator, type DaskOperatorProps, EmptyDirMedium, EnvValue, FsGroupChangePolicy, LabelSelectorOperator, LogLevel, NodeSelectorOperator, ProfileType,
  TaintEffect, TolerationOperator, Volume,
} from '../../lib/index';
import { FLAGS, parseConfig } from '../../operator/config';
import { KUEUE_CLUSTER_RULES, KUEUE_RULES, LEADER_ELECTION_RULES, OPERATOR_RULES } from '../../lib/operator-rbac';

type Json = Record<string, any>;
const synth = (props: ConstructorParameters<typeof DaskOperator>[2] = {}, namespace?: string): Json[] => {
  const chart = new Chart(new App(), 'install', namespace ? { namespace } : {});
  new DaskOperator(chart, 'operator', props);
  return Testing.synth(chart) as Json[];
};
const byKind = (objs: Json[], kind: string): Json[] => objs.filter((o) => o.kind === kind);
const deploymentOf = (objs: Json[]): Json => byKind(objs, 'Deployment')[0];
const podOf = (objs: Json[]): Json => deploymentOf(objs).spec.template.spec;
function synthError(props: DaskOperatorProps): string {
  try {
    synth(props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected synth to fail');
}

describe('DaskOperator', () => {
  test('installs the four CRDs, namespace, service account, RBAC, deployment and metrics service', () => {
    const objs = synth();
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'CustomResourceDefinition/daskclusters.kubernetes.dask.org',
      'CustomResourceDefinition/daskworkergroups.kubernetes.dask.org',
      'CustomResourceDefinition/daskautoscalers.kubernetes.dask.org',
      'CustomResourceDefinition/daskjobs.kubernetes.dask.org',
      'Namespace/dask-operator',
      'ServiceAccount/dask-operator',
      'ClusterRole/dask-operator',
      'ClusterRoleBinding/dask-operator',
      'ClusterRole/dask-operator-view',
      'ClusterRole/dask-operator-edit',
      'Role/dask-operator-leader-election',
      'RoleBinding/dask-operator-leader-election',
      'Deployment/dask-operator',
      'Service/dask-operator-metrics',
    ]);
  });

  test('the CRDs carry the label the README tells users to wait on', () => {
    for (const crd of byKind(synth(), 'CustomResourceDefinition')) expect(crd.metadata.labels['app.kubernetes.io/part-of']).toBe('cdk8s-dask');
  });

  test('cluster-scoped objects carry no namespace, even in a namespaced chart', () => {
    const objs = synth({}, 'some-namespace');
    for (const kind of ['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Namespace']) {
      for (const o of byKind(objs, kind)) expect(o.metadata.namespace).toBeUndefined();
    }
    expect(byKind(objs, 'Deployment')[0].metadata.namespace).toBe('dask-operator');
  });

  // Whether OPERATOR_RULES are what the operator's code uses is test/unit/dask/rbac.test.ts; here: the construct carries them.
  test('RBAC: the ClusterRole carries the operator rules; leases only in its own namespace', () => {
    const objs = synth();
    expect(byKind(objs, 'ClusterRole')[0].rules).toEqual(OPERATOR_RULES);
    const verbs = Object.fromEntries(OPERATOR_RULES.flatMap((r) => r.resources.map((res) => [res, r.verbs])));
    expect(verbs.pods).not.toContain('update');
    expect(verbs.secrets).toBeUndefined();
    expect(JSON.stringify(OPERATOR_RULES)).not.toContain('"*"');
    const leader = byKind(objs, 'Role')[0];
    expect(leader.metadata.namespace).toBe('dask-operator');
    expect(leader.rules).toEqual(LEADER_ELECTION_RULES);
  });

  test('namespace-scoped install: a Role and RoleBinding per watched namespace, and --namespaces', () => {
    const objs = synth({ watchNamespaces: ['team-b', 'team-a'] });
    // Only the aggregated user roles, which grant nothing until bound (the operator's own rights are namespaced).
    expect(byKind(objs, 'ClusterRole').map((r) => r.metadata.name)).toEqual(['dask-operator-view', 'dask-operator-edit']);
    const roles = byKind(objs, 'Role').filter((r) => r.metadata.name === 'dask-operator');
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['team-a', 'team-b']);
    const bindings = byKind(objs, 'RoleBinding').filter((r) => r.metadata.name === 'dask-operator');
    expect(bindings.map((b) => [b.metadata.namespace, b.subjects[0].namespace])).toEqual([['team-a', 'dask-operator'], ['team-b', 'dask-operator']]);
    const args: string[] = byKind(objs, 'Deployment')[0].spec.template.spec.containers[0].args;
    expect(args).toContain('--namespaces=team-a,team-b');
  });

  test('extraRules (for plugins) are appended to the operator rules, cluster-wide or per watched namespace', () => {
    const configmaps = { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] };
    const objs = synth({ extraRules: [configmaps], plugins: ['./examples/plugins/scheduler-info'] });
    expect(byKind(objs, 'ClusterRole')[0].rules).toEqual([...OPERATOR_RULES, configmaps]);
    expect(byKind(objs, 'Deployment')[0].spec.template.spec.containers[0].args).toContain('--plugins=./examples/plugins/scheduler-info');
    const scoped = synth({ watchNamespaces: ['team-a'], extraRules: [configmaps] });
    const role = byKind(scoped, 'Role').find((r) => r.metadata.name === 'dask-operator');
    expect(role?.rules).toEqual([...OPERATOR_RULES, configmaps]);
    // the leader-election Role and the default install stay exactly as they were
    expect(byKind(scoped, 'Role').find((r) => r.metadata.name === 'dask-operator-leader-election')?.rules).toEqual(LEADER_ELECTION_RULES);
    expect(byKind(synth(), 'ClusterRole')[0].rules).toEqual(OPERATOR_RULES);
  });

  test('kueue: --kueue and the Kueue rules, when enabled; a ClusterRole for the cluster-scoped reads of a namespaced install', () => {
    const objs = synth({ kueue: true });
    expect(byKind(objs, 'ClusterRole')[0].rules).toEqual([...OPERATOR_RULES, ...KUEUE_RULES, ...KUEUE_CLUSTER_RULES]);
    expect(byKind(objs, 'Deployment')[0].spec.template.spec.containers[0].args).toContain('--kueue');
    const scoped = synth({ kueue: true, watchNamespaces: ['team-a'] });
    expect(byKind(scoped, 'Role').find((r) => r.metadata.name === 'dask-operator')?.rules).toEqual([...OPERATOR_RULES, ...KUEUE_RULES]);
    expect(byKind(scoped, 'ClusterRole').filter((r) => r.metadata.name === 'dask-operator-kueue').map((r) => r.rules)).toEqual([KUEUE_CLUSTER_RULES]);
    expect(byKind(synth({ kueue: true, watchNamespaces: ['team-a'], userRoles: false }), 'ClusterRole').map((r) => r.metadata.name)).toEqual(['dask-operator-kueue']);
    expect(byKind(scoped, 'ClusterRoleBinding').map((b) => b.roleRef.name)).toEqual(['dask-operator-kueue']);
    expect(byKind(synth(), 'Deployment')[0].spec.template.spec.containers[0].args).not.toContain('--kueue');
  });

  test('deployment: non-root, read-only root fs, token mounted, probes, resources', () => {
    const deploy = byKind(synth({ replicas: 2, image: 'example/op:1', logLevel: LogLevel.DEBUG, plugins: ['@acme/dask-plugin'] }), 'Deployment')[0];
    const pod = deploy.spec.template.spec;
    const c = pod.containers[0];
    expect(deploy.spec.replicas).toBe(2);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe('dask-operator');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c.image).toBe('example/op:1');
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(c.args).toEqual(expect.arrayContaining(['--log-level=debug', '--leader-elect', '--leader-election-namespace=dask-operator', '--plugins=@acme/dask-plugin']));
  });

  test('installCrds: false leaves CRDs out', () => {
    expect(byKind(synth({ installCrds: false }), 'CustomResourceDefinition')).toHaveLength(0);
  });

  test('snapshot (without the CRD bodies, which schema tests cover)', () => {
    const objs = synth().filter((o) => o.kind !== 'CustomResourceDefinition');
    expect(objs).toMatchSnapshot();
  });
});

describe('DaskOperator: the upstream chart\'s values, as props', () => {
  test('image pull secrets, node selector, tolerations, affinity and priority class go into the Pod spec', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/arch', operator: NodeSelectorOperator.IN, values: ['amd64', 'arm64'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'pool', operator: NodeSelectorOperator.EXISTS }] } }],
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100,
          podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } },
        }],
      },
    };
    const pod = podOf(synth({
      imagePullSecrets: ['registry-a', 'registry-b'],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [
        { key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'platform', effect: TaintEffect.NO_SCHEDULE },
        { key: 'node.kubernetes.io/unreachable', operator: TolerationOperator.EXISTS, effect: TaintEffect.NO_EXECUTE, tolerationSeconds: 30 },
      ],
      affinity,
      priorityClassName: 'platform-critical',
    }));
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    ]);
    expect(pod.affinity).toEqual(affinity);
    expect(pod.priorityClassName).toBe('platform-critical');
    // Unset: the fields are absent, not empty.
    const plain = podOf(synth());
    for (const field of ['imagePullSecrets', 'nodeSelector', 'tolerations', 'affinity', 'priorityClassName']) expect(plain[field]).toBeUndefined();
  });

  test('service account: name (Pod and every RBAC subject), annotations, or an existing one (createServiceAccount: false)', () => {
    const objs = synth({ serviceAccountName: 'dask-ops', serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/dask' }, kueue: true, watchNamespaces: ['team-a'] });
    const [sa] = byKind(objs, 'ServiceAccount');
    expect(sa.metadata).toMatchObject({ name: 'dask-ops', namespace: 'dask-operator', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/dask' } });
    expect(podOf(objs).serviceAccountName).toBe('dask-ops');
    const bindings = [...byKind(objs, 'RoleBinding'), ...byKind(objs, 'ClusterRoleBinding')];
    expect(bindings).toHaveLength(3); // team-a, leader election, the Kueue cluster-scoped reads
    for (const b of bindings) expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'dask-ops', namespace: 'dask-operator' }]);
    const c = new Chart(new App(), 'c');
    const op = new DaskOperator(c, 'op', { createServiceAccount: false, serviceAccountName: 'made-elsewhere' });
    const existing = Testing.synth(c) as Json[];
    expect(byKind(existing, 'ServiceAccount')).toEqual([]);
    expect(op.serviceAccount).toBeUndefined();
    expect(op.serviceAccountName).toBe('made-elsewhere');
    expect(podOf(existing).serviceAccountName).toBe('made-elsewhere');
    expect(byKind(existing, 'ClusterRoleBinding')[0].subjects[0].name).toBe('made-elsewhere');
    expect(byKind(synth(), 'ServiceAccount')[0].metadata.annotations).toBeUndefined();
  });

  test('createRbac: false leaves the operator\'s Roles, ClusterRoles and bindings out (cluster-wide, namespaced, Kueue, leader election); userRoles is its own switch', () => {
    for (const props of [{}, { watchNamespaces: ['team-a'] }, { kueue: true, watchNamespaces: ['team-a'] }]) {
      const objs = synth({ ...props, createRbac: false });
      expect(objs.filter((o) => /Role/.test(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterRole/dask-operator-view', 'ClusterRole/dask-operator-edit']);
      expect(objs.map((o) => o.kind)).toContain('Deployment');
      expect(synth({ ...props, createRbac: false, userRoles: false }).filter((o) => /Role/.test(o.kind))).toEqual([]);
    }
  });

  test('pod labels and annotations land on the Pod template only, next to the construct\'s labels', () => {
    const objs = synth({ podMetadata: { labels: { team: 'platform' }, annotations: { 'prometheus.io/scrape': 'true' } } });
    const tpl = deploymentOf(objs).spec.template.metadata;
    expect(tpl.labels).toEqual({ team: 'platform', 'app.kubernetes.io/name': 'dask-operator', 'app.kubernetes.io/instance': 'dask-operator', 'app.kubernetes.io/part-of': 'cdk8s-dask', 'app.kubernetes.io/version': '0.1.0' });
    expect(tpl.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(deploymentOf(objs).metadata.labels.team).toBeUndefined();
    expect(deploymentOf(objs).metadata.annotations).toBeUndefined();
    expect(deploymentOf(synth()).spec.template.metadata.annotations).toBeUndefined();
  });

  test('pod and container security contexts replace the defaults as a whole', () => {
    const pod = podOf(synth({
      podSecurityContext: { runAsNonRoot: true, fsGroup: 2000, fsGroupChangePolicy: FsGroupChangePolicy.ON_ROOT_MISMATCH, supplementalGroups: [3000], seccompProfile: { type: ProfileType.RUNTIME_DEFAULT } },
      containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seLinuxOptions: { level: 's0:c123,c456' } },
    }));
    // e.g. OpenShift's restricted SCC assigns the UID: no runAsUser / runAsGroup.
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch', supplementalGroups: [3000], seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seLinuxOptions: { level: 's0:c123,c456' } });
  });

  test('volumes and mounts come after the construct\'s own tmp; each Volume factory writes its core/v1 source', () => {
    const pod = podOf(synth({
      volumes: [
        Volume.fromConfigMap('plugins', 'dask-operator-plugins', { items: { 'index.js': 'index.js' }, defaultMode: 0o444 }),
        Volume.fromSecret('ca', 'corporate-ca', { optional: true }),
        Volume.fromEmptyDir('cache', { medium: EmptyDirMedium.MEMORY, sizeLimit: Size.mebibytes(64) }),
        Volume.fromEmptyDir('scratch'),
        Volume.fromPersistentVolumeClaim('state', 'operator-state', { readOnly: true }),
      ],
      volumeMounts: [
        { name: 'plugins', mountPath: '/plugins', readOnly: true },
        { name: 'ca', mountPath: '/etc/ssl/corporate/ca.crt', subPath: 'ca.crt', readOnly: true },
        { name: 'cache', mountPath: '/cache' },
      ],
    }));
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'plugins', configMap: { name: 'dask-operator-plugins', items: [{ key: 'index.js', path: 'index.js' }], defaultMode: 0o444 } },
      { name: 'ca', secret: { secretName: 'corporate-ca', optional: true } },
      { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'scratch', emptyDir: {} },
      { name: 'state', persistentVolumeClaim: { claimName: 'operator-state', readOnly: true } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'plugins', mountPath: '/plugins', readOnly: true },
      { name: 'ca', mountPath: '/etc/ssl/corporate/ca.crt', subPath: 'ca.crt', readOnly: true },
      { name: 'cache', mountPath: '/cache' },
    ]);
  });

  test('extra env: env, then envValues (Secrets, ConfigMaps, fields), after the construct\'s POD_NAME and POD_NAMESPACE', () => {
    const env = podOf(synth({ env: { HTTPS_PROXY: 'http://proxy:3128' }, envValues: { TOKEN: EnvValue.fromSecret('s', 'token'), NODE: EnvValue.fromFieldRef('spec.nodeName') } })).containers[0].env;
    expect(env.map((e: Json) => e.name)).toEqual(['POD_NAME', 'POD_NAMESPACE', 'HTTPS_PROXY', 'TOKEN', 'NODE']);
    expect(env[3]).toEqual({ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } });
    expect(env[4]).toEqual({ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
  });

  test('probe timeout on both probes; unset leaves Kubernetes\' default', () => {
    const c = podOf(synth({ probeTimeout: Duration.seconds(5) })).containers[0];
    expect([c.livenessProbe.timeoutSeconds, c.readinessProbe.timeoutSeconds]).toEqual([5, 5]);
    expect(podOf(synth()).containers[0].livenessProbe.timeoutSeconds).toBeUndefined();
  });

  test('worker creation batch size: --create-batch-size, by default the operator\'s own default', () => {
    const argsOf = (props: DaskOperatorProps): string[] => podOf(synth(props)).containers[0].args;
    expect(argsOf({ workerCreationBatchSize: 10 })).toContain('--create-batch-size=10');
    expect(argsOf({})).toContain(`--create-batch-size=${FLAGS.find((f) => f.name === 'create-batch-size')?.default}`);
  });
  test('client-side rate limit: --kube-api-qps / --kube-api-burst, by default the operator\'s own defaults', () => {
    const argsOf = (props: DaskOperatorProps): string[] => podOf(synth(props)).containers[0].args;
    expect(argsOf({ kubeApiQps: 2.5, kubeApiBurst: 5 })).toEqual(expect.arrayContaining(['--kube-api-qps=2.5', '--kube-api-burst=5']));
    const flag = (name: string) => FLAGS.find((f) => f.name === name)?.default;
    expect(argsOf({})).toEqual(expect.arrayContaining([`--kube-api-qps=${flag('kube-api-qps')}`, `--kube-api-burst=${flag('kube-api-burst')}`]));
  });

  test('replicas with leader election: every replica runs with --leader-elect (standbys wait for the Lease)', () => {
    for (const replicas of [1, 2, 3]) {
      const d = deploymentOf(synth({ replicas }));
      expect(d.spec.replicas).toBe(replicas);
      expect(d.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--leader-elect', '--leader-election-namespace=dask-operator']));
    }
  });
});

describe('DaskOperator: PodDisruptionBudget', () => {
  test('created with more than one replica: maxUnavailable 1, selecting the operator Pods, unhealthy Pods always evictable', () => {
    const [pdb] = byKind(synth({ replicas: 2 }), 'PodDisruptionBudget');
    expect(pdb).toEqual({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'dask-operator', namespace: 'dask-operator', labels: expect.objectContaining({ 'app.kubernetes.io/name': 'dask-operator' }) },
      spec: { maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator', 'app.kubernetes.io/instance': 'dask-operator' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
    });
    expect(pdb.spec.selector.matchLabels).toEqual(deploymentOf(synth({ replicas: 2 })).spec.selector.matchLabels);
  });

  test('not with one replica (or zero), nor when switched off; on request with 2', () => {
    expect(byKind(synth(), 'PodDisruptionBudget')).toEqual([]);
    expect(byKind(synth({ replicas: 0 }), 'PodDisruptionBudget')).toEqual([]);
    expect(byKind(synth({ replicas: 3, podDisruptionBudget: false }), 'PodDisruptionBudget')).toEqual([]);
    const c = new Chart(new App(), 'c');
    const op = new DaskOperator(c, 'op', { replicas: 2, podDisruptionBudget: true });
    expect(op.podDisruptionBudget).toBeDefined();
  });
});

describe('DaskOperator: NetworkPolicy', () => {
  const npOf = (props: DaskOperatorProps): Json => byKind(synth(props), 'NetworkPolicy')[0];
  const egress = (np: Json) => np.spec.egress;

  test('opt-in: none by default', () => {
    expect(byKind(synth(), 'NetworkPolicy')).toEqual([]);
  });

  test('defaults: metrics from any Pod in the cluster; egress to DNS, the API server (443, 6443) and schedulers in every namespace', () => {
    const np = npOf({ networkPolicy: {} });
    expect(np.metadata).toMatchObject({ name: 'dask-operator', namespace: 'dask-operator' });
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'dask-operator', 'app.kubernetes.io/instance': 'dask-operator' } });
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toEqual([{ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
    expect(egress(np)).toEqual([
      { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
      { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] },
      {
        ports: [{ port: 8786, protocol: 'TCP' }, { port: 8787, protocol: 'TCP' }, { port: 'tcp-comm', protocol: 'TCP' }, { port: 'http-dashboard', protocol: 'TCP' }],
        to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'dask.org/component': 'scheduler' } } }],
      },
    ]);
  });

  test('a namespaced install reaches schedulers in the watched namespaces only', () => {
    const np = npOf({ networkPolicy: {}, watchNamespaces: ['team-b', 'team-a'] });
    expect(egress(np)[2].to).toEqual([{
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a', 'team-b'] }] },
      podSelector: { matchLabels: { 'dask.org/component': 'scheduler' } },
    }]);
  });

  test('metricsFrom, apiServerCidrs and apiServerPorts narrow it; metricsFrom [] lets nobody in', () => {
    const np = npOf({
      networkPolicy: {
        metricsFrom: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchExpressions: [{ key: 'app', operator: LabelSelectorOperator.IN, values: ['prometheus'] }] } },
          { ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.2.0/24'] } },
        ],
        apiServerCidrs: ['172.20.0.10/32', '172.20.0.11/32'],
        apiServerPorts: [6443],
      },
    });
    expect(np.spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['prometheus'] }] } },
      { ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.2.0/24'] } },
    ]);
    expect(egress(np)[1]).toEqual({ ports: [{ port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '172.20.0.10/32' } }, { ipBlock: { cidr: '172.20.0.11/32' } }] });
    expect(npOf({ networkPolicy: { metricsFrom: [] } }).spec.ingress).toEqual([]);
  });
});

describe('DaskOperator: synth-time validation names the construct, the prop and the fix', () => {
  test.each<[string, DaskOperatorProps, RegExp]>([
    ['negative replicas', { replicas: -1 }, /replicas must be a whole number >= 0, got -1/],
    ['fractional replicas', { replicas: 1.5 }, /replicas must be a whole number >= 0, got 1.5/],
    ['a PodDisruptionBudget with one replica', { podDisruptionBudget: true }, /podDisruptionBudget: true needs replicas >= 2 \(got 1\).*set replicas: 2 or drop podDisruptionBudget/],
    ['a batch size of 0', { workerCreationBatchSize: 0 }, /workerCreationBatchSize must be a whole number >= 1/],
    ['a rate of 0', { kubeApiQps: 0 }, /kubeApiQps must be a number > 0/],
    ['a fractional burst', { kubeApiBurst: 2.5 }, /kubeApiBurst must be a whole number >= 1/],
    ['concurrency 0', { concurrency: 0 }, /concurrency must be a whole number >= 1/],
    ['a metrics port out of range', { metricsPort: 70000 }, /metricsPort must be a port number 1-65535, got 70000/],
    ['a fractional probe timeout', { probeTimeout: Duration.millis(1500) }, /probeTimeout must be a whole number of seconds >= 1, got 1.5 s/],
    ['the same env name in env and envValues', { env: { A: '1' }, envValues: { A: EnvValue.fromFieldRef('metadata.uid') } }, /environment variable "A" is set in both env and envValues; set it once/],
    ['an env name the construct sets', { env: { POD_NAMESPACE: 'x' } }, /environment variable "POD_NAMESPACE" is set by the construct.*choose another name/],
    ['a mount without a volume', { volumeMounts: [{ name: 'plugins', mountPath: '/plugins' }] }, /volumeMounts\[0\]: no volume named "plugins"; add it to volumes \(e.g. Volume.fromConfigMap\('plugins', ...\)\) or fix the name/],
    ['a volume named tmp', { volumes: [Volume.fromEmptyDir('tmp')] }, /volumes\[0\]: the name "tmp" is the construct's own volume/],
    ['two volumes of one name', { volumes: [Volume.fromEmptyDir('a'), Volume.fromSecret('a', 's')] }, /volumes: more than one volume is named "a"/],
    ['a mount over /tmp', { volumes: [Volume.fromEmptyDir('a')], volumeMounts: [{ name: 'a', mountPath: '/tmp' }] }, /volumeMounts\[0\]: mountPath "\/tmp" is already mounted \(the construct's tmp volume\)/],
    ['a relative mount path', { volumes: [Volume.fromEmptyDir('a')], volumeMounts: [{ name: 'a', mountPath: 'data' }] }, /mountPath "data" must be an absolute path/],
    ['a pod label the selectors use', { podMetadata: { labels: { 'app.kubernetes.io/name': 'mine' } } }, /podMetadata.labels\["app.kubernetes.io\/name"\]: the construct sets this label.*choose another key/],
    ['a bad service account name', { serviceAccountName: 'Dask_Ops' }, /serviceAccountName "Dask_Ops" is not a valid object name/],
    ['annotations for a service account not created here', { createServiceAccount: false, serviceAccountAnnotations: { a: 'b' } }, /serviceAccountAnnotations have no effect with createServiceAccount: false/],
    ['extraRules without RBAC', { createRbac: false, extraRules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] }, /extraRules have no effect with createRbac: false/],
    ['a duplicate pull secret', { imagePullSecrets: ['r', 'r'] }, /imagePullSecrets: "r" is listed more than once/],
    ['a toleration EXISTS with a value', { tolerations: [{ key: 'k', operator: TolerationOperator.EXISTS, value: 'v' }] }, /tolerations\[0\]: operator EXISTS takes no value/],
    ['a toleration without key that is not EXISTS', { tolerations: [{ effect: TaintEffect.NO_SCHEDULE }] }, /tolerations\[0\]: without a key the operator must be EXISTS/],
    ['tolerationSeconds without NoExecute', { tolerations: [{ key: 'k', value: 'v', tolerationSeconds: 5 }] }, /tolerations\[0\]: tolerationSeconds applies only to effect NO_EXECUTE/],
    ['an affinity weight over 100', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 101, preference: {} }] } } }, /affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution\[0\]: weight must be a whole number 1-100, got 101/],
    ['an empty NetworkPolicy peer', { networkPolicy: { metricsFrom: [{}] } }, /networkPolicy.metricsFrom\[0\]: an empty peer; set podSelector, namespaceSelector or ipBlock/],
    ['an ipBlock with a selector', { networkPolicy: { metricsFrom: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] } }, /ipBlock cannot be combined with podSelector or namespaceSelector; make them two peers/],
    ['a selector requirement without values', { networkPolicy: { metricsFrom: [{ podSelector: { matchExpressions: [{ key: 'a', operator: LabelSelectorOperator.IN }] } }] } }, /podSelector.matchExpressions\[0\]: operator In needs values/],
    ['an API server address that is no CIDR', { networkPolicy: { apiServerCidrs: ['10.0.0.1'] } }, /networkPolicy.apiServerCidrs\[0\]: "10.0.0.1" is not a CIDR/],
    ['no API server port', { networkPolicy: { apiServerPorts: [] } }, /networkPolicy.apiServerPorts is empty: the operator could not reach the API server/],
  ])('%s', (_what, props, message) => {
    const msg = synthError(props);
    expect(msg).toMatch(/\[install\/operator\] DaskOperator: /);
    expect(msg).toMatch(message);
  });

  test('anything else the API server would refuse in the Pod spec is caught by the core/v1 schema', () => {
    const msg = synthError({ tolerations: [{ key: 'k', operator: TolerationOperator.EXISTS, tolerationSecond: 5 } as never] });
    expect(msg).toMatch(/\[install\/operator\] DaskOperator: spec.template.spec.tolerations.0: unknown field "tolerationSecond"/);
  });

  test('a valid install with every prop synthesizes (the Pod spec passes the core/v1 schema)', () => {
    expect(() => synth(FULL)).not.toThrow();
  });

  test('the operator accepts the arguments the construct writes (its own flag parser)', () => {
    const c = podOf(synth({ ...FULL, watchNamespaces: ['team-a'], plugins: ['@acme/p'], kueue: true, logLevel: LogLevel.WARN })).containers[0];
    const config = parseConfig(c.args, { POD_NAMESPACE: 'dask-operator' });
    expect(config).toMatchObject({ createBatchSize: 20, leaderElect: true, leaderElectionNamespace: 'dask-operator', namespaces: ['team-a'], plugins: ['@acme/p'], kueue: true, logLevel: 'warn', metricsBindAddress: { host: '0.0.0.0', port: 8080 } });
  });
});

/** Every new prop at once (test/integration/install.test.ts applies a similar install to the API server). */
const FULL: DaskOperatorProps = {
  replicas: 2,
  imagePullSecrets: ['registry'],
  serviceAccountName: 'dask-ops',
  serviceAccountAnnotations: { 'example.com/role': 'ops' },
  podMetadata: { labels: { team: 'platform' }, annotations: { 'example.com/owner': 'platform' } },
  podSecurityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: ProfileType.RUNTIME_DEFAULT } },
  containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  volumes: [Volume.fromConfigMap('plugins', 'plugins'), Volume.fromEmptyDir('cache', { sizeLimit: Size.mebibytes(16) })],
  volumeMounts: [{ name: 'plugins', mountPath: '/plugins', readOnly: true }, { name: 'cache', mountPath: '/cache' }],
  envValues: { NODE: EnvValue.fromFieldRef('spec.nodeName') },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: TolerationOperator.EQUAL, value: 'platform', effect: TaintEffect.NO_SCHEDULE }],
  affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } } }] } },
  priorityClassName: 'platform',
  probeTimeout: Duration.seconds(5),
  workerCreationBatchSize: 20,
  kubeApiQps: 50,
  kubeApiBurst: 100,
  networkPolicy: { apiServerCidrs: ['10.0.0.1/32'] },
};
