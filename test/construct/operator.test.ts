import { App, Chart, Testing } from 'cdk8s';
import { DaskOperator, LogLevel } from '../../lib/index';
import { KUEUE_CLUSTER_RULES, KUEUE_RULES, LEADER_ELECTION_RULES, OPERATOR_RULES } from '../../lib/operator-rbac';

type Json = Record<string, any>;
const synth = (props: ConstructorParameters<typeof DaskOperator>[2] = {}, namespace?: string): Json[] => {
  const chart = new Chart(new App(), 'install', namespace ? { namespace } : {});
  new DaskOperator(chart, 'operator', props);
  return Testing.synth(chart) as Json[];
};
const byKind = (objs: Json[], kind: string): Json[] => objs.filter((o) => o.kind === kind);

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
