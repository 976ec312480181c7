/**
 * Benchmark: the operator's memory, idle and with K DaskClusters (1 scheduler + 1 worker each, so 2K managed Pods),
 * for the current build and, in the same run on the same control plane, a baseline build of another git revision,
 * alternating. RSS from /proc/<pid>/status, V8 heap used from the operator's own /metrics
 * (nodejs_heap_size_used_bytes), each sampled after the operator has been quiet for SETTLE_MS.
 *
 *   npm run bench -- operator-memory                                   the current build only, K=50, 3 repeats
 *   BENCH_BASELINE_REV=<rev> BENCH_K=50 npm run bench -- operator-memory also a build of <rev> (git worktree + tsc)
 *
 * Writes bench/results/operator-memory-<date>.md. Runs inside the private network namespace (hack/bench.sh).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { REPO_ROOT, startCluster, stopCluster } from '../test/integration/support/cluster';
import { loadYaml } from '../test/support/yaml';
import { dropNulls } from '../lib/validation/crd-schema';
import { freePort } from '../test/dask/support/dask-procs';
import { median, until as untilFor, get } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (what: string, check: () => Promise<boolean>): Promise<void> => void (await untilFor(what, check, TIMEOUT_MS, 200));

const K = Number(process.env.BENCH_K ?? 50);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const BASELINE_REV = process.env.BENCH_BASELINE_REV;
const SETTLE_MS = 10_000;
const TIMEOUT_MS = 180_000;
const NS = 'bench-mem';
const GROUP = { group: 'kubernetes.dask.org', version: 'v1', namespace: NS, plural: 'daskclusters' };


/** Builds `rev` into a temporary worktree (sharing this checkout's node_modules); returns its operator entry point. */
function buildRevision(rev: string): { main: string; label: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-baseline-'));
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  console.log(`bench: building the baseline ${rev} (${sha}) in ${dir}`);
  execFileSync('git', ['worktree', 'add', '--detach', dir, rev], { cwd: REPO_ROOT, stdio: 'ignore' });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: dir, stdio: 'inherit' });
  return {
    main: path.join(dir, 'build/operator/main.js'),
    label: `baseline ${sha}`,
    cleanup: () => execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: REPO_ROOT, stdio: 'ignore' }),
  };
}

interface Sample { rssMiB: number; heapMiB: number }

async function main(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') throw new Error('run the benchmark with `npm run bench -- operator-memory` (it needs the private network namespace)');
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'operator', 'lib'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
  const builds: { label: string; main: string; cleanup?: () => void }[] = [{ label: `current ${head}${dirty ? '+changes' : ''}`, main: path.join(REPO_ROOT, 'build/operator/main.js') }];
  if (BASELINE_REV) builds.push(buildRevision(BASELINE_REV));
  const crdDir = path.join(REPO_ROOT, 'crds');
  const state = await startCluster({ tier: 'full', crdFiles: fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(crdDir, f)) });
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-bench-mem-'));
  const results = new Map<string, { idle: Sample[]; loaded: Sample[] }>(builds.map((b) => [b.label, { idle: [], loaded: [] }]));
  let operator: ChildProcess | undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]);
    const cluster = (name: string) => {
      const c = JSON.parse(JSON.stringify(seed).replace(/my-cluster/g, name));
      c.spec.worker.replicas = 1;
      return c;
    };
    const readyPods = async (): Promise<number> =>
      (await core.listNamespacedPod({ namespace: NS })).items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    const allPods = async (): Promise<number> => (await core.listNamespacedPod({ namespace: NS })).items.length;

    for (let r = 0; r < REPEATS; r++) {
      for (const b of r % 2 === 0 ? builds : [...builds].reverse()) {
        const port = await freePort();
        const out = fs.openSync(path.join(logDir, `operator-${r}.log`), 'a');
        operator = spawn(process.execPath, [b.main, `--kubeconfig=${state.kubeconfig}`, `--namespaces=${NS}`, `--metrics-bind-address=127.0.0.1:${port}`, '--scheduler-access=none', '--log-level=warn'], { stdio: ['ignore', out, out] });
        const pid = operator.pid as number;
        const sample = async (): Promise<Sample> => {
          await sleep(SETTLE_MS);
          const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
          const heap = /^(?:dask_operator_)?nodejs_heap_size_used_bytes (\S+)$/m.exec((await get(`http://127.0.0.1:${port}/metrics`)).body);
          return { rssMiB: rss ? Number(rss[1]) / 1024 : NaN, heapMiB: heap ? Number(heap[1]) / 2 ** 20 : NaN };
        };
        await until(`${b.label}: /readyz`, async () => (await get(`http://127.0.0.1:${port}/readyz`)).status === 200);
        const idle = await sample();
        for (let i = 0; i < K; i++) await custom.createNamespacedCustomObject({ ...GROUP, body: cluster(`m${r}-${i}`) });
        await until(`${b.label}: ${2 * K} Ready Pods`, async () => (await readyPods()) === 2 * K);
        const loaded = await sample();
        results.get(b.label)?.idle.push(idle);
        results.get(b.label)?.loaded.push(loaded);
        console.log(`bench: ${b.label} run ${r + 1}: idle ${idle.rssMiB.toFixed(1)} MiB RSS / ${idle.heapMiB.toFixed(1)} MiB heap; with ${K} clusters ${loaded.rssMiB.toFixed(1)} / ${loaded.heapMiB.toFixed(1)}`);
        for (let i = 0; i < K; i++) await custom.deleteNamespacedCustomObject({ ...GROUP, name: `m${r}-${i}` });
        await until('every Pod gone', async () => (await allPods()) === 0);
        // Stop by pid (the process we started), after checking it is still ours.
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(b.main)) process.kill(pid, 'SIGTERM');
        await new Promise<void>((resolve) => (operator?.exitCode !== null ? resolve() : operator.once('exit', () => resolve())));
        operator = undefined;
      }
    }
  } finally {
    if (operator?.pid && operator.exitCode === null) operator.kill('SIGKILL');
    await stopCluster(state);
    for (const b of builds) b.cleanup?.();
  }

  const rows = [...results.entries()].map(([label, r]) => {
    const idleRss = median(r.idle.map((s) => s.rssMiB));
    const loadedRss = median(r.loaded.map((s) => s.rssMiB));
    const idleHeap = median(r.idle.map((s) => s.heapMiB));
    const loadedHeap = median(r.loaded.map((s) => s.heapMiB));
    return { label, idleRss, loadedRss, idleHeap, loadedHeap, perPod: (loadedRss - idleRss) / (2 * K), heapPerPod: (loadedHeap - idleHeap) / (2 * K) };
  });
  const date = new Date().toISOString().slice(0, 10);
  const md = [
    `# Operator memory, idle and with ${K} DaskClusters (${2 * K} managed Pods), ${date}`,
    '',
    `\`${['npm run bench -- operator-memory', BASELINE_REV ? `(BENCH_BASELINE_REV=${BASELINE_REV})` : ''].join(' ').trim()}\`, ${REPEATS} runs per build, alternating, on one full-tier (kwok) control plane; medians. Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}).`,
    'Samples are taken after the operator was quiet for 10 s. Slopes: (loaded − idle) / managed Pods.',
    '',
    '| build | RSS idle | RSS with clusters | heap idle | heap with clusters | RSS per Pod | heap per Pod |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((x) => `| ${x.label} | ${x.idleRss.toFixed(1)} MiB | ${x.loadedRss.toFixed(1)} MiB | ${x.idleHeap.toFixed(1)} MiB | ${x.loadedHeap.toFixed(1)} MiB | ${x.perPod.toFixed(3)} MiB | ${x.heapPerPod.toFixed(3)} MiB |`),
    '',
    'Raw samples (RSS MiB / heap MiB):',
    '',
    ...[...results.entries()].map(([label, r]) => `- ${label}: idle ${r.idle.map((s) => `${s.rssMiB.toFixed(1)}/${s.heapMiB.toFixed(1)}`).join(', ')}; loaded ${r.loaded.map((s) => `${s.rssMiB.toFixed(1)}/${s.heapMiB.toFixed(1)}`).join(', ')}`),
    '',
  ].join('\n');
  const file = path.join(REPO_ROOT, 'bench', 'results', `operator-memory-${date}.md`);
  fs.writeFileSync(file, md);
  console.log(`\n${md}\nbench: wrote ${path.relative(REPO_ROOT, file)}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
