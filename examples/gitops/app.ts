/**
 * Example: a GitOps repository's cdk8s app, the way a platform team runs it: Argo CD syncs the synthesized YAML,
 * Prometheus scrapes everything, Istio and cert-manager are in every namespace.
 *
 *   platform   the Dask operator install (CRDs, RBAC, Deployment, metrics Service) and a ServiceMonitor for it
 *   analytics  a team's DaskCluster (adaptive), its scheduler ServiceMonitor and worker PodMonitor, an Istio
 *              VirtualService exposing the dashboard through an existing gateway, a PeerAuthentication that lets
 *              Dask's Pod-to-Pod connections through, and a cert-manager Certificate for the dashboard host
 *   argocd     the Argo CD Application that syncs the output, and the Dask health checks for argocd-cm
 *
 * Every third-party object is typed with the `@kubernetes-models/*` model of its CRD (types only: nothing of theirs
 * runs at synth time) and tested against the real CRD (test/construct/thirdparty-schemas.test.ts, and with
 * `kubectl apply --dry-run=server` in test/integration/thirdparty-dry-run.test.ts). Sync waves order the first sync:
 * CRDs, then the operator, then the Dask objects. See docs/gitops.md for what Dask needs under a mesh.
 *
 *   npx tsc -p tsconfig.json && node build/examples/gitops/app.js    # writes examples/gitops/dist/
 */
import { ApiObject, App, Chart, Size } from 'cdk8s';
import type { IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { IPeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import {
  ArgoCdSyncWaves, Cpu, DaskArgoCdHealthChecks, DaskCluster, DaskClusterMonitoring, DaskOperator, DaskOperatorMonitoring,
} from '../../lib/index';

export interface AnalyticsProps {
  /** Public host of the dashboard. */
  readonly host: string;
  /** Istio gateway (namespace/name) that terminates TLS for the host. */
  readonly gateway: string;
  /** cert-manager ClusterIssuer. */
  readonly issuer: string;
  /** Labels the platform's Prometheus selects monitors by. */
  readonly prometheusLabels: { [key: string]: string };
  /** Git repository Argo CD syncs from, and the path of the synthesized output in it. */
  readonly repoURL: string;
  readonly path: string;
}

export const DEFAULT_PROPS: AnalyticsProps = {
  host: 'dask.example.com',
  gateway: 'istio-system/public',
  issuer: 'letsencrypt',
  prometheusLabels: { release: 'prometheus' },
  repoURL: 'https://git.example.com/platform/gitops.git',
  path: 'examples/gitops/dist',
};

/** Istio sidecars for the Dask Pods: injected, and started before Dask so its first connections do not fail. */
const MESH_METADATA = {
  labels: { 'sidecar.istio.io/inject': 'true' },
  annotations: { 'proxy.istio.io/config': '{ "holdApplicationUntilProxyStarts": true }' },
};

export function buildGitOpsApp(outdir: string, props: AnalyticsProps = DEFAULT_PROPS): App {
  const app = new App({ outdir });

  const platform = new Chart(app, 'platform');
  // The team namespace (the operator's Role for it and the team's objects need it; istio-system and argocd exist).
  new ApiObject(platform, 'analytics-namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'analytics', labels: { 'istio-injection': 'enabled' } } });
  const operator = new DaskOperator(platform, 'dask', { watchNamespaces: ['analytics'] });
  new DaskOperatorMonitoring(platform, 'dask-metrics', { operator, labels: props.prometheusLabels });

  const team = new Chart(app, 'analytics', { namespace: 'analytics' });
  const cluster = new DaskCluster(team, 'analytics', {
    imageTag: '2026.8.0',
    workers: 4,
    resources: { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(8), limit: Size.gibibytes(8) } },
    // An explicit sidecar.istio.io/inject label on the templates is kept by the operator (it only defaults the
    // label to "false" where none is set); see docs/gitops.md.
    schedulerMetadata: MESH_METADATA,
    workerMetadata: MESH_METADATA,
  });
  cluster.adapt({ minimum: 2, maximum: 20 });
  new DaskClusterMonitoring(team, 'analytics-metrics', { cluster, labels: props.prometheusLabels, interval: '30s' });

  const route: IVirtualService & { apiVersion: 'networking.istio.io/v1'; kind: 'VirtualService' } = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'dask-dashboard' },
    spec: {
      hosts: [props.host],
      gateways: [props.gateway],
      http: [{ route: [{ destination: { host: cluster.schedulerServiceName, port: { number: 8787 } } }] }],
    },
  };
  new ApiObject(team, 'dashboard-route', route);

  // Workers connect to each other (and the scheduler to workers) on Pod IPs and ports no Service declares; the
  // mesh can only match mTLS identities to Service traffic, so with STRICT mTLS those connections would be refused.
  // PERMISSIVE for this cluster's Pods only: Service traffic (clients -> scheduler) still gets mTLS.
  const peers: IPeerAuthentication & { apiVersion: 'security.istio.io/v1'; kind: 'PeerAuthentication' } = {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'dask-analytics' },
    // The operator labels every Pod of the cluster dask.org/cluster-name (docs/reference.md).
    spec: { selector: { matchLabels: { 'dask.org/cluster-name': cluster.clusterName } }, mtls: { mode: 'PERMISSIVE' } },
  };
  new ApiObject(team, 'dask-peers', peers);

  const [gatewayNs] = props.gateway.split('/');
  const certificate: ICertificate = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'dask-dashboard', namespace: gatewayNs },
    spec: { secretName: 'dask-dashboard-tls', dnsNames: [props.host], issuerRef: { kind: 'ClusterIssuer', name: props.issuer } },
  };
  new ApiObject(team, 'dashboard-cert', certificate);
  team.addDependency(platform);

  const argo = new Chart(app, 'argocd');
  const application: IApplication = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'dask-analytics', namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL: props.repoURL, targetRevision: 'main', path: props.path },
      destination: { server: 'https://kubernetes.default.svc' },
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        // Server-side apply: no last-applied annotation on the large CRDs. The DaskAutoscaler scales the operator's
        // own `analytics-default` worker group, which is not in Git, so nothing needs ignoreDifferences here.
        syncOptions: ['ServerSideApply=true', 'CreateNamespace=true'],
      },
    },
  };
  new ApiObject(argo, 'application', application);
  new DaskArgoCdHealthChecks(argo, 'dask-health');

  ArgoCdSyncWaves.apply(platform);
  ArgoCdSyncWaves.apply(team);
  return app;
}

if (require.main === module) {
  const app = buildGitOpsApp(`${__dirname}/../../../examples/gitops/dist`);
  app.synth();
  console.log(`wrote ${app.outdir}`);
}
