/**
 * Benchmark: how long the operator takes to bring a worker group from 0 to N Ready worker Pods on the local control
 * plane, against two baselines measured in the same run on the same cluster: a Deployment of N replicas (Kubernetes'
 * own ReplicaSet controller) and the floor, the same Pods created by a bare client 10 at a time. Also N → 0.
 *
 *   npm run bench                      N=50, 3 repeats (≈ 2 min)
 *   BENCH_N=100 BENCH_REPEATS=5 npm run bench
 *
 * Reports medians and ratios (operator / baseline); writes bench/results/scale-up-<date>.md. Runs inside the
 * private network namespace (hack/bench.sh), with the operator as a separate process (--scheduler-access=none).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoreV1Api, CustomObjectsApi, AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { REPO_ROOT, startCluster, stopCluster } from '../test/integration/support/cluster';
import { loadYaml } from '../test/support/yaml';
import { dropNulls } from '../lib/validation/crd-schema';
import { median, until as untilFor } from './support';

const until = (what: string, check: () => Promise<boolean>): Promise<number> => untilFor(what, check, TIMEOUT_MS);

const N = Number(process.env.BENCH_N ?? 50);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TIMEOUT_MS = 180_000;
const NS = 'bench';

async function main(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') throw new Error('run the benchmark with `npm run bench` (it needs the private network namespace)');
  const crdDir = path.join(REPO_ROOT, 'crds');
  const state = await startCluster({ tier: 'full', crdFiles: fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(crdDir, f)) });
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-bench-'));
  let operator: ChildProcess | undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const out = fs.openSync(path.join(logDir, 'operator.log'), 'a');
    operator = spawn(process.execPath, [path.join(REPO_ROOT, 'build/operator/main.js'), `--kubeconfig=${state.kubeconfig}`, `--namespaces=${NS}`, '--metrics-bind-address=127.0.0.1:0', '--scheduler-access=none', '--log-level=warn'], { stdio: ['ignore', out, out] });

    const readyPods = async (selector: string): Promise<number> =>
      (await core.listNamespacedPod({ namespace: NS, labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    const anyPods = async (selector: string): Promise<number> => (await core.listNamespacedPod({ namespace: NS, labelSelector: selector })).items.length;

    // Warm-up (untimed): the operator's caches are synced and the kwok node has run pods before anything is timed.
    const warm = JSON.parse(JSON.stringify(dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0])).replace(/my-cluster/g, 'warmup'));
    warm.spec.worker.replicas = 1;
    await custom.createNamespacedCustomObject({ group: 'kubernetes.dask.org', version: 'v1', namespace: NS, plural: 'daskclusters', body: warm });
    await until('the warm-up cluster', async () => (await readyPods('dask.org/cluster-name=warmup')) === 2);
    await custom.deleteNamespacedCustomObject({ group: 'kubernetes.dask.org', version: 'v1', namespace: NS, plural: 'daskclusters', name: 'warmup' });

    const rssMiB = (): number => {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${operator?.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    };
    const rss: { idle: number[]; atN: number[] } = { idle: [], atN: [] };
    const results: Record<string, number[]> = { operatorUp: [], baselineUp: [], floorUp: [], operatorDown: [], baselineDown: [], floorDown: [] };
    for (let i = 0; i < REPEATS; i++) {
      // Operator: a DaskCluster with N workers (the scheduler Pod is created alongside; we time the workers).
      const name = `b${i}`;
      const sel = `dask.org/cluster-name=${name},dask.org/component=worker`;
      const cluster = JSON.parse(JSON.stringify(dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0])).replace(/my-cluster/g, name));
      cluster.spec.worker.replicas = N;
      await custom.createNamespacedCustomObject({ group: 'kubernetes.dask.org', version: 'v1', namespace: NS, plural: 'daskclusters', body: cluster });
      rss.idle.push(rssMiB());
      results.operatorUp.push(await until(`${N} Ready workers of ${name}`, async () => (await readyPods(sel)) === N));
      rss.atN.push(rssMiB());
      await custom.patchNamespacedCustomObject({ group: 'kubernetes.dask.org', version: 'v1', namespace: NS, plural: 'daskclusters', name, body: [{ op: 'replace', path: '/spec/worker/replicas', value: 0 }] });
      results.operatorDown.push(await until(`0 workers of ${name}`, async () => (await anyPods(sel)) === 0));
      await custom.deleteNamespacedCustomObject({ group: 'kubernetes.dask.org', version: 'v1', namespace: NS, plural: 'daskclusters', name });

      // Baseline: a Deployment of N replicas.
      const dname = `d${i}`;
      await apps.createNamespacedDeployment({ namespace: NS, body: {
        metadata: { name: dname },
        spec: { replicas: N, selector: { matchLabels: { app: dname } }, template: { metadata: { labels: { app: dname } }, spec: { containers: [{ name: 'c', image: 'pause' }] } } },
      } });
      results.baselineUp.push(await until(`${N} Ready pods of ${dname}`, async () => (await readyPods(`app=${dname}`)) === N));
      await apps.patchNamespacedDeployment({ namespace: NS, name: dname, body: [{ op: 'replace', path: '/spec/replicas', value: 0 }] });
      results.baselineDown.push(await until(`0 pods of ${dname}`, async () => (await anyPods(`app=${dname}`)) === 0));
      await apps.deleteNamespacedDeployment({ namespace: NS, name: dname });
      // Floor: the same Pods created by a bare client, 10 requests at a time (what no controller can beat).
      const fname = `f${i}`;
      const names = Array.from({ length: N }, (_, k) => `${fname}-${k}`);
      const t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: 10 }, async () => {
        while (next < names.length) {
          const podName = names[next++];
          await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: podName, labels: { floor: fname } }, spec: { containers: [{ name: 'c', image: 'pause' }] } } });
        }
      }));
      await until(`${N} Ready bare pods`, async () => (await readyPods(`floor=${fname}`)) === N);
      results.floorUp.push(performance.now() - t0);
      const t1 = performance.now();
      next = 0;
      await Promise.all(Array.from({ length: 10 }, async () => {
        while (next < names.length) await core.deleteNamespacedPod({ namespace: NS, name: names[next++] });
      }));
      await until(`0 bare pods`, async () => (await anyPods(`floor=${fname}`)) === 0);
      results.floorDown.push(performance.now() - t1);
      process.stderr.write(`[bench] repeat ${i + 1}/${REPEATS}: operator up ${results.operatorUp[i].toFixed(0)} ms, baseline up ${results.baselineUp[i].toFixed(0)} ms\n`);
    }
    const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const date = new Date().toISOString().slice(0, 10);
    const report = [
      `# Scale-up benchmark, ${date}`,
      '',
      `Machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; local control plane (Kubernetes ${state.tier} tier, kwok). N = ${N}, ${REPEATS} repeats, medians.`,
      '',
      '| what | operator (DaskWorkerGroup) | Deployment | floor (bare client, 10 parallel) | operator / Deployment | operator / floor |',
      '| --- | --- | --- | --- | --- | --- |',
      `| 0 → ${N} Ready Pods | ${(m.operatorUp / 1000).toFixed(2)} s | ${(m.baselineUp / 1000).toFixed(2)} s | ${(m.floorUp / 1000).toFixed(2)} s | ${(m.operatorUp / m.baselineUp).toFixed(2)} | ${(m.operatorUp / m.floorUp).toFixed(2)} |`,
      `| ${N} → 0 Pods gone | ${(m.operatorDown / 1000).toFixed(2)} s | ${(m.baselineDown / 1000).toFixed(2)} s | ${(m.floorDown / 1000).toFixed(2)} s | ${(m.operatorDown / m.baselineDown).toFixed(2)} | ${(m.operatorDown / m.floorDown).toFixed(2)} |`,
      '',
      `Operator memory (RSS, median): ${median(rss.idle).toFixed(0)} MiB before a run, ${median(rss.atN).toFixed(0)} MiB with ${N} worker Pods (+ the scheduler Pod) in its caches.`,
      '',
      `Raw (ms): ${JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`,
      '',
      'Scale-down here is the no-scheduler fallback (kwok runs no Dask processes): Pods are deleted, not retired.',
      '',
    ].join('\n');
    fs.mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
    const file = path.join(REPO_ROOT, `bench/results/scale-up-n${N}-${date}.md`);
    fs.writeFileSync(file, report);
    process.stdout.write(`${report}\nwrote ${path.relative(REPO_ROOT, file)}\n`);
  } finally {
    operator?.kill('SIGTERM');
    await stopCluster(state);
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
