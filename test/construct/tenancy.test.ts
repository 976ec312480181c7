import { App, Chart, Testing } from 'cdk8s';
import { DaskCluster, DaskNetworkPolicy, DaskOperator, DaskPodSpecPolicy, DaskPolicyAction, DaskUserRoles } from '../../lib/index';

type Json = Record<string, any>;
const synth = (build: (c: Chart) => void, namespace = 'team-a'): Json[] => {
  const chart = new Chart(new App(), 'test', { namespace });
  build(chart);
  return Testing.synth(chart) as Json[];
};
const byKind = (docs: Json[], kind: string): Json[] => docs.filter((d) => d.kind === kind);

describe('DaskUserRoles', () => {
  test('view and edit ClusterRoles aggregated into the built-in roles, cluster-scoped, status left to the operator', () => {
    const [view, edit] = byKind(synth((c) => new DaskUserRoles(c, 'roles')), 'ClusterRole');
    expect(view.metadata).toEqual({
      name: 'dask-operator-view',
      labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' },
    });
    expect(edit.metadata.labels).toEqual({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' });
    expect(edit.metadata.namespace).toBeUndefined();
    expect(view.rules[0]).toEqual({ apiGroups: ['kubernetes.dask.org'], resources: ['daskclusters', 'daskworkergroups', 'daskautoscalers', 'daskjobs'], verbs: ['get', 'list', 'watch'] });
    const editVerbs = edit.rules.flatMap((r: Json) => r.resources.map((res: string) => `${res}:${r.verbs.join(',')}`));
    expect(editVerbs).toContain('daskclusters/scale:update,patch');
    expect(editVerbs.some((v: string) => v.includes('/status:'))).toBe(false);
  });

  test('DaskOperator installs them by default; userRoles: false leaves them out', () => {
    const names = (props = {}) => byKind(synth((c) => new DaskOperator(c, 'op', { installCrds: false, ...props }), ''), 'ClusterRole').map((r) => r.metadata.name);
    expect(names()).toEqual(expect.arrayContaining(['dask-operator-view', 'dask-operator-edit']));
    expect(names({ userRoles: false })).not.toContain('dask-operator-view');
  });

  test('a prefix that cannot name a ClusterRole is refused at synth time', () => {
    expect(() => synth((c) => new DaskUserRoles(c, 'roles', { namePrefix: 'Dask_Roles' }))).toThrow(/test\/roles: namePrefix "Dask_Roles"/);
  });
});

describe('DaskPodSpecPolicy', () => {
  test('a cluster-scoped ValidatingAdmissionPolicy on the three kinds holding pod templates, and its Deny binding', () => {
    const docs = synth((c) => new DaskPodSpecPolicy(c, 'policy', { allowedServiceAccounts: ['default', 'dask-reader'], namespaceLabels: { tenant: 'true' } }));
    const [policy] = byKind(docs, 'ValidatingAdmissionPolicy');
    const [binding] = byKind(docs, 'ValidatingAdmissionPolicyBinding');
    expect(policy.metadata).toEqual({ name: 'dask-pod-spec-policy' });
    expect(policy.spec.matchConstraints.resourceRules[0].resources).toEqual(['daskclusters', 'daskworkergroups', 'daskjobs']);
    expect(policy.spec.validations.map((v: Json) => v.message)).toEqual([
      expect.stringContaining('hostPath'), expect.stringContaining('privileged'), expect.stringContaining('hostNetwork'), expect.stringContaining('default, dask-reader'),
    ]);
    expect(policy.spec.validations[3].expression).toContain("['default', 'dask-reader']");
    expect(binding.spec).toEqual({ policyName: 'dask-pod-spec-policy', validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { tenant: 'true' } } } });
  });

  test.each([
    [{ allowedServiceAccounts: [] }, /allowedServiceAccounts is empty/],
    [{ allowedServiceAccounts: ['Bad_Name'] }, /"Bad_Name" is not a valid ServiceAccount name/],
    [{ actions: [] }, /at least one action/],
    [{ actions: [DaskPolicyAction.DENY, DaskPolicyAction.WARN] }, /Deny and Warn together/],
  ])('bad props are refused at synth time, naming the construct: %j', (props, message) => {
    expect(() => synth((c) => new DaskPodSpecPolicy(c, 'policy', props))).toThrow(message);
    expect(() => synth((c) => new DaskPodSpecPolicy(c, 'policy', props))).toThrow(/^test\/policy: DaskPodSpecPolicy:/);
  });
});

describe('DaskNetworkPolicy', () => {
  test('the scheduler admits its own cluster\'s Pods, the operator and the extra peers on its two ports; workers admit their cluster and the peers', () => {
    const docs = synth((c) => {
      const cluster = new DaskCluster(c, 'analytics', { workers: 2 });
      new DaskNetworkPolicy(c, 'fence', { cluster, allowFrom: [{ namespaceLabels: { 'kubernetes.io/metadata.name': 'notebooks' }, podLabels: { app: 'jupyter' } }] });
    });
    const [scheduler, workers] = byKind(docs, 'NetworkPolicy');
    expect(scheduler.metadata).toEqual({ name: 'analytics-scheduler', namespace: 'team-a', labels: { 'dask.org/cluster-name': 'analytics' } });
    expect(scheduler.spec.podSelector).toEqual({ matchLabels: { 'dask.org/cluster-name': 'analytics', 'dask.org/component': 'scheduler' } });
    expect(scheduler.spec.ingress).toEqual([{
      from: [
        { podSelector: { matchLabels: { 'dask.org/cluster-name': 'analytics' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dask-operator' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'dask-operator' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'notebooks' } }, podSelector: { matchLabels: { app: 'jupyter' } } },
      ],
      ports: [{ protocol: 'TCP', port: 'tcp-comm' }, { protocol: 'TCP', port: 'http-dashboard' }],
    }]);
    expect(workers.spec.podSelector.matchLabels).toEqual({ 'dask.org/cluster-name': 'analytics', 'dask.org/component': 'worker' });
    expect(workers.spec.ingress[0].from).toHaveLength(2);
    expect(workers.spec.ingress[0].ports).toBeUndefined();
  });

  test('a peer with neither pod nor namespace labels is refused at synth time', () => {
    expect(() => synth((c) => new DaskNetworkPolicy(c, 'fence', { cluster: DaskCluster.fromClusterName(c, 'ref', 'x'), allowFrom: [{}] }))).toThrow(/test\/fence: allowFrom\[0\] selects nothing/);
  });
});
