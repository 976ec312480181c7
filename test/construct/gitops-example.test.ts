import { buildGitOpsApp } from '../../examples/gitops/app';
import { DaskArgoCdHealthChecks } from '../../lib/index';

describe('examples/gitops: composing with Istio, cert-manager, Prometheus and Argo CD', () => {
  const yaml = buildGitOpsApp('unused').synthYaml();
  const docs = require('yaml').parseAllDocuments(yaml).map((d: { toJS(): unknown }) => d.toJS()) as Record<string, any>[];
  const find = (kind: string) => docs.filter((d) => d.kind === kind);

  test('synthesizes deterministically', () => {
    expect(buildGitOpsApp('unused').synthYaml()).toBe(yaml);
  });

  test('the VirtualService routes to the scheduler Service the operator creates, on the dashboard port', () => {
    const [vs] = find('VirtualService');
    expect(vs.metadata.namespace).toBe('analytics');
    expect(vs.spec.http[0].route[0].destination).toEqual({ host: 'analytics-scheduler', port: { number: 8787 } });
    const [cluster] = find('DaskCluster');
    expect(cluster.spec.scheduler.service.ports.map((p: { port: number }) => p.port)).toContain(8787);
    expect(find('Certificate')[0].metadata.namespace).toBe('istio-system');
    expect(find('Role').filter((r) => r.metadata.name === 'dask-operator').map((r) => r.metadata.namespace)).toEqual(['analytics']);
  });

  test('under the mesh: sidecars asked for on scheduler and workers, the scheduler on 0.0.0.0, PERMISSIVE mTLS for the cluster\'s Pods', () => {
    const [cluster] = find('DaskCluster');
    for (const t of [cluster.spec.scheduler, cluster.spec.worker]) {
      expect(t.metadata.labels['sidecar.istio.io/inject']).toBe('true');
      expect(JSON.parse(t.metadata.annotations['proxy.istio.io/config'])).toEqual({ holdApplicationUntilProxyStarts: true });
    }
    expect(cluster.spec.scheduler.spec.containers[0].args).toEqual(expect.arrayContaining(['--host', '0.0.0.0']));
    const [pa] = find('PeerAuthentication');
    expect(pa.spec).toEqual({ selector: { matchLabels: { 'dask.org/cluster-name': 'analytics' } }, mtls: { mode: 'PERMISSIVE' } });
    expect(find('Namespace').map((n) => n.metadata.name)).toContain('analytics');
  });

  test('monitors for the scheduler, the workers and the operator; the Argo CD Application and the health checks for argocd-cm', () => {
    expect(find('ServiceMonitor').map((m) => `${m.metadata.namespace}/${m.metadata.name}`).sort()).toEqual(['analytics/analytics-scheduler', 'dask-operator/dask-operator-metrics']);
    expect(find('PodMonitor').map((m) => m.metadata.name)).toEqual(['analytics-workers']);
    for (const m of [...find('ServiceMonitor'), ...find('PodMonitor')]) expect(m.metadata.labels.release).toBe('prometheus');
    const [appObj] = find('Application');
    expect(appObj.spec.syncPolicy.syncOptions).toEqual(['ServerSideApply=true', 'CreateNamespace=true']);
    const cm = find('ConfigMap').find((c) => c.metadata.name === 'argocd-cm');
    expect(cm?.data).toEqual(DaskArgoCdHealthChecks.configMapData());
  });
});
