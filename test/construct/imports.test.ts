import { App, Chart, Testing } from 'cdk8s';
import { DaskAutoscaler } from '../../imports/daskautoscalers-kubernetes.dask.org';
import { DaskWorkerGroup } from '../../imports/daskworkergroups-kubernetes.dask.org';
import { crdProblems } from '../../lib/validation/crd-schema';

describe('imports/: the cdk8s import L1 classes generated from crds/', () => {
  test('synthesize objects our CRDs accept', () => {
    const chart = new Chart(new App(), 'l1');
    new DaskAutoscaler(chart, 'scaler', { metadata: { name: 'my-cluster' }, spec: { cluster: 'my-cluster', minimum: 1, maximum: 100 } });
    new DaskWorkerGroup(chart, 'group', {
      metadata: { name: 'my-cluster-gpu' },
      spec: {
        cluster: 'my-cluster',
        worker: {
          replicas: 2,
          spec: { containers: [{ name: 'worker', image: 'ghcr.io/dask/dask:latest', resources: { limits: { 'nvidia.com/gpu': 1 } } }] },
        },
      },
    });
    const objs = Testing.synth(chart) as Record<string, any>[];
    expect(objs.map((o) => o.kind)).toEqual(['DaskAutoscaler', 'DaskWorkerGroup']);
    for (const o of objs) expect(crdProblems(o)).toEqual([]);
    expect(objs[1].spec.worker.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
  });
});
