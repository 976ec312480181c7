/**
 * Benchmark on the real-node tier: time from `kubectl apply` of a DaskCluster to N workers registered with its
 * (real) scheduler, and from delete to every Pod gone, with the operator installed the GitOps way (the synthesized
 * YAML, the image built from the Dockerfile, running as a Pod, DNS scheduler access).
 *
 *   npm run bench -- real-node                         N = 3 and 10, 3 repeats each
 *   BENCH_NODE_N="3 10" BENCH_REPEATS=5 npm run bench -- real-node
 *
 * "Registered" is asked of the scheduler (its /api/v1/get_workers route through the API server's service proxy),
 * not read from Pod status. Writes bench/results/real-node-<date>.md.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Testing } from 'cdk8s';
import { DaskCluster } from '../lib/index';
import { REPO_ROOT } from '../test/integration/support/cluster';
import { startTier, stopTier } from '../test/integration/support/node-tier';
import { median, p90 } from './support';

const SIZES = (process.env.BENCH_NODE_N ?? '3 10').split(/\s+/).filter(Boolean).map(Number);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TIMEOUT_MS = 300_000;
const NS = 'bench';


async function main(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') throw new Error('run the benchmark with `npm run bench -- real-node` (it needs the private network namespace)');
  const state = await startTier('node');
  const synthDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-bench-synth-'));
  const kubectl = (args: string[], input?: string): string =>
    execFileSync(path.join(state.binDir, 'kubectl'), ['--kubeconfig', state.kubeconfig, ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const until = async (what: string, check: () => boolean): Promise<number> => {
    const start = performance.now();
    for (;;) {
      let ok = false;
      try {
        ok = check();
      } catch {
        ok = false;
      }
      if (ok) return performance.now() - start;
      if (performance.now() - start > TIMEOUT_MS) throw new Error(`bench: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  try {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'build', 'main.js')], { cwd: REPO_ROOT, env: { ...process.env, CDK8S_OUTDIR: synthDir }, stdio: 'pipe' });
    kubectl(['apply', '-f', path.join(synthDir, '0000-dask-operator.k8s.yaml')]);
    kubectl(['wait', '--for', 'condition=established', 'crd', '-l', 'app.kubernetes.io/part-of=cdk8s-dask', '--timeout=60s']);
    kubectl(['rollout', 'status', '-n', 'dask-operator', 'deploy/dask-operator', '--timeout=180s']);
    kubectl(['create', 'namespace', NS]);

    const manifest = (name: string, n: number): string => {
      const chart = new Chart(new App(), 'bench');
      new DaskCluster(chart, name, { workers: n, workerArgs: ['--nthreads', '1'] });
      const [obj] = Testing.synth(chart) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const probe of ['readinessProbe', 'livenessProbe']) obj.spec.scheduler.spec.containers[0][probe].timeoutSeconds = 5;
      return JSON.stringify(obj);
    };
    const registered = (name: string): number => {
      const raw = kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/services/http:${name}-scheduler:8787/proxy/api/v1/get_workers`]);
      return ((JSON.parse(raw) as { workers?: unknown[] }).workers ?? []).length;
    };
    const pods = (name: string): number => kubectl(['get', 'pods', '-n', NS, '-l', `dask.org/cluster-name=${name}`, '-o', 'name']).split('\n').filter(Boolean).length;

    const results: Record<number, { up: number[]; down: number[] }> = {};
    // Warm-up (untimed): the images are paged in and the operator's caches are synced.
    kubectl(['apply', '-n', NS, '-f', '-'], manifest('warmup', 1));
    await until('the warm-up cluster', () => registered('warmup') === 1);
    kubectl(['delete', 'daskcluster', '-n', NS, 'warmup', '--wait=false']);
    await until('the warm-up Pods to go', () => pods('warmup') === 0);
    for (const n of SIZES) {
      results[n] = { up: [], down: [] };
      for (let i = 0; i < REPEATS; i++) {
        const name = `rn${n}-${i}`;
        const t0 = performance.now();
        kubectl(['apply', '-n', NS, '-f', '-'], manifest(name, n));
        await until(`${n} workers registered with ${name}'s scheduler`, () => registered(name) === n);
        results[n].up.push(performance.now() - t0);
        const t1 = performance.now();
        kubectl(['delete', 'daskcluster', '-n', NS, name, '--wait=false']);
        await until(`every Pod of ${name} gone`, () => pods(name) === 0);
        results[n].down.push(performance.now() - t1);
        process.stderr.write(`[bench] N=${n} repeat ${i + 1}/${REPEATS}: apply → registered ${(results[n].up[i] / 1000).toFixed(1)} s, delete → gone ${(results[n].down[i] / 1000).toFixed(1)} s\n`);
      }
    }
    const date = new Date().toISOString().slice(0, 10);
    const rows = SIZES.map((n) => `| ${n} | ${(median(results[n].up) / 1000).toFixed(1)} s | ${(p90(results[n].up) / 1000).toFixed(1)} s | ${(median(results[n].down) / 1000).toFixed(1)} s | ${(p90(results[n].down) / 1000).toFixed(1)} s |`);
    const report = [
      `# Real-node benchmark, ${date}`,
      '',
      `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; tier node (one kubelet on containerd, images imported locally). The operator runs as a Pod from the synthesized install; DaskClusters from the DaskCluster construct (default commands and probes, \`--nthreads 1\`, probe timeouts 5 s). ${REPEATS} repeats per N, after a warm-up.`,
      '',
      '| N workers | apply → N registered with the scheduler (median) | p90 | delete → all Pods gone (median) | p90 |',
      '| --- | --- | --- | --- | --- |',
      ...rows,
      '',
      `Raw (ms): ${JSON.stringify(Object.fromEntries(SIZES.map((n) => [n, { up: results[n].up.map(Math.round), down: results[n].down.map(Math.round) }])))}`,
      '',
      'Workers reach the scheduler through its Service, which routes only to a Ready scheduler Pod: registration is bounded below by the scheduler\'s readiness probe (initialDelaySeconds 5, periodSeconds 10) and by Python start-up on 2 cores.',
      '',
    ].join('\n');
    fs.mkdirSync(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
    const file = path.join(REPO_ROOT, `bench/results/real-node-${date}.md`);
    fs.writeFileSync(file, report);
    process.stdout.write(`${report}\nwrote ${path.relative(REPO_ROOT, file)}\n`);
  } finally {
    fs.rmSync(synthDir, { recursive: true, force: true });
    await stopTier(state);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
