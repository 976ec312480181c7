import { buildGitOpsApp } from '../../examples/gitops/app';

describe('examples/gitops: composing with Istio, cert-manager and Argo CD', () => {
  const yaml = buildGitOpsApp('unused').synthYaml();
  test('synthesizes deterministically', () => {
    expect(buildGitOpsApp('unused').synthYaml()).toBe(yaml);
  });
  test('the VirtualService routes to the scheduler Service the operator creates, on the dashboard port', () => {
    const docs = require('yaml').parseAllDocuments(yaml).map((d: { toJS(): unknown }) => d.toJS()) as Record<string, any>[];
    const vs = docs.find((d) => d.kind === 'VirtualService') as Record<string, any>;
    expect(vs.metadata.namespace).toBe('analytics');
    expect(vs.spec.http[0].route[0].destination).toEqual({ host: 'analytics-scheduler', port: { number: 8787 } });
    const cluster = docs.find((d) => d.kind === 'DaskCluster') as Record<string, any>;
    expect(cluster.spec.scheduler.service.ports.map((p: { port: number }) => p.port)).toContain(8787);
    expect(cluster.spec.scheduler.metadata.labels['sidecar.istio.io/inject']).toBe('true');
    expect(docs.find((d) => d.kind === 'Certificate')?.metadata.namespace).toBe('istio-system');
    expect(docs.filter((d) => d.kind === 'Role' && d.metadata.name === 'dask-operator').map((r) => r.metadata.namespace)).toEqual(['analytics']);
  });
});
