/**
 * Every object the monitoring constructs and the GitOps example synthesize, against the real schema of its kind:
 * the prometheus-operator, Istio, cert-manager and Argo CD CRDs fetched from their Go modules (hack/crds/fetch.sh),
 * and our own CRDs for the Dask kinds. The monitors must also select what the operator really creates (the Service
 * and Pods rendered by lib/render, the operator's metrics Service) on ports those objects declare.
 */
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { buildGitOpsApp } from '../../examples/gitops/app';
import { DaskCluster, DaskClusterMonitoring, DaskOperator, DaskOperatorMonitoring } from '../../lib/index';
import { crdProblems } from '../../lib/validation/crd-schema';
import { defaultWorkerGroup, schedulerService, workerPod } from '../../lib/render';
import type { DaskCluster as DaskClusterWire, DaskWorkerGroup as DaskWorkerGroupWire } from '../../lib/schema/generated/types';
import { hasThirdPartySchema, thirdPartySchemaProblems } from '../support/thirdparty-crds';

type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
const docsOf = (app: App): Json[] => parseAllDocuments(app.synthYaml()).map((d) => d.toJS() as Json);
/** As read back from the API server (the renderers need the owner's uid). */
const live = <T>(d: Json | undefined): T => ({ ...d, metadata: { ...d?.metadata, uid: '00000000-0000-0000-0000-000000000001' } }) as T;
const CORE = /^(v1|apps\/v1|rbac\.authorization\.k8s\.io\/v1|apiextensions\.k8s\.io\/v1)$/;

describe('examples/gitops against the real CRDs', () => {
  const docs = docsOf(buildGitOpsApp('unused'));

  test('every object has a real schema and passes it', () => {
    const checked: string[] = [];
    for (const d of docs) {
      if (CORE.test(d.apiVersion)) continue; // validated by the API server in test/integration/thirdparty-dry-run.test.ts
      const problems = d.apiVersion === 'kubernetes.dask.org/v1' ? crdProblems(d) : thirdPartySchemaProblems(d);
      expect({ object: `${d.kind}/${d.metadata.name}`, problems }).toEqual({ object: `${d.kind}/${d.metadata.name}`, problems: [] });
      checked.push(d.kind);
    }
    expect([...new Set(checked)].sort()).toEqual(['Application', 'Certificate', 'DaskAutoscaler', 'DaskCluster', 'PeerAuthentication', 'PodMonitor', 'ServiceMonitor', 'VirtualService']);
  });

  test('the schemas are strict enough to catch mistakes', () => {
    const vs = structuredClone(docs.find((d) => d.kind === 'VirtualService') as Json);
    vs.spec.http[0].rout = vs.spec.http[0].route;
    expect(thirdPartySchemaProblems(vs)).toContain('spec.http.0: unknown field "rout"');
    const pa = structuredClone(docs.find((d) => d.kind === 'PeerAuthentication') as Json);
    pa.spec.mtls.mode = 'LENIENT';
    expect(thirdPartySchemaProblems(pa).join('\n')).toMatch(/spec\.mtls\.mode: must be equal to one of the allowed values/);
    const cert = structuredClone(docs.find((d) => d.kind === 'Certificate') as Json);
    delete cert.spec.issuerRef;
    expect(thirdPartySchemaProblems(cert)).toContain('spec: must have required property \'issuerRef\'');
    const pm = structuredClone(docs.find((d) => d.kind === 'PodMonitor') as Json);
    pm.spec.podMetricsEndpoints[0].interval = 'soon';
    expect(thirdPartySchemaProblems(pm).join('\n')).toMatch(/podMetricsEndpoints\.0\.interval: must match pattern/);
    expect(hasThirdPartySchema('argoproj.io/v1alpha1', 'Application')).toBe(true);
  });

  test('Dask objects come after the operator, which comes after the CRDs (Argo CD sync waves)', () => {
    const wave = (d: Json): string | undefined => d.metadata.annotations?.['argocd.argoproj.io/sync-wave'];
    expect(new Set(docs.filter((d) => d.kind === 'CustomResourceDefinition' || d.kind === 'Namespace').map(wave))).toEqual(new Set(['-1']));
    expect(new Set(docs.filter((d) => d.kind === 'Deployment').map(wave))).toEqual(new Set(['0']));
    expect(new Set(docs.filter((d) => d.apiVersion === 'kubernetes.dask.org/v1').map(wave))).toEqual(new Set(['1']));
  });
});

describe('DaskClusterMonitoring', () => {
  const build = (props: Partial<ConstructorParameters<typeof DaskClusterMonitoring>[2]> = {}) => {
    const app = new App();
    const chart = new Chart(app, 'team', { namespace: 'data' });
    const cluster = new DaskCluster(chart, 'etl', { workers: 2 });
    const group = cluster.addWorkerGroup('highmem', { workers: 1 });
    const monitoring = new DaskClusterMonitoring(chart, 'm', { cluster, labels: { release: 'prom' }, interval: '15s', scrapeTimeout: '10s', ...props });
    return { app, cluster, group, monitoring, docs: docsOf(app) };
  };

  test('a ServiceMonitor on the scheduler Service the operator creates, on its http-dashboard port', () => {
    const { docs } = build();
    const sm = docs.find((d) => d.kind === 'ServiceMonitor') as Json;
    expect(thirdPartySchemaProblems(sm)).toEqual([]);
    expect(sm.metadata).toEqual({ name: 'etl-scheduler', namespace: 'data', labels: { 'dask.org/cluster-name': 'etl', release: 'prom' } });
    const service = schedulerService(live<DaskClusterWire>(docs.find((d) => d.kind === 'DaskCluster')));
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(service.metadata.labels?.[k]).toBe(v);
    expect(service.spec.ports?.map((p) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.spec.endpoints[0]).toEqual({ port: 'http-dashboard', path: '/metrics', interval: '15s', scrapeTimeout: '10s' });
  });

  test('a PodMonitor on the worker Pods, which serve /metrics on a declared port 8788', () => {
    const { docs } = build();
    const pm = docs.find((d) => d.kind === 'PodMonitor') as Json;
    expect(thirdPartySchemaProblems(pm)).toEqual([]);
    const cluster = live<DaskClusterWire>(docs.find((d) => d.kind === 'DaskCluster'));
    expect(crdProblems(docs.find((d) => d.kind === 'DaskCluster') as Json)).toEqual([]);
    const pod = workerPod(live<DaskWorkerGroupWire>(defaultWorkerGroup(cluster)), cluster, 'etl-default-worker-0123456789');
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) expect(pod.metadata.labels?.[k]).toBe(v);
    const c = pod.spec.containers[0];
    expect(c.ports).toContainEqual({ name: 'http-dashboard', containerPort: 8788, protocol: 'TCP' });
    expect(c.args?.slice(-2)).toEqual(['--dashboard-address', ':8788']);
    expect(pm.spec.podMetricsEndpoints[0].port).toBe('http-dashboard');
  });

  test('an added worker group is scraped too once passed to monitorWorkerGroup()', () => {
    const app = new App();
    const chart = new Chart(app, 'team', { namespace: 'data' });
    const cluster = new DaskCluster(chart, 'etl', { workers: 2 });
    const group = cluster.addWorkerGroup('highmem', { workers: 1 });
    new DaskClusterMonitoring(chart, 'm', { cluster, workerMetricsPort: 9000 }).monitorWorkerGroup(group);
    const wg = live<DaskWorkerGroupWire>(docsOf(app).find((d) => d.kind === 'DaskWorkerGroup'));
    const pod = workerPod(wg, live<DaskClusterWire>(docsOf(app).find((d) => d.kind === 'DaskCluster')), 'etl-highmem-worker-0123456789');
    expect(pod.metadata.labels?.['dask.org/component']).toBe('worker');
    expect(pod.spec.containers[0].ports).toContainEqual({ name: 'http-dashboard', containerPort: 9000, protocol: 'TCP' });
  });

  test('monitorWorkers: false leaves the workers alone; a bad port is refused with the construct path', () => {
    const { docs } = build({ monitorWorkers: false });
    expect(docs.filter((d) => d.kind === 'PodMonitor')).toEqual([]);
    expect((docs.find((d) => d.kind === 'DaskCluster') as Json).spec.worker.spec.containers[0].ports).toBeUndefined();
    expect(() => build({ workerMetricsPort: 0 })).toThrow(/team\/m: workerMetricsPort must be a port number 1-65535, got 0/);
  });
});

describe('DaskOperatorMonitoring', () => {
  test('a ServiceMonitor on the operator\'s metrics Service and port', () => {
    const app = new App();
    const chart = new Chart(app, 'platform');
    const operator = new DaskOperator(chart, 'op');
    new DaskOperatorMonitoring(chart, 'metrics', { operator, labels: { release: 'prom' } });
    const docs = docsOf(app);
    const sm = docs.find((d) => d.kind === 'ServiceMonitor') as Json;
    expect(thirdPartySchemaProblems(sm)).toEqual([]);
    const svc = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'dask-operator-metrics') as Json;
    expect(sm.metadata.namespace).toBe(svc.metadata.namespace);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['dask-operator'] });
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(svc.spec.ports.map((p: { name: string }) => p.name)).toContain(sm.spec.endpoints[0].port);
    expect(sm.metadata.labels.release).toBe('prom');
  });
});
