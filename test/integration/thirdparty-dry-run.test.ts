/**
 * The GitOps example and the monitoring constructs on the real API server: the prometheus-operator, Istio,
 * cert-manager and Argo CD CRDs (fetched from their Go modules by hack/crds/fetch.sh) are installed, then every
 * synthesized object is applied with `kubectl apply --dry-run=server --validate=strict`: their OpenAPI schemas,
 * CEL rules and strict field validation, as a cluster with those projects installed would check them.
 *
 * Where testing stops: no Istio, cert-manager, Prometheus or Argo CD controller runs here, so nothing routes,
 * issues, scrapes or syncs; the objects are only proven acceptable to the API server with those projects' CRDs.
 * Namespaced objects are dry-run in this file's namespace (the namespace does not change what is validated).
 */
import * as fs from 'node:fs';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { buildGitOpsApp } from '../../examples/gitops/app';
import { thirdPartyCrdFiles } from '../support/thirdparty-crds';
import { eventually, kubectl, withNamespace } from './support';

jest.setTimeout(180_000);
const ns = withNamespace('thirdparty');
type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
const crdNames: string[] = [];

beforeAll(async () => {
  for (const file of thirdPartyCrdFiles()) {
    crdNames.push((parse(fs.readFileSync(file, 'utf8')) as Json).metadata.name);
    // Server-side: the Argo CD Application CRD is larger than the client-side last-applied annotation allows.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
  }
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crdNames.map((n) => `crd/${n}`)]);
  // Discovery must list the new kinds before kubectl can map them.
  await eventually(async () => {
    const r = await kubectl(['api-resources', '--api-group=monitoring.coreos.com', '-o', 'name']);
    expect(r.stdout).toContain('podmonitors.monitoring.coreos.com');
  }, { timeoutMs: 30_000, describe: 'the new kinds in discovery' });
}, 120_000);

afterAll(async () => {
  if (crdNames.length > 0) await kubectl(['delete', 'crd', ...crdNames, '--ignore-not-found', '--wait=false'], { allowFailure: true });
});

test('every object of examples/gitops passes strict server-side validation with the real CRDs installed', async () => {
  const docs = parseAllDocuments(buildGitOpsApp('unused').synthYaml()).map((d) => d.toJS() as Json);
  // Our own CRDs are installed already and covered by install.test.ts / smoke.test.ts (other files `kubectl replace`
  // them, after which an apply warns about the missing last-applied annotation).
  const inNs = docs
    .filter((d) => !(d.kind === 'CustomResourceDefinition' && d.spec.group === 'kubernetes.dask.org'))
    .map((d) => (d.metadata.namespace ? { ...d, metadata: { ...d.metadata, namespace: ns.name } } : d));
  const kinds = new Set(inNs.map((d) => d.kind));
  for (const k of ['ServiceMonitor', 'PodMonitor', 'VirtualService', 'PeerAuthentication', 'Certificate', 'Application', 'ConfigMap', 'DaskCluster', 'DaskAutoscaler', 'Deployment', 'Role', 'Namespace']) expect(kinds).toContain(k);
  const r = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: inNs.map((d) => stringify(d)).join('---\n'), allowFailure: true });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  expect(r.stdout.trim().split('\n')).toHaveLength(inNs.length);
});

test('the real CRDs reject what their schemas forbid (the dry run is not a rubber stamp)', async () => {
  const docs = parseAllDocuments(buildGitOpsApp('unused').synthYaml()).map((d) => d.toJS() as Json);
  const pa = structuredClone(docs.find((d) => d.kind === 'PeerAuthentication') as Json);
  pa.metadata.namespace = ns.name;
  pa.spec.mtls.mode = 'LENIENT';
  const bad = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: stringify(pa), allowFailure: true });
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/spec\.mtls\.mode/);
  const sm = structuredClone(docs.find((d) => d.kind === 'ServiceMonitor') as Json);
  sm.metadata.namespace = ns.name;
  sm.spec.endpoints[0].scrapeInterval = '30s';
  const unknown = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], { input: stringify(sm), allowFailure: true });
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toMatch(/unknown field "spec\.endpoints\[0\]\.scrapeInterval"/);
});
