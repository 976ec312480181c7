/**
 * Benchmark: this operator side by side with the upstream one (dask-kubernetes from PyPI, run with kopf), at scale, on
 * one kwok control plane, runs alternating; plus the bare-client floor measured in the same run.
 *
 *   npm run bench -- vs-upstream                                    everything (about an hour on 2 cores)
 *   BENCH_SCENARIOS=workers BENCH_SIZES="100 1000" BENCH_REPEATS=5  start-up / scale / delete only
 *   BENCH_SCENARIOS=clusters BENCH_CLUSTERS=1000                    memory, steady state and queue latency
 *   BENCH_SCENARIOS=autoscalers BENCH_AUTOSCALERS=100               idle autoscalers
 *   BENCH_CLUSTER_REPEATS=1 BENCH_AUTOSCALER_REPEATS=5               runs per operator (autoscalers: as clusters unless set)
 *   BENCH_OPERATORS=ours                                            one operator only
 *   BENCH_OURS_ARGS="--kube-api-qps=100 --kube-api-burst=200"       extra flags for ours
 *
 * Scenarios (each step has a timeout; a step that times out is reported as such, not as a number):
 * - workers: apply a DaskCluster with N workers → the scheduler and N workers Running and Ready; delete → every Pod
 *   gone. API requests per worker from the API server's audit log, by User-Agent (the operator, and
 *   kube-controller-manager). At N = 100 also 100 → 200 (all Ready) → 100 (100 worker Pods left).
 * - clusters: K DaskClusters (1 scheduler + 1 worker each) applied in four steps; after each step the operator's RSS
 *   (and V8 heap, ours only) → memory vs managed Pods; with K idle clusters, API requests per second for 60 s; then
 *   10 changes/s (an annotation on a random DaskCluster) for 30 s: the work queue's wait, p50/p99 (ours: from its
 *   `dask_operator_workqueue_queue_duration_seconds` histogram); then delete all.
 * - autoscalers: A DaskClusters each with a DaskAutoscaler (1..3), idle: operator CPU-seconds and API requests per
 *   minute over 60 s.
 *
 * Each operator runs with its own CRDs (ours from crds/, upstream's from the installed package); they share names,
 * so they are swapped in place (PUT on the CRD objects) between runs while no custom resource exists. Neither
 * operator can reach a Dask scheduler here (kwok runs no processes): ours runs with --scheduler-access=none, so its
 * scale-down falls back to deleting Pods; upstream keeps trying to reach the scheduler.
 *
 * Writes bench/results/vs-upstream-<date>.md and .json (charts: `npm run bench:charts`). Runs inside the private
 * network namespace (hack/bench.sh); every connection goes to loopback.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, startCluster, stopCluster, type ClusterState } from '../test/integration/support/cluster';
import { loadYaml } from '../test/support/yaml';
import { dropNulls } from '../lib/validation/crd-schema';
import { freePort } from '../test/dask/support/dask-procs';
import { loadKubeTarget } from '../operator/runtime/kubeconfig';
import { KubeHttpError, KubeRest } from '../operator/runtime/rest';
import { Informer } from '../operator/runtime/informer';
import type { KubeObject } from '../operator/runtime/object';
import { BenchTimeout, get, until } from './support';
import { DEFAULT_SETTINGS, fmt, renderReport, type AutoscalersRun, type ClustersRun, type ForcedCleanup, type MemPoint, type RawResults, type ReportSettings, type SubjectId, type WorkersRun } from './vs-upstream-report';

const env = (name: string, dflt: string): string => process.env[name] ?? dflt;
const SCENARIOS = env('BENCH_SCENARIOS', 'workers clusters autoscalers').split(/[\s,]+/).filter(Boolean);
const OPERATORS = env('BENCH_OPERATORS', 'ours upstream').split(/[\s,]+/).filter(Boolean) as SubjectId[];
const SIZES = env('BENCH_SIZES', DEFAULT_SETTINGS.sizes.join(' ')).split(/[\s,]+/).filter(Boolean).map(Number);
const REPEATS = Number(env('BENCH_REPEATS', '5'));
const CLUSTER_REPEATS = Number(env('BENCH_CLUSTER_REPEATS', '1'));
const AUTOSCALER_REPEATS = Number(env('BENCH_AUTOSCALER_REPEATS', String(CLUSTER_REPEATS)));
const CHANGES_PER_S = 10;
/** Appended to the result files' names (runs of the same scenarios on one day). */
const TAG = env('BENCH_TAG', '');
/** Extra flags for our operator (e.g. "--kube-api-qps=100 --kube-api-burst=200"); the report names them. */
const OURS_ARGS = env('BENCH_OURS_ARGS', '').split(/\s+/).filter(Boolean);
/**
 * The variables that change what is measured, each read over its default in DEFAULT_SETTINGS: sizes, windows and
 * timeouts (BENCH_CLUSTER_STEP_TIMEOUT_MS: each quarter of the clusters' apply; BENCH_CLUSTER_DELETE_TIMEOUT_MS: their
 * delete; BENCH_AUTOSCALER_CLEANUP_TIMEOUT_MS: how long the autoscalers scenario waits for its objects to go before the
 * bench removes what finalizers hold). The report records the result (MEASURED) and names every one that was set.
 */
const VARIABLES = {
  BENCH_CLUSTERS: 'clusters',
  BENCH_AUTOSCALERS: 'autoscalers',
  BENCH_TIMEOUT_MS: 'stepTimeoutMs',
  BENCH_SCALE_DOWN_TIMEOUT_MS: 'scaleDownTimeoutMs',
  BENCH_CLUSTER_STEP_TIMEOUT_MS: 'clusterStepTimeoutMs',
  BENCH_CLUSTER_DELETE_TIMEOUT_MS: 'clusterDeleteTimeoutMs',
  BENCH_STEADY_MS: 'steadyMs',
  BENCH_CHANGES_MS: 'changesMs',
  BENCH_QUIET_TIMEOUT_MS: 'quietTimeoutMs',
  BENCH_AUTOSCALER_CLEANUP_TIMEOUT_MS: 'autoscalerCleanupTimeoutMs',
} as const satisfies Record<string, Exclude<keyof typeof DEFAULT_SETTINGS, 'sizes' | 'settleMs'>>;
function positive(name: string): number {
  const v = Number(process.env[name]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: expected a positive number, got ${JSON.stringify(process.env[name])}`);
  return v;
}
const MEASURED: typeof DEFAULT_SETTINGS = {
  ...DEFAULT_SETTINGS,
  sizes: SIZES,
  ...Object.fromEntries(Object.entries(VARIABLES).filter(([name]) => process.env[name] !== undefined).map(([name, key]) => [key, positive(name)])),
};
const {
  clusters: CLUSTERS, autoscalers: AUTOSCALERS, stepTimeoutMs: STEP_TIMEOUT_MS, scaleDownTimeoutMs: SCALE_DOWN_TIMEOUT_MS,
  clusterStepTimeoutMs: CLUSTER_STEP_TIMEOUT_MS, clusterDeleteTimeoutMs: CLUSTER_DELETE_TIMEOUT_MS, steadyMs: STEADY_MS,
  changesMs: CHANGES_MS, quietTimeoutMs: QUIET_TIMEOUT_MS, autoscalerCleanupTimeoutMs: AUTOSCALER_CLEANUP_TIMEOUT_MS, settleMs: SETTLE_MS,
} = MEASURED;
const NS = 'bench';
const UA = 'cdk8s-dask-bench';
const DASK = '/apis/kubernetes.dask.org/v1';
const UPSTREAM_PKG = path.join(REPO_ROOT, '.venv/lib/python3.11/site-packages/dask_kubernetes');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`[vs-upstream ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** A timed step: its milliseconds, or null (and a note) when it timed out. */
async function timed(what: string, timeoutMs: number, run: (t: number) => Promise<unknown>, check: () => boolean | Promise<boolean>): Promise<number | null> {
  const t0 = performance.now();
  await run(t0);
  try {
    await until(what, check, Math.max(0, timeoutMs - (performance.now() - t0)));
    return performance.now() - t0;
  } catch (e) {
    if (!(e instanceof BenchTimeout)) throw e;
    log(e.message);
    return null;
  }
}


// ---- processes: RSS and CPU of a process and its descendants, read from /proc -------------------------------------

function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

const CLK_TCK = 100;
/** User + system CPU seconds of the tree under `pid` (live descendants, plus reaped children's totals). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of descendants(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    } catch {
      // exited
    }
  }
  return ticks / CLK_TCK;
}

/** Resident memory (MiB) of the tree under `pid`. */
function rssMiB(pid: number): number {
  let kb = 0;
  for (const p of descendants(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      // exited
    }
  }
  return kb / 1024;
}

// ---- the audit log: one line per request (stage RequestReceived), attributed by User-Agent -------------------------

interface AuditEvent { userAgent?: string; verb: string; requestURI?: string; objectRef?: { resource?: string; subresource?: string } }

/** What a request was for: its resource[/subresource], or for a non-resource URL `/version` or `discovery` (the API group lists). */
function requestKind(e: AuditEvent): string {
  if (e.objectRef?.resource) return `${e.verb} ${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}`;
  const p = (e.requestURI ?? '?').split('?')[0];
  return `${e.verb} ${p.startsWith('/version') ? '/version' : p.startsWith('/api') ? 'discovery' : p}`;
}

class AuditLog {
  constructor(readonly file: string) {}
  mark(): number {
    return fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
  }
  since(offset: number): AuditEvent[] {
    const fd = fs.openSync(this.file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size < offset) throw new Error(`the audit log ${this.file} shrank (${size} < ${offset} bytes): rotated? The bench reads it by offset`);
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      return buf.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Who sent a request: the operator under test, or one of the fixed parts of the control plane. */
function actor(ua: string | undefined): string {
  const u = ua ?? '';
  for (const [prefix, name] of [['kube-controller-manager/', 'kube-controller-manager'], ['kube-scheduler/', 'kube-scheduler'], ['kwok', 'kwok'], [UA, 'bench'], ['kube-apiserver/', 'kube-apiserver']] as const) {
    if (u.startsWith(prefix)) return name;
  }
  return 'operator'; // ours (dask-operator/…) or upstream's (kopf, its Kubernetes clients, kubectl children)
}

interface RequestCount {
  operator: number;
  operatorWatches: number;
  operatorLists: number;
  /** The operator's requests by "verb resource[/subresource]". */
  operatorByKind: Record<string, number>;
  kcm: number;
  scheduler: number;
  userAgents: Record<string, number>;
}
function countRequests(events: AuditEvent[]): RequestCount {
  const c: RequestCount = { operator: 0, operatorWatches: 0, operatorLists: 0, operatorByKind: {}, kcm: 0, scheduler: 0, userAgents: {} };
  for (const e of events) {
    const a = actor(e.userAgent);
    if (a === 'operator') {
      c.operator++;
      if (e.verb === 'watch') c.operatorWatches++;
      if (e.verb === 'list') c.operatorLists++;
      const kind = requestKind(e);
      c.operatorByKind[kind] = (c.operatorByKind[kind] ?? 0) + 1;
      const key = (e.userAgent ?? '(none)').split(' ')[0];
      c.userAgents[key] = (c.userAgents[key] ?? 0) + 1;
    } else if (a === 'kube-controller-manager') c.kcm++;
    else if (a === 'kube-scheduler') c.scheduler++;
  }
  return c;
}

// ---- the two operators ------------------------------------------------------------------------------------------

interface Running {
  readonly pid: number;
  /** V8 heap used (ours only). */
  heapMiB(): Promise<number | undefined>;
  /**
   * Ours only: a full garbage collection through the V8 inspector, then the heap used and the status writes held
   * (`dask_operator_own_status_writes`). What is left after a full collection is what the operator retains; the heap
   * without one also holds garbage the collector has not reached yet (single RSS samples at 2,000 Pods ranged from 118
   * to 167 MiB across runs of the same scenario).
   */
  retained?(): Promise<{ heapMiB?: number; rssMiB: number; ownWrites?: number }>;
  metrics(): Promise<string | undefined>;
  stop(): Promise<void>;
}

interface Subject {
  readonly id: SubjectId;
  readonly label: string;
  readonly crds: object[];
  start(state: ClusterState, logFile: string): Promise<Running>;
}

function readCrds(dir: string): object[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON() as { kind?: string }))
    .filter((d) => d?.kind === 'CustomResourceDefinition');
}

async function stopChild(child: ChildProcess, match: string): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Ours to stop: check the pid still runs what we started (pids are reused).
  if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(match)) process.kill(pid, 'SIGTERM');
  const t = setTimeout(() => {
    if (child.exitCode === null && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(match)) process.kill(pid, 'SIGKILL');
  }, 20_000);
  await exited;
  clearTimeout(t);
}

/** An unlabelled sample of our operator's metrics (the name without the `dask_operator_` prefix). */
function gaugeValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^(?:dask_operator_)?${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** A full garbage collection in a Node process listening with --inspect on `port` (loopback), through the DevTools protocol. */
async function collectGarbage(port: number): Promise<void> {
  const targets = JSON.parse((await get(`http://127.0.0.1:${port}/json/list`)).body || '[]') as { webSocketDebuggerUrl?: string }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`bench: no inspector target on 127.0.0.1:${port}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bench: the inspector did not answer HeapProfiler.collectGarbage in 60 s')), 60_000);
      ws.onerror = () => { clearTimeout(timer); reject(new Error(`bench: inspector connection to ${url} failed`)); };
      ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
      ws.onmessage = (m) => {
        const reply = JSON.parse(String(m.data)) as { id?: number; error?: { message: string } };
        if (reply.id !== 1) return;
        clearTimeout(timer);
        if (reply.error) reject(new Error(`bench: HeapProfiler.collectGarbage: ${reply.error.message}`));
        else resolve();
      };
    });
  } finally {
    ws.close();
  }
}

function ours(): Subject {
  const main = path.join(REPO_ROOT, 'build/operator/main.js');
  const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  return {
    id: 'ours',
    label: `cdk8s-dask-operator ${version} (${head})${OURS_ARGS.length > 0 ? ` ${OURS_ARGS.join(' ')}` : ''}`,
    crds: readCrds(path.join(REPO_ROOT, 'crds')),
    async start(state, logFile) {
      const port = await freePort();
      const inspectPort = await freePort();
      const out = fs.openSync(logFile, 'a');
      // --inspect on loopback: the bench asks V8 for a full collection before reading retained memory (idle RSS was
      // 77–78 MiB with and without it).
      const child = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, main, `--kubeconfig=${state.kubeconfig}`, `--namespaces=${NS}`, `--metrics-bind-address=127.0.0.1:${port}`, '--scheduler-access=none', '--log-level=warn', ...OURS_ARGS], { stdio: ['ignore', out, out] });
      fs.closeSync(out);
      await until('our operator /readyz', async () => (await get(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000);
      const metrics = async () => (await get(`http://127.0.0.1:${port}/metrics`)).body;
      return {
        pid: child.pid as number,
        metrics,
        async heapMiB() {
          const v = gaugeValue(await metrics(), 'nodejs_heap_size_used_bytes');
          return v === undefined ? undefined : v / 2 ** 20;
        },
        async retained() {
          await collectGarbage(inspectPort);
          const text = await metrics();
          const heap = gaugeValue(text, 'nodejs_heap_size_used_bytes');
          return { heapMiB: heap === undefined ? undefined : heap / 2 ** 20, rssMiB: rssMiB(child.pid as number), ownWrites: gaugeValue(text, 'own_status_writes') };
        },
        stop: () => stopChild(child, main),
      };
    },
  };
}

function upstream(): Subject {
  const kopf = path.join(REPO_ROOT, '.venv/bin/kopf');
  const pip = (name: string) => /^Version: (.+)$/m.exec(execFileSync(path.join(REPO_ROOT, '.venv/bin/pip'), ['show', name], { encoding: 'utf8' }))?.[1] ?? '?';
  if (!fs.existsSync(kopf) || !fs.existsSync(UPSTREAM_PKG)) {
    throw new Error(`the upstream operator is not installed: expected ${kopf} and ${UPSTREAM_PKG} (bash hack/dask/venv.sh installs hack/dask/requirements.txt)`);
  }
  return {
    id: 'upstream',
    label: `dask-kubernetes ${pip('dask-kubernetes')} (kopf ${pip('kopf')})`,
    crds: readCrds(path.join(UPSTREAM_PKG, 'operator/deployment/helm/dask-kubernetes-operator/crds')),
    async start(state, logFile) {
      const port = await freePort();
      const out = fs.openSync(logFile, 'a');
      const child = spawn(kopf, ['run', '-m', 'dask_kubernetes.operator.controller', `--namespace=${NS}`, '--standalone', `--liveness=http://127.0.0.1:${port}/healthz`], {
        stdio: ['ignore', out, out],
        env: { ...process.env, KUBECONFIG: state.kubeconfig, PATH: `${state.binDir}:${path.dirname(kopf)}:${process.env.PATH ?? ''}` },
      });
      fs.closeSync(out);
      await until('the upstream operator /healthz', async () => (await get(`http://127.0.0.1:${port}/healthz`)).status === 200, 60_000);
      return { pid: child.pid as number, metrics: async () => undefined, heapMiB: async () => undefined, stop: () => stopChild(child, 'dask_kubernetes.operator.controller') };
    },
  };
}

// ---- the bench --------------------------------------------------------------------------------------------------

interface Pod extends KubeObject {
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
const isReady = (p: Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

interface Ctx {
  rest: KubeRest;
  pods: Informer<Pod>;
  audit: AuditLog;
  /** What runs now (e.g. "clusters, ours, run 2"), for the record of forced clean-ups. */
  phase: string;
  /** Clean-ups that timed out and had the bench remove finalizers: the report lists them. */
  forced: ForcedCleanup[];
}

const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as object;
function daskCluster(name: string, workers: number): { metadata: { name: string }; spec: { worker: { replicas: number } } } {
  const c = JSON.parse(JSON.stringify(seed).replace(/my-cluster/g, name)) as { metadata: { name: string }; spec: { worker: { replicas: number } } };
  c.spec.worker.replicas = workers;
  return c;
}

const podsOf = (ctx: Ctx, cluster?: string, component?: string): Pod[] =>
  ctx.pods.list(NS).filter((p) => (!cluster || p.metadata?.labels?.['dask.org/cluster-name'] === cluster) && (!component || p.metadata?.labels?.['dask.org/component'] === component));

/** Runs `f` over `items`, `parallel` at a time. */
async function each<T>(items: readonly T[], parallel: number, f: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < items.length) await f(items[next++]);
  }));
}

async function swapCrds(ctx: Ctx, subject: Subject): Promise<void> {
  for (const crd of subject.crds as { metadata: { name: string } }[]) {
    const p = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
    let current: { metadata: { resourceVersion: string } } | undefined;
    try {
      current = await ctx.rest.request('GET', p);
    } catch (e) {
      if (!(e instanceof KubeHttpError && e.statusCode === 404)) throw e;
    }
    if (current) await ctx.rest.request('PUT', p, { body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } } });
    else await ctx.rest.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
  }
  await until(`${subject.id}'s CRDs Established`, async () => {
    for (const crd of subject.crds as { metadata: { name: string } }[]) {
      const c = await ctx.rest.request<{ metadata: { generation: number }; status?: { conditions?: { type: string; status: string; observedGeneration?: number }[] } }>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      if (!c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) return false;
    }
    return true;
  }, 60_000);
  // The API server swaps a CRD's handler asynchronously after the update: give it a moment (nothing is timed here).
  await sleep(2_000);
}

/** Deletes every DaskCluster (and anything the operator left) and waits until no Dask object and no Pod is left. */
/**
 * Deletes every Dask object in the namespace and waits until they and all Pods are gone. Returns how long that took,
 * or null if it did not happen within `timeoutMs`: then the objects still held by finalizers (an operator that did
 * not finish its deletion handlers: upstream's kopf, whose autoscaler timers keep retrying a scheduler it cannot
 * reach) have their finalizers removed by the bench, so that the next run starts from an empty namespace. The caller
 * reports the timeout and the count, and the clean-up is recorded in `ctx.forced` (with `what`, for the report); only if
 * the namespace is still not empty after that does this throw.
 */
async function clearNamespace(ctx: Ctx, what: string, timeoutMs = 600_000): Promise<{ ms: number | null; finalizersRemoved: number }> {
  const plurals = ['daskclusters', 'daskworkergroups', 'daskautoscalers'];
  type Listed = { metadata?: { name?: string; deletionTimestamp?: string; finalizers?: string[] } };
  const list = async (plural: string) => (await ctx.rest.request<{ items: Listed[] }>('GET', `${DASK}/namespaces/${NS}/${plural}`)).items;
  for (const plural of ['daskautoscalers', 'daskclusters']) {
    await each(await list(plural), 10, (o) => ctx.rest.request('DELETE', `${DASK}/namespaces/${NS}/${plural}/${o.metadata?.name}`).catch(() => undefined));
  }
  const empty = async () => {
    for (const plural of plurals) if ((await list(plural)).length > 0) return false;
    return ctx.pods.list(NS).length === 0;
  };
  try {
    return { ms: await until('an empty namespace', empty, timeoutMs, 500), finalizersRemoved: 0 };
  } catch (e) {
    if (!(e instanceof BenchTimeout)) throw e;
  }
  let finalizersRemoved = 0;
  for (const plural of plurals) {
    const held = (await list(plural)).filter((o) => o.metadata?.deletionTimestamp && (o.metadata.finalizers?.length ?? 0) > 0);
    await each(held, 10, (o) => ctx.rest.request('PATCH', `${DASK}/namespaces/${NS}/${plural}/${o.metadata?.name}`, { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' }).catch(() => undefined));
    finalizersRemoved += held.length;
  }
  log(`  the namespace was not empty after ${Math.round(timeoutMs / 1000)} s; removed the finalizers of ${finalizersRemoved} Dask objects being deleted`);
  ctx.forced.push({ during: `${ctx.phase}: ${what}`, finalizersRemoved });
  await until('an empty namespace (finalizers removed by the bench)', empty, 300_000, 500);
  return { ms: null, finalizersRemoved };
}

const createCluster = (ctx: Ctx, name: string, workers: number) => ctx.rest.request('POST', `${DASK}/namespaces/${NS}/daskclusters`, { body: daskCluster(name, workers) });
const deleteCluster = (ctx: Ctx, name: string) => ctx.rest.request('DELETE', `${DASK}/namespaces/${NS}/daskclusters/${name}`);
const scaleCluster = (ctx: Ctx, name: string, workers: number) =>
  ctx.rest.request('PATCH', `${DASK}/namespaces/${NS}/daskclusters/${name}`, { body: { spec: { worker: { replicas: workers } } }, contentType: 'application/merge-patch+json' });

async function workersScenario(ctx: Ctx, n: number, tag: string, withScale: boolean, timeoutMs: number): Promise<WorkersRun> {
  const name = `w${tag}`;
  const mark = ctx.audit.mark();
  const up = await timed(`${n} Ready workers and the scheduler of ${name}`, timeoutMs, () => createCluster(ctx, name, n),
    () => podsOf(ctx, name).filter(isReady).length === n + 1 && podsOf(ctx, name, 'worker').filter(isReady).length === n);
  const requests = countRequests(ctx.audit.since(mark));
  const run: WorkersRun = { up, down: null, requestsPerWorker: up === null ? undefined : { operator: requests.operator / n, kcm: requests.kcm / n, scheduler: requests.scheduler / n }, userAgents: requests.userAgents };
  if (withScale && up !== null) {
    const workers = () => podsOf(ctx, name, 'worker').filter((p) => !p.metadata?.deletionTimestamp);
    const sUp = await timed(`${name}: ${2 * n} Ready workers`, timeoutMs, () => scaleCluster(ctx, name, 2 * n), () => workers().filter(isReady).length === 2 * n);
    const sDown = sUp === null ? null : await timed(`${name}: ${n} workers left`, SCALE_DOWN_TIMEOUT_MS, () => scaleCluster(ctx, name, n), () => workers().length === n);
    run.scale = { up: sUp, down: sDown };
  }
  // After a scale run the delete starts from another count (not comparable): not timed, just cleared.
  if (!withScale) run.down = await timed(`every Pod of ${name} gone`, timeoutMs, () => deleteCluster(ctx, name), () => podsOf(ctx, name).length === 0);
  await clearNamespace(ctx, `after ${name}`);
  return run;
}

async function floorScenario(ctx: Ctx, n: number, tag: string, timeoutMs: number): Promise<{ up: number | null; down: number | null }> {
  const names = Array.from({ length: n }, (_, k) => `f${tag}-${k}`);
  const mine = () => ctx.pods.list(NS).filter((p) => p.metadata?.labels?.floor === tag);
  const up = await timed(`${n} Ready bare Pods`, timeoutMs, () => each(names, 10, (podName) => ctx.rest.request('POST', `/api/v1/namespaces/${NS}/pods`, {
    body: { metadata: { name: podName, labels: { floor: tag } }, spec: { containers: [{ name: 'c', image: 'pause' }] } },
  })), () => mine().filter(isReady).length === n);
  const down = await timed('every bare Pod gone', timeoutMs, () => each(names, 10, (podName) => ctx.rest.request('DELETE', `/api/v1/namespaces/${NS}/pods/${podName}`)), () => mine().length === 0);
  return { up, down };
}

/**
 * The q-quantile of a Prometheus histogram's observations between two scrapes (linear within a bucket), over the
 * series whose labels include `labels` (summed when several match).
 */
function histogramQuantile(before: string, after: string, metric: string, labels: Record<string, string>, q: number): number | undefined {
  const buckets = (text: string) => {
    const out = new Map<number, number>();
    const has = Object.entries(labels).map(([k, v]) => `(?=[^}]*${k}="${v}")`).join('');
    const re = new RegExp(`^${metric}_bucket\\{${has}[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
    for (const m of text.matchAll(re)) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      out.set(le, (out.get(le) ?? 0) + Number(m[2]));
    }
    return out;
  };
  const a = buckets(before);
  const b = [...buckets(after).entries()].map(([le, n]) => ({ le, n: n - (a.get(le) ?? 0) })).sort((x, y) => x.le - y.le);
  const total = b.at(-1)?.n ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const { le, n } of b) {
    if (n >= rank) return le === Infinity ? prevLe : prevLe + ((le - prevLe) * (rank - prevN)) / Math.max(1, n - prevN);
    prevLe = le;
    prevN = n;
  }
  return undefined;
}

async function clustersScenario(ctx: Ctx, op: Running, k: number, tag: string): Promise<ClustersRun> {
  const sample = async (pods: number): Promise<MemPoint> => {
    await sleep(SETTLE_MS);
    const point: MemPoint = { pods, rssMiB: rssMiB(op.pid), heapMiB: await op.heapMiB() };
    const kept = await op.retained?.();
    return kept ? { ...point, retainedHeapMiB: kept.heapMiB, rssAfterGcMiB: kept.rssMiB, ownWrites: kept.ownWrites } : point;
  };
  const memory = [await sample(0)];
  const names = Array.from({ length: k }, (_, i) => `c${tag}-${i}`);
  const steps = 4;
  const applyMark = ctx.audit.mark();
  let applyMs = 0;
  let failed = false;
  for (let s = 0; s < steps && !failed; s++) {
    const batch = names.slice(Math.floor((s * k) / steps), Math.floor(((s + 1) * k) / steps));
    const want = 2 * Math.floor(((s + 1) * k) / steps);
    const t = await timed(`${want} Ready Pods (${want / 2} clusters)`, CLUSTER_STEP_TIMEOUT_MS, () => each(batch, 10, (n) => createCluster(ctx, n, 1)), () => ctx.pods.list(NS).filter(isReady).length === want);
    if (t === null) failed = true;
    else {
      applyMs += t;
      memory.push(await sample(want));
      const m = memory.at(-1);
      log(`  ${want / 2} clusters: ${m?.rssMiB.toFixed(0)} MiB RSS${m?.heapMiB !== undefined ? `, ${m.heapMiB.toFixed(0)} MiB heap` : ''}${m?.retainedHeapMiB !== undefined ? `; after a full GC ${m.retainedHeapMiB.toFixed(0)} MiB heap, ${m.rssAfterGcMiB?.toFixed(0)} MiB RSS, ${m.ownWrites ?? '?'} own status writes held` : ''}`);
    }
  }
  const run: ClustersRun = { memory, applyMs: failed ? null : applyMs, deleteMs: null };
  if (!failed) {
    // Idle means the operator has drained what the apply left (Events, status writes queued behind its rate limit):
    // wait until it sent nothing but watches for 10 s (at most QUIET_TIMEOUT_MS; an operator that is never quiet
    // is measured anyway, and the report says so).
    let quietAfterMs: number | null = null;
    try {
      quietAfterMs = await until('the operator quiet for 10 s', async () => {
        const m = ctx.audit.mark();
        await sleep(10_000);
        const c = countRequests(ctx.audit.since(m));
        return c.operator - c.operatorWatches === 0;
      }, QUIET_TIMEOUT_MS, 0);
    } catch (e) {
      if (!(e instanceof BenchTimeout)) throw e;
      log(`  not quiet after ${QUIET_TIMEOUT_MS / 1000} s; measuring the steady state anyway`);
    }
    run.applyRequests = countRequests(ctx.audit.since(applyMark)).operatorByKind;
    log(`  apply: ${Object.entries(run.applyRequests).sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${kind} ${(n / k).toFixed(2)}`).join(', ')} per cluster`);
    let mark = ctx.audit.mark();
    const cpu0 = cpuSeconds(op.pid);
    await sleep(STEADY_MS);
    const steady = countRequests(ctx.audit.since(mark));
    run.steady = {
      requestsPerS: steady.operator / (STEADY_MS / 1000),
      watchesPerS: steady.operatorWatches / (STEADY_MS / 1000),
      cpuSecondsPerMin: ((cpuSeconds(op.pid) - cpu0) * 60_000) / STEADY_MS,
      userAgents: steady.userAgents,
      quietAfterMs,
    };
    // Quiet, then idle for the window: every status write has been seen by the cache, so no entry should be left.
    const idleKept = await op.retained?.();
    if (idleKept) run.steady = { ...run.steady, retainedHeapMiB: idleKept.heapMiB, ownWrites: idleKept.ownWrites };
    log(`  steady: ${run.steady.requestsPerS.toFixed(2)} requests/s (${run.steady.watchesPerS.toFixed(2)} watches/s), ${run.steady.cpuSecondsPerMin.toFixed(2)} CPU-s/min${idleKept ? `; then ${idleKept.heapMiB?.toFixed(1)} MiB heap after a full GC, ${idleKept.ownWrites ?? '?'} own status writes held` : ''}`);
    mark = ctx.audit.mark();
    const before = await op.metrics();
    const total0 = before ? sumSeries(before, 'dask_operator_reconcile_total', 'daskcluster') : undefined;
    const t0 = performance.now();
    let i = 0;
    while (performance.now() - t0 < CHANGES_MS) {
      const due = t0 + (i * 1000) / CHANGES_PER_S;
      if (performance.now() < due) await sleep(due - performance.now());
      const name = names[Math.floor(Math.random() * names.length)];
      await ctx.rest.request('PATCH', `${DASK}/namespaces/${NS}/daskclusters/${name}`, { body: { metadata: { annotations: { 'bench.cdk8s-dask.io/tick': String(i) } } }, contentType: 'application/merge-patch+json' });
      i++;
    }
    await sleep(2_000); // the last changes' reconciles
    const after = await op.metrics();
    const changed = countRequests(ctx.audit.since(mark));
    const metric = 'dask_operator_workqueue_queue_duration_seconds';
    // The changes' keys only (priority normal): a periodic resync that falls into the window queues every cluster at
    // low priority, and those waits are not the changes'.
    const changeSeries = { controller: 'daskcluster', priority: 'normal' };
    const q50 = before && after ? histogramQuantile(before, after, metric, changeSeries, 0.5) : undefined;
    const q99 = before && after ? histogramQuantile(before, after, metric, changeSeries, 0.99) : undefined;
    run.changes = {
      requestsPerS: changed.operator / ((performance.now() - t0) / 1000),
      queueP50Ms: q50 === undefined ? undefined : q50 * 1000,
      queueP99Ms: q99 === undefined ? undefined : q99 * 1000,
      reconciles: after && total0 !== undefined ? sumSeries(after, 'dask_operator_reconcile_total', 'daskcluster') - total0 : undefined,
      resyncInWindow: changed.operatorLists > 0,
    };
    log(`  ${i} changes: ${run.changes.requestsPerS.toFixed(2)} requests/s${q50 !== undefined ? `, queue wait p50 ${run.changes.queueP50Ms?.toFixed(1)} ms, p99 ${run.changes.queueP99Ms?.toFixed(1)} ms` : ''}`);
  }
  run.deleteMs = await timed(`every Pod gone (${k} clusters deleted)`, CLUSTER_DELETE_TIMEOUT_MS, () => each(names, 10, (n) => deleteCluster(ctx, n).catch(() => undefined)), () => ctx.pods.list(NS).length === 0);
  await clearNamespace(ctx, 'after the delete');
  return run;
}

function sumSeries(text: string, metric: string, controller: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${metric}\\{(?=[^}]*controller="${controller}")[^}]*\\} (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

async function autoscalersScenario(ctx: Ctx, op: Running, a: number, tag: string): Promise<AutoscalersRun> {
  const names = Array.from({ length: a }, (_, i) => `a${tag}-${i}`);
  await each(names, 10, async (n) => {
    await createCluster(ctx, n, 1);
    await ctx.rest.request('POST', `${DASK}/namespaces/${NS}/daskautoscalers`, { body: { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskAutoscaler', metadata: { name: n }, spec: { cluster: n, minimum: 1, maximum: 3 } } });
  });
  let ready = true;
  try {
    await until(`${2 * a} Ready Pods`, () => ctx.pods.list(NS).filter(isReady).length === 2 * a, 600_000, 500);
  } catch (e) {
    if (!(e instanceof BenchTimeout)) throw e;
    log(e.message);
    ready = false;
  }
  await sleep(SETTLE_MS * 2);
  const mark = ctx.audit.mark();
  const cpu0 = cpuSeconds(op.pid);
  const before = await op.metrics();
  await sleep(STEADY_MS);
  const after = await op.metrics();
  const c = countRequests(ctx.audit.since(mark));
  // What the CPU goes to (ours): the autoscalers' reconciles in the window, from its own counter.
  const reconcilesPerMin = before && after ? ((sumSeries(after, 'dask_operator_reconcile_total', 'daskautoscaler') - sumSeries(before, 'dask_operator_reconcile_total', 'daskautoscaler')) * 60_000) / STEADY_MS : undefined;
  const run = { ready, cpuSecondsPerMin: ((cpuSeconds(op.pid) - cpu0) * 60_000) / STEADY_MS, requestsPerMin: (c.operator * 60_000) / STEADY_MS, userAgents: c.userAgents, ...(reconcilesPerMin !== undefined ? { reconcilesPerMin } : {}) };
  log(`  ${a} idle autoscalers: ${run.cpuSecondsPerMin.toFixed(2)} CPU-s/min, ${run.requestsPerMin.toFixed(0)} requests/min${reconcilesPerMin !== undefined ? `, ${reconcilesPerMin.toFixed(0)} autoscaler reconciles/min` : ''}`);
  const cleared = await clearNamespace(ctx, 'the timed delete', AUTOSCALER_CLEANUP_TIMEOUT_MS);
  log(`  delete → all gone: ${cleared.ms === null ? `not within ${AUTOSCALER_CLEANUP_TIMEOUT_MS / 1000} s (finalizers of ${cleared.finalizersRemoved} objects removed by the bench)` : fmt(cleared.ms)}`);
  return { ...run, deleteMs: cleared.ms, finalizersRemoved: cleared.finalizersRemoved };
}

async function main(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') throw new Error('run the benchmark with `npm run bench -- vs-upstream` (it needs the private network namespace)');
  const subjects = OPERATORS.map((id) => (id === 'ours' ? ours() : id === 'upstream' ? upstream() : (() => { throw new Error(`BENCH_OPERATORS: unknown operator "${id}" (ours, upstream)`); })()));
  // Pods at the peak: the largest start-up (+ its scheduler), the scale run (200 workers + scheduler), 2 per cluster, up
  // to 3 workers + a scheduler per autoscaled cluster. kwok nodes hold 110 Pods each (a kubelet's default).
  const maxPods = Math.max(
    SCENARIOS.includes('workers') ? Math.max(...SIZES, 200) + 1 : 0,
    SCENARIOS.includes('clusters') ? 2 * CLUSTERS : 0,
    SCENARIOS.includes('autoscalers') ? 4 * AUTOSCALERS : 0,
    2,
  );
  const fakeNodes = Math.max(1, Math.ceil(maxPods / 100));
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-vs-upstream-'));
  const policy = path.join(logDir, 'audit-policy.yaml');
  fs.writeFileSync(policy, ['apiVersion: audit.k8s.io/v1', 'kind: Policy', 'omitStages: [ResponseStarted, ResponseComplete, Panic]', 'rules:', '- level: Metadata', ''].join('\n'));
  const auditFile = path.join(logDir, 'audit.log');
  const loadStart = os.loadavg();
  log(`${subjects.map((s) => s.label).join(' vs ')}; scenarios ${SCENARIOS.join(', ')}; ${fakeNodes} kwok nodes; logs in ${logDir}`);
  const state = await startCluster({ tier: 'full', fakeNodes, crdFiles: fs.readdirSync(path.join(REPO_ROOT, 'crds')).map((f) => path.join(REPO_ROOT, 'crds', f)),
    apiserverArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditFile}`, '--audit-log-format=json', '--audit-log-mode=blocking',
      // No rotation: 0 would mean the default 100 MB, and a rotated file breaks the offsets the bench reads from.
      '--audit-log-maxsize=1000000', '--audit-log-maxbackup=0'] });
  let running: Running | undefined;
  // Stopped from outside (Ctrl-C, a timeout): stop the operator and the control plane before going.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping the operator and the control plane`);
      void (async () => {
        await running?.stop().catch(() => undefined);
        await stopCluster(state).catch(() => undefined);
        process.exit(130);
      })();
    });
  }
  const results: RawResults & { forcedCleanups: ForcedCleanup[] } = { workers: {}, floor: {}, clusters: {}, autoscalers: {}, forcedCleanups: [] };
  const push = <V>(m: Partial<Record<string, V[]>>, k: string | number, v: V) => void (m[k] = [...(m[k] ?? []), v]);
  try {
    const rest = new KubeRest(await loadKubeTarget({ kubeconfig: state.kubeconfig }), { userAgent: UA });
    const pods = new Informer<Pod>({ path: `/api/v1/namespaces/${NS}/pods`, client: rest, name: 'bench-pods' });
    await rest.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
    const ctx: Ctx = { rest, pods, audit: new AuditLog(auditFile), phase: 'start', forced: results.forcedCleanups };
    pods.start();
    await pods.waitForSync({ timeoutMs: 30_000 });

    const withOperator = async (subject: Subject, r: number, phase: string, f: (op: Running) => Promise<void>) => {
      ctx.phase = phase;
      await swapCrds(ctx, subject);
      running = await subject.start(state, path.join(logDir, `${subject.id}-${r}.log`));
      try {
        // Warm-up (untimed): caches synced, the path exercised once.
        await createCluster(ctx, `warm${r}`, 1);
        await until('the warm-up cluster Ready', () => podsOf(ctx, `warm${r}`).filter(isReady).length === 2, 120_000);
        await clearNamespace(ctx, 'after the warm-up');
        await f(running);
      } finally {
        await clearNamespace(ctx, 'before stopping the operator').catch((e: unknown) => log(`could not clear the namespace: ${String(e)}`));
        await running.stop();
        running = undefined;
      }
    };

    const report = () => writeReport(subjects, results, fakeNodes, loadStart);
    for (const scenario of SCENARIOS) {
      if (scenario === 'workers') {
        for (let r = 0; r < REPEATS; r++) {
          for (const n of SIZES) {
            const f = await floorScenario(ctx, n, `${r}n${n}`, STEP_TIMEOUT_MS);
            push(results.floor, n, f);
            log(`repeat ${r + 1}/${REPEATS} N=${n} floor: up ${fmt(f.up)}, down ${fmt(f.down)}`);
          }
          for (const subject of r % 2 === 0 ? subjects : [...subjects].reverse()) {
            await withOperator(subject, r, `workers, ${subject.id}, repeat ${r + 1}`, async () => {
              for (const n of SIZES) {
                const w = await workersScenario(ctx, n, `${r}n${n}`, false, STEP_TIMEOUT_MS);
                push(results.workers, `${subject.id}:${n}`, w);
                log(`repeat ${r + 1}/${REPEATS} N=${n} ${subject.id}: up ${fmt(w.up)}, down ${fmt(w.down)}, ${w.requestsPerWorker?.operator.toFixed(2)} operator + ${w.requestsPerWorker?.kcm.toFixed(2)} kcm requests/worker`);
              }
              const s = await workersScenario(ctx, 100, `${r}s`, true, STEP_TIMEOUT_MS);
              push(results.workers, `${subject.id}:scale`, s);
              log(`repeat ${r + 1}/${REPEATS} scale ${subject.id}: 100→200 ${fmt(s.scale?.up ?? null)}, 200→100 ${fmt(s.scale?.down ?? null)}`);
            });
          }
          report(); // after every repeat: a run stopped early keeps what it measured
        }
      }
      // clusters and autoscalers: CLUSTER_REPEATS runs per operator, the order alternating.
      const perOperator = async (what: string, size: number, repeats: number, tagBase: number, run: (op: Running, id: SubjectId, tag: string) => Promise<void>) => {
        for (let r = 0; r < repeats; r++) {
          for (const subject of r % 2 === 0 ? subjects : [...subjects].reverse()) {
            log(`${what}: ${subject.id}, ${size} of them, run ${r + 1}/${repeats}`);
            await withOperator(subject, tagBase + r, `${what}, ${subject.id}, run ${r + 1}`, (op) => run(op, subject.id, `${r}`));
            report();
          }
        }
      };
      if (scenario === 'clusters') {
        await perOperator('clusters', CLUSTERS, CLUSTER_REPEATS, 100, async (op, id, tag) => void push(results.clusters, id, await clustersScenario(ctx, op, CLUSTERS, tag)));
      }
      if (scenario === 'autoscalers') {
        await perOperator('autoscalers', AUTOSCALERS, AUTOSCALER_REPEATS, 200, async (op, id, tag) => void push(results.autoscalers, id, await autoscalersScenario(ctx, op, AUTOSCALERS, tag)));
      }
    }
    await pods.stop();
  } finally {
    await running?.stop().catch(() => undefined);
    await stopCluster(state);
  }
  fs.rmSync(logDir, { recursive: true, force: true });
}

/** The variables the chosen scenarios read, as the report's command line shows them. */
function commandVariables(): string[] {
  const vars = [`BENCH_SCENARIOS="${SCENARIOS.join(' ')}"`];
  if (OPERATORS.join(' ') !== 'ours upstream') vars.push(`BENCH_OPERATORS="${OPERATORS.join(' ')}"`);
  if (SCENARIOS.includes('workers')) vars.push(`BENCH_SIZES="${SIZES.join(' ')}"`, `BENCH_REPEATS=${REPEATS}`);
  if (SCENARIOS.includes('clusters')) vars.push(`BENCH_CLUSTERS=${CLUSTERS}`);
  if (SCENARIOS.includes('autoscalers')) vars.push(`BENCH_AUTOSCALERS=${AUTOSCALERS}`);
  if (SCENARIOS.includes('clusters')) vars.push(`BENCH_CLUSTER_REPEATS=${CLUSTER_REPEATS}`);
  if (SCENARIOS.includes('autoscalers')) vars.push(`BENCH_AUTOSCALER_REPEATS=${AUTOSCALER_REPEATS}`, `BENCH_AUTOSCALER_CLEANUP_TIMEOUT_MS=${AUTOSCALER_CLEANUP_TIMEOUT_MS}`);
  if (OURS_ARGS.length > 0) vars.push(`BENCH_OURS_ARGS="${OURS_ARGS.join(' ')}"`);
  // The other measured variables, when set (the report states every value either way).
  for (const name of Object.keys(VARIABLES)) {
    if (process.env[name] !== undefined && !vars.some((v) => v.startsWith(`${name}=`))) vars.push(`${name}=${process.env[name]}`);
  }
  return vars;
}

/** Writes this invocation's report (bench/results/vs-upstream-<date>[-<scenarios>][-<tag>].md and .json). */
function writeReport(subjects: Subject[], results: RawResults, fakeNodes: number, loadStart: number[]): void {
  const date = new Date().toISOString().slice(0, 10);
  const settings: ReportSettings = {
    ...MEASURED,
    command: commandVariables(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    fakeNodes,
    load: { start: loadStart, end: os.loadavg() },
  };
  const { md, json } = renderReport([{ name: 'this run', date, versions: Object.fromEntries(subjects.map((s) => [s.id, s.label])), settings, raw: results }]);
  const base = path.join(REPO_ROOT, 'bench', 'results', `vs-upstream-${date}`);
  const suffix = `${SCENARIOS.length === 3 ? '' : `-${SCENARIOS.join('-')}`}${TAG ? `-${TAG}` : ''}`;
  fs.writeFileSync(`${base}${suffix}.md`, md + '\n');
  fs.writeFileSync(`${base}${suffix}.json`, JSON.stringify(json, null, 1) + '\n');
  log(`wrote ${path.relative(REPO_ROOT, base)}${suffix}.md and .json\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
