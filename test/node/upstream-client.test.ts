/**
 * The upstream Python client (`dask-kubernetes` from PyPI, `from dask_kubernetes.operator import KubeCluster`) against
 * our CRDs and operator on a real node, reaching the scheduler the way it does for users: a port-forward through the
 * API server. Create with n_workers=2, scale(3), a Client computes, from_name reconnects, close() deletes the cluster.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { REPO_ROOT } from '../integration/support/cluster';
import { testCluster } from '../integration/support/env';
import { eventually } from '../integration/support/eventually';
import { kubectl } from '../integration/support/kube';
import { installOperator, operatorLog, synthesize } from './support/real-dask';

jest.setTimeout(600_000);

const NS = `upstream-${randomBytes(3).toString('hex')}`;
const PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python');

// dask-kubernetes 2026.3.0 (the newest release) still starts schedulers with `dask-scheduler` and workers with
// `dask-worker`, which distributed 2026.6.0 removed: a user of current Dask passes `worker_command` and sets the
// scheduler's command in a spec from make_cluster_spec. Everything else is the client's own behaviour.
const SCRIPT = `
import json, os, sys
from dask_kubernetes.operator import KubeCluster, make_cluster_spec
from distributed import Client

ns = os.environ["TEST_NAMESPACE"]
spec = make_cluster_spec(name="upstream", n_workers=2, image="ghcr.io/dask/dask:2026.8.0", worker_command="dask worker --nthreads 1")
spec["spec"]["scheduler"]["spec"]["containers"][0]["args"][:1] = ["dask", "scheduler"]
cluster = KubeCluster(custom_cluster_spec=spec, namespace=ns, resource_timeout=180, quiet=True)
out = {"address": cluster.scheduler_address}
cluster.scale(3)
with Client(cluster) as client:
    client.wait_for_workers(3, timeout=240)
    out["workers"] = len(client.scheduler_info()["workers"])
    out["answer"] = client.submit(lambda x: x + 1, 41).result()
again = KubeCluster.from_name("upstream", namespace=ns, resource_timeout=180, quiet=True)
with Client(again) as client:
    out["again"] = client.submit(sum, [1, 2, 3]).result()
again.close()  # from_name: shutdown_on_close is False, the cluster stays
out["after_from_name_close"] = "kept"
cluster.close()  # created here: deletes the DaskCluster
print("RESULT " + json.dumps(out))
`;

function runPython(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', SCRIPT], {
      env: { ...process.env, KUBECONFIG: testCluster().kubeconfig, TEST_NAMESPACE: NS, PYTHONUNBUFFERED: '1' },
      timeout: 540_000,
      maxBuffer: 16 * 1024 * 1024,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  await installOperator(synthesize().operator);
  await kubectl(['create', 'namespace', NS]);
});
afterAll(async () => {
  await kubectl(['delete', 'namespace', NS, '--wait=false'], { allowFailure: true });
});

test('KubeCluster(n_workers=2), scale(3), Client computes, from_name reconnects, close() deletes', async () => {
  const r = await runPython();
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.code !== 0 || !line) {
    throw new Error(`the upstream client failed (exit ${r.code}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}\n--- operator log ---\n${await operatorLog()}`);
  }
  const out = JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
  expect(out).toMatchObject({ workers: 3, answer: 42, again: 6, after_from_name_close: 'kept' });
  expect(String(out.address)).toMatch(/^tcp:\/\/(localhost|127\.0\.0\.1):\d+$/);
  await eventually(() => kubectl(['get', 'daskcluster,pods', '-n', NS, '-o', 'name']), {
    describe: 'the DaskCluster and its Pods to be gone after close()',
    until: (x) => x.stdout.trim() === '',
    timeoutMs: 120_000,
  });
});
