/**
 * The main job (`npm run synth`): synthesizes, with no cluster needed,
 *   dist/0000-dask-operator.k8s.yaml   the operator install: CRDs, namespace, RBAC, Deployment, metrics Service
 *   dist/0001-my-cluster.k8s.yaml      an example cluster equal to the seed's KubeCluster(name="my-cluster", n_workers=3, env={"FOO": "bar"})
 *   dist/helm/dask-operator/           the same operator install as a Helm chart (generated from the DaskOperator construct)
 * Objects carry Argo CD sync waves (CRDs and the namespace -1, the operator 0, Dask objects 1).
 * Output is deterministic: two runs give byte-identical files.
 */
import * as path from 'node:path';
import { ApiObject, App, Chart } from 'cdk8s';
import { ArgoCdSyncWaves, DaskCluster, DaskOperator, DaskOperatorHelmChart } from './lib/index';

export function buildApp(outdir = process.env.CDK8S_OUTDIR ?? 'dist'): App {
  const app = new App({ outdir });
  const operator = new Chart(app, 'dask-operator');
  new DaskOperator(operator, 'operator');
  const example = new Chart(app, 'my-cluster', { namespace: 'default' });
  new DaskCluster(example, 'my-cluster', { workers: 3, env: { FOO: 'bar' } });
  example.addDependency(operator);
  ArgoCdSyncWaves.apply(app);
  return app;
}

if (require.main === module) {
  const app = buildApp();
  app.synth();
  const chartDir = path.join(app.outdir, 'helm', 'dask-operator');
  const files = DaskOperatorHelmChart.write(chartDir);
  console.log(`wrote the Helm chart ${chartDir}/: ${files.length} files`);
  for (const chart of app.charts) {
    const objects = chart.node.findAll().filter((c) => c instanceof ApiObject).length;
    console.log(`synthesized ${chart.node.id}: ${objects} objects`);
  }
  console.log(`wrote ${app.outdir}/: kubectl apply -f ${app.outdir}/0000-dask-operator.k8s.yaml, wait for the CRDs, then kubectl apply -f ${app.outdir}/0001-my-cluster.k8s.yaml`);
}
