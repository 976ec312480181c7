/**
 * Example: a GitOps repository's cdk8s app. It composes the Dask operator install, a team's DaskCluster, an Istio
 * VirtualService that exposes the Dask dashboard through an existing gateway, a cert-manager Certificate for that
 * host, and the Argo CD Application that syncs the synthesized YAML. Istio, cert-manager and Argo CD objects are
 * written as plain ApiObjects here; with their `cdk8s import`ed classes the shape is the same.
 *
 *   npx tsc -p tsconfig.json && node build/examples/gitops/app.js    # writes examples/gitops/dist/
 */
import { ApiObject, App, Chart, Size } from 'cdk8s';
import { Cpu, DaskCluster, DaskOperator } from '../../lib/index';

export interface AnalyticsProps {
  /** Public host of the dashboard. */
  readonly host: string;
  /** Istio gateway (namespace/name) that terminates TLS for the host. */
  readonly gateway: string;
  /** cert-manager ClusterIssuer. */
  readonly issuer: string;
}

export function buildGitOpsApp(outdir: string, props: AnalyticsProps = { host: 'dask.example.com', gateway: 'istio-system/public', issuer: 'letsencrypt' }): App {
  const app = new App({ outdir });
  const platform = new Chart(app, 'platform');
  new DaskOperator(platform, 'dask', { watchNamespaces: ['analytics'] });

  const team = new Chart(app, 'analytics', { namespace: 'analytics' });
  const cluster = new DaskCluster(team, 'analytics', {
    imageTag: '2026.8.0',
    workers: 4,
    resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(8), limit: Size.gibibytes(8) } },
    schedulerMetadata: { labels: { 'sidecar.istio.io/inject': 'true' } },
  });
  cluster.adapt({ minimum: 2, maximum: 20 });
  new ApiObject(team, 'dashboard-route', {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'dask-dashboard' },
    spec: {
      hosts: [props.host],
      gateways: [props.gateway],
      http: [{ route: [{ destination: { host: cluster.schedulerServiceName, port: { number: 8787 } } }] }],
    },
  });
  const [gatewayNs] = props.gateway.split('/');
  new ApiObject(team, 'dashboard-cert', {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'dask-dashboard', namespace: gatewayNs },
    spec: { secretName: 'dask-dashboard-tls', dnsNames: [props.host], issuerRef: { kind: 'ClusterIssuer', name: props.issuer } },
  });
  team.addDependency(platform);

  const argo = new Chart(app, 'argocd');
  new ApiObject(argo, 'application', {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'dask-analytics', namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: 'https://git.example.com/platform/gitops.git', targetRevision: 'main', path: 'examples/gitops/dist' },
      destination: { server: 'https://kubernetes.default.svc' },
      // CRDs first (the operator chart is 0000-), then the cluster; server-side apply avoids the
      // last-applied annotation on the large CRDs.
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true', 'CreateNamespace=true'] },
    },
  });
  return app;
}

if (require.main === module) {
  const app = buildGitOpsApp(`${__dirname}/../../../examples/gitops/dist`);
  app.synth();
  console.log(`wrote ${app.outdir}`);
}
