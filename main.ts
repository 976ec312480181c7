/**
 * The main job (`npm run synth`): synthesizes, with no cluster needed,
 *   dist/0000-dask-operator.k8s.yaml   the operator install: CRDs, namespace, RBAC, Deployment, metrics Service
 *   dist/0001-my-cluster.k8s.yaml      an example cluster equal to the seed's KubeCluster(name="my-cluster", n_workers=3, env={"FOO": "bar"})
 * Output is deterministic: two runs give byte-identical files.
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { DaskCluster, DaskOperator } from './lib/index';

export function buildApp(outdir = process.env.CDK8S_OUTDIR ?? 'dist'): App {
  const app = new App({ outdir });
  const operator = new Chart(app, 'dask-operator');
  new DaskOperator(operator, 'operator');
  const example = new Chart(app, 'my-cluster', { namespace: 'default' });
  new DaskCluster(example, 'my-cluster', { workers: 3, env: { FOO: 'bar' } });
  example.addDependency(operator);
  return app;
}

if (require.main === module) {
  const app = buildApp();
  app.synth();
  for (const chart of app.charts) {
    const objects = chart.node.findAll().filter((c) => c instanceof ApiObject).length;
    console.log(`synthesized ${chart.node.id}: ${objects} objects`);
  }
  console.log(`wrote ${app.outdir}/: kubectl apply -f ${app.outdir}/0000-dask-operator.k8s.yaml, wait for the CRDs, then kubectl apply -f ${app.outdir}/0001-my-cluster.k8s.yaml`);
}
