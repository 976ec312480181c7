/**
 * Ours vs the upstream operator (dask-kubernetes, kopf) on ONE real-node tier cluster, alternating between them.
 *
 *   npm run bench -- real-node-vs-upstream                          N = 3 and 10, 3 rounds
 *   BENCH_NODE_N="3 10" BENCH_REPEATS=5 npm run bench -- real-node-vs-upstream
 *   BENCH_TIMEOUT_S=300 BENCH_PARTITIONS=200 BENCH_BLOCK_BYTES=524288 ...   (per-scenario timeout, the dataset)
 *
 * Per operator and N, each repeat: `kubectl apply` of the same DaskCluster (the DaskCluster construct's output:
 * `dask scheduler` / `dask worker`, one thread per worker) → N workers registered with the scheduler (asked of the
 * scheduler: /json/identity.json through the API server's service proxy); then a client from the project's venv, through a
 * `kubectl port-forward`, persists a dataset over the workers (bench/real-node-persist.py), `kubectl scale
 * daskcluster --replicas=floor(N/2)`, time until the scheduler has that many workers and until only that many worker
 * Pods exist, and how many keys were lost (no holder, or recomputed: see the script); then delete, until every Pod
 * and the DaskCluster are gone.
 *
 * Ours: the synthesized install (operator Pod, CRDs of crds/). Upstream: `kopf run -m dask_kubernetes.operator.controller
 * --namespace bench --standalone` from the venv as a process here (it reaches schedulers through port-forwards via the
 * API server), with the CRDs of the installed chart. Between operators: every DaskCluster and its Pods gone, the
 * other operator stopped (ours: Deployment scaled to 0; upstream: kopf stopped by pid), the CRD objects updated in
 * place (PUT with the current resourceVersion; never deleted), an untimed warm-up cluster. The order alternates per round.
 *
 * Writes bench/results/real-node-vs-upstream-<date>.md and .json (BenchResult, see the end of this file).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { freePort, REPO_ROOT } from '../test/integration/support/cluster';
import { startTier, stopTier } from '../test/integration/support/node-tier';
import { clusterManifest } from '../test/node/support/manifests';
import type { BenchChart, BenchPoint, BenchResult } from './chart';
import { median, p90 } from './support';

const SIZES = (process.env.BENCH_NODE_N ?? '3 10').split(/\s+/).filter(Boolean).map(Number);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000;
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 200);
const BLOCK_BYTES = Number(process.env.BENCH_BLOCK_BYTES ?? 512 * 1024);
const NS = 'bench';
const VENV = path.join(REPO_ROOT, '.venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const SITE = path.join(VENV, 'lib', 'python3.11', 'site-packages');
const UPSTREAM_CRDS = path.join(SITE, 'dask_kubernetes/operator/deployment/helm/dask-kubernetes-operator/crds');
const OUR_CRDS = path.join(REPO_ROOT, 'crds');
const UPSTREAM_MODULE = 'dask_kubernetes.operator.controller';

type Op = 'ours' | 'upstream';
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One scenario's outcome; a null time did not finish (see `note`). */
interface Run {
  op: Op;
  n: number;
  round: number;
  name: string;
  upMs: number | null;
  scaleTo: number;
  downRegisteredMs: number | null;
  downPodsMs: number | null;
  persisted?: { keys: number; bytes: number; workers: number; perWorker: number[] };
  after?: { keys: number; missingNow: number; notFinished: number; recomputed: number; lost: number; workers: number; checkSeconds: number };
  deleteMs: number | null;
  /** Upstream only, from kopf's log: its scale-down handler's retire step (until it logs "Workers to close"). */
  upstreamRetireMs?: number;
  notes: string[];
}

/** From kopf's log: ms from the scale-down handler's start ("… up to K workers.", logged first) to "Workers to close". */
function retireStepMs(kopfLog: string, group: string, scaleTo: number): number | undefined {
  const stamp = (l: string): number => {
    const m = /^\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})\]/.exec(l);
    return m ? Date.parse(`${m[1]}T${m[2]}.${m[3]}Z`) : NaN;
  };
  const lines = fs.readFileSync(kopfLog, 'utf8').split('\n').filter((l) => l.includes(`[${NS}/${group}]`));
  let start = -1;
  lines.forEach((l, i) => {
    if (l.includes(`Scaled worker group ${group} up to ${scaleTo} workers.`)) start = i;
  });
  const end = lines.findIndex((l, i) => i > start && l.includes('Workers to close:'));
  if (start < 0 || end < 0) return undefined;
  const ms = stamp(lines[end]) - stamp(lines[start]);
  return Number.isFinite(ms) ? ms : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};
const loadavg = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' ');

class Timeout extends Error {}

/** Polls `check` every 200 ms; the ms it took, or a Timeout after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = TIMEOUT_MS): Promise<number> {
  const start = performance.now();
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Timeout(`did not see ${what} within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(200);
  }
}

/** Is `pid` alive and its command line the one we started (every fragment present)? */
function isOurs(pid: number | undefined, fragments: string[]): boolean {
  if (!pid) return false;
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && fragments.every((f) => cmd.includes(f));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`, to a child we spawned, after checking its /proc cmdline. */
async function stopChild(child: ChildProcess | undefined, fragments: string[], graceMs = 15_000): Promise<void> {
  if (!child?.pid || !isOurs(child.pid, fragments)) return;
  const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
  process.kill(child.pid, 'SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done && isOurs(child.pid, fragments)) {
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}

function readDocs(dir: string): Obj[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()
    .flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON() as Obj))
    .filter((d) => d?.kind === 'CustomResourceDefinition');
}

function version(pkg: string): string {
  try {
    const dist = fs.readdirSync(SITE).find((d) => d.toLowerCase().startsWith(`${pkg.replace(/-/g, '_')}-`) && d.endsWith('.dist-info'));
    return dist ? dist.slice(pkg.length + 1, -'.dist-info'.length) : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') throw new Error('run the benchmark with `npm run bench -- real-node-vs-upstream` (it needs the private network namespace)');
  for (const f of [PYTHON, path.join(VENV, 'bin', 'kopf'), UPSTREAM_CRDS]) if (!fs.existsSync(f)) throw new Error(`missing ${f}: the venv of hack/dask/requirements.txt (with dask-kubernetes) is needed`);
  const loadStart = loadavg();
  const startedAt = new Date();
  const state = await startTier('node');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-bench-vs-'));
  const kubectlBin = path.join(state.binDir, 'kubectl');
  const kubectl = (args: string[], input?: string, timeoutMs = 60_000): Promise<string> => new Promise((resolve, reject) => {
    const child = execFile(kubectlBin, ['--kubeconfig', state.kubeconfig, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
  const count = async (args: string[]): Promise<number> => (await kubectl(['get', ...args, '-o', 'name'])).split('\n').filter(Boolean).length;
  const registered = async (name: string): Promise<number> => {
    // /json/identity.json: a default route of the scheduler (the /api/v1 routes are on only where our operator
    // enables them), so both operators' clusters are asked the same way.
    const raw = await kubectl(['get', '--raw', `/api/v1/namespaces/${NS}/services/http:${name}-scheduler:8787/proxy/json/identity.json`], undefined, 10_000);
    return Object.keys((JSON.parse(raw) as { workers?: Record<string, unknown> }).workers ?? {}).length;
  };
  const workerPods = (name: string): Promise<number> => count(['pods', '-n', NS, '-l', `dask.org/cluster-name=${name},dask.org/component=worker`]);
  const allPods = (name: string): Promise<number> => count(['pods', '-n', NS, '-l', `dask.org/cluster-name=${name}`]);
  const noDaskObjects = async (): Promise<boolean> => (await count(['daskclusters,daskworkergroups,daskautoscalers,daskjobs', '-A'])) === 0 && (await count(['pods', '-n', NS])) === 0;

  const kopfLog = path.join(tmp, 'kopf.log');
  let kopf: ChildProcess | undefined;
  let kopfFragments: string[] = [];
  let active: Op = 'ours';
  const runs: Run[] = [];

  const setCrds = async (docs: Obj[]): Promise<void> => {
    if (!(await noDaskObjects())) throw new Error('refusing to swap the CRDs while Dask objects or Pods exist');
    for (const doc of docs) {
      const cur = JSON.parse(await kubectl(['get', 'crd', doc.metadata.name, '-o', 'json'])) as Obj;
      const next = { ...doc, metadata: { ...doc.metadata, resourceVersion: cur.metadata.resourceVersion } };
      await kubectl(['replace', '-f', '-'], JSON.stringify(next));
    }
    for (const doc of docs) await kubectl(['wait', '--for', 'condition=established', `crd/${doc.metadata.name}`, '--timeout=60s'], undefined, 70_000);
    await sleep(2_000); // the API server's handlers for the new schema
  };
  const stopOurs = async (): Promise<void> => {
    await kubectl(['scale', 'deploy/dask-operator', '-n', 'dask-operator', '--replicas=0']);
    await until('the operator Pod gone', async () => (await count(['pods', '-n', 'dask-operator'])) === 0, 120_000);
  };
  const startOurs = async (): Promise<void> => {
    await kubectl(['scale', 'deploy/dask-operator', '-n', 'dask-operator', '--replicas=1']);
    await kubectl(['rollout', 'status', '-n', 'dask-operator', 'deploy/dask-operator', '--timeout=180s'], undefined, 190_000);
  };
  const startUpstream = async (): Promise<void> => {
    const port = await freePort();
    const args = [path.join(VENV, 'bin', 'kopf'), 'run', '-m', UPSTREAM_MODULE, '--namespace', NS, '--standalone', `--liveness=http://127.0.0.1:${port}/healthz`];
    const fd = fs.openSync(kopfLog, 'a');
    kopf = spawn(PYTHON, args, { env: { ...process.env, KUBECONFIG: state.kubeconfig, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    kopfFragments = [PYTHON, UPSTREAM_MODULE];
    const probe = (): Promise<boolean> => new Promise((resolve) => {
      http.get(`http://127.0.0.1:${port}/healthz`, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    await until('kopf liveness endpoint', async () => {
      if (!isOurs(kopf?.pid, kopfFragments)) throw new Error(`kopf exited; see ${kopfLog}:\n${fs.readFileSync(kopfLog, 'utf8').slice(-3000)}`);
      return probe();
    }, 90_000).catch((e: unknown) => {
      throw new Error(`upstream operator did not come up: ${e instanceof Error ? e.message : String(e)}\n${fs.readFileSync(kopfLog, 'utf8').slice(-3000)}`);
    });
    log(`kopf (pid ${kopf.pid}) up: ${args.slice(1).join(' ')}`);
  };
  const stopUpstream = async (): Promise<void> => {
    await stopChild(kopf, kopfFragments);
    kopf = undefined;
  };

  /** Apply, wait until registered, delete, wait until gone: untimed (images paged in, caches warm). */
  const warmUp = async (op: Op): Promise<void> => {
    const name = `warm-${op === 'ours' ? 'o' : 'u'}`;
    await kubectl(['apply', '-n', NS, '-f', '-'], JSON.stringify(clusterManifest(name, 1)));
    await until(`the warm-up cluster under ${op}`, async () => (await registered(name)) === 1);
    await kubectl(['delete', 'daskcluster', '-n', NS, name, '--wait=false']);
    await until('the warm-up cluster gone', async () => (await allPods(name)) === 0 && (await count(['daskclusters', '-n', NS])) === 0);
  };

  const activate = async (op: Op): Promise<void> => {
    if (op === active) return;
    const t = performance.now();
    await until('no Dask objects and no Pods left before swapping', noDaskObjects, 180_000);
    if (active === 'ours') await stopOurs();
    else await stopUpstream();
    await setCrds(readDocs(op === 'ours' ? OUR_CRDS : UPSTREAM_CRDS));
    if (op === 'ours') await startOurs();
    else await startUpstream();
    active = op;
    await warmUp(op);
    log(`switched to ${op} in ${((performance.now() - t) / 1000).toFixed(1)} s (warm-up included)`);
  };

  /** A client session: port-forward to the scheduler's comm port, bench/real-node-persist.py through it. */
  const openSession = async (name: string): Promise<{ read: (tag: string, ms: number) => Promise<Obj>; send: () => void; close: () => Promise<void> }> => {
    const pf = spawn(kubectlBin, ['--kubeconfig', state.kubeconfig, 'port-forward', '-n', NS, `svc/${name}-scheduler`, ':8786', '--address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pfOut = '';
    pf.stdout!.on('data', (d: Buffer) => (pfOut += d.toString()));
    pf.stderr!.on('data', (d: Buffer) => (pfOut += d.toString()));
    const pfFragments = [kubectlBin, 'port-forward', `svc/${name}-scheduler`];
    let port = 0;
    await until('kubectl port-forward to the scheduler', async () => {
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(pfOut);
      if (m) port = Number(m[1]);
      if (!port && pf.exitCode !== null) throw new Error(pfOut);
      return port > 0;
    }, 30_000);
    const py = spawn(PYTHON, [path.join(REPO_ROOT, 'bench', 'real-node-persist.py'), `tcp://127.0.0.1:${port}`, String(PARTITIONS), String(BLOCK_BYTES)], {
      env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    py.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    py.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const read = async (tag: string, ms: number): Promise<Obj> => {
      let found: Obj | undefined;
      await until(`${tag} from the client`, async () => {
        const line = out.split('\n').find((l) => l.startsWith(`${tag} `));
        if (line) found = JSON.parse(line.slice(tag.length + 1)) as Obj;
        else if (py.exitCode !== null) throw new Error(`the client exited (${py.exitCode}): ${err.slice(-2000)}`);
        return found !== undefined;
      }, ms).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; client stderr: ${err.slice(-2000)}; port-forward: ${pfOut.slice(-500)}`);
      });
      return found!;
    };
    return {
      read,
      send: () => py.stdin!.write('check\n'),
      close: async () => {
        py.stdin!.end();
        await stopChild(py, [PYTHON, path.join(REPO_ROOT, 'bench', 'real-node-persist.py')], 5_000);
        await stopChild(pf, pfFragments, 5_000);
      },
    };
  };

  const scenario = async (op: Op, n: number, round: number): Promise<Run> => {
    const name = `${op === 'ours' ? 'our' : 'up'}-n${n}-r${round}`;
    const scaleTo = Math.max(1, Math.floor(n / 2));
    const run: Run = { op, n, round, name, upMs: null, scaleTo, downRegisteredMs: null, downPodsMs: null, deleteMs: null, notes: [] };
    try {
      const t0 = performance.now();
      await kubectl(['apply', '-n', NS, '-f', '-'], JSON.stringify(clusterManifest(name, n)));
      try {
        await until(`${n} workers registered`, async () => (await registered(name)) === n);
        run.upMs = performance.now() - t0;
      } catch (e) {
        if (!(e instanceof Timeout)) throw e;
        run.notes.push(`apply: ${e.message}`);
        return run;
      }
      const session = await openSession(name);
      try {
        run.persisted = (await session.read('PERSISTED', 240_000)) as Run['persisted'];
        await kubectl(['scale', 'daskcluster', name, '-n', NS, `--replicas=${scaleTo}`]);
        const reg = until(`${scaleTo} registered workers`, async () => (await registered(name)) === scaleTo).then((ms) => (run.downRegisteredMs = ms));
        const pods = until(`only ${scaleTo} worker Pods`, async () => (await workerPods(name)) === scaleTo).then((ms) => (run.downPodsMs = ms));
        const settled = await Promise.allSettled([reg, pods]);
        for (const s of settled) if (s.status === 'rejected') run.notes.push(`scale ${n}→${scaleTo}: ${(s.reason as Error).message}`);
        if (op === 'upstream') run.upstreamRetireMs = retireStepMs(kopfLog, `${name}-default`, scaleTo);
        session.send();
        run.after = (await session.read('AFTER', 240_000)) as Run['after'];
      } finally {
        await session.close();
      }
    } catch (e) {
      run.notes.push(`error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      const t2 = performance.now();
      await kubectl(['delete', 'daskcluster', '-n', NS, name, '--wait=false', '--ignore-not-found']);
      try {
        await until(`${name}'s Pods and DaskCluster gone`, async () => (await allPods(name)) === 0 && (await count(['daskclusters', '-n', NS])) === 0);
        run.deleteMs = performance.now() - t2;
      } catch (e) {
        run.notes.push(`delete: ${(e as Error).message}`);
        throw new Error(`${name} was not deleted; stopping (${(e as Error).message})`);
      }
      const s = (ms: number | null): string => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
      log(`${op} N=${n} round ${round + 1}: up ${s(run.upMs)}, scale→${scaleTo} registered ${s(run.downRegisteredMs)} / Pods ${s(run.downPodsMs)}, lost ${run.after?.lost ?? '—'}/${run.after?.keys ?? '—'}, delete ${s(run.deleteMs)}${run.notes.length ? ` (${run.notes.join('; ')})` : ''}`);
    }
    return run;
  };

  let failure: unknown;
  try {
    const synthDir = path.join(tmp, 'synth');
    await new Promise<void>((resolve, reject) => execFile(process.execPath, [path.join(REPO_ROOT, 'build', 'main.js')], { cwd: REPO_ROOT, env: { ...process.env, CDK8S_OUTDIR: synthDir } }, (e) => (e ? reject(e) : resolve())));
    await kubectl(['apply', '-f', path.join(synthDir, '0000-dask-operator.k8s.yaml')]);
    await kubectl(['wait', '--for', 'condition=established', 'crd', '-l', 'app.kubernetes.io/part-of=cdk8s-dask', '--timeout=60s'], undefined, 70_000);
    await kubectl(['rollout', 'status', '-n', 'dask-operator', 'deploy/dask-operator', '--timeout=180s'], undefined, 190_000);
    await kubectl(['create', 'namespace', NS]);
    await warmUp('ours');
    for (let round = 0; round < REPEATS; round++) {
      const order: Op[] = round % 2 === 0 ? ['ours', 'upstream'] : ['upstream', 'ours'];
      for (const op of order) {
        await activate(op);
        for (const n of SIZES) runs.push(await scenario(op, n, round));
      }
    }
  } catch (e) {
    failure = e;
    log(`stopped early: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  } finally {
    if (kopf) fs.copyFileSync(kopfLog, path.join(os.tmpdir(), `cdk8s-dask-bench-kopf-${process.pid}.log`));
    await stopUpstream();
    await stopTier(state);
  }
  const loadEnd = loadavg();
  write(runs, { loadStart, loadEnd, startedAt, failure, kopfLogCopy: path.join(os.tmpdir(), `cdk8s-dask-bench-kopf-${process.pid}.log`) });
  fs.rmSync(tmp, { recursive: true, force: true });
  if (failure) process.exitCode = 1;
}

// ---- report ----

const LABEL: Record<Op, string> = { ours: 'cdk8s-dask (ours)', upstream: 'dask-kubernetes (upstream, kopf)' };

function stat(runs: Run[], pick: (r: Run) => number | null): { median: number | null; p90?: number; done: number; total: number; note?: string } {
  const xs = runs.map(pick).filter((x): x is number => x !== null).map((ms) => ms / 1000);
  const total = runs.length;
  const misses = runs.filter((r) => pick(r) === null).flatMap((r) => r.notes).filter(Boolean);
  if (xs.length === 0) return { median: null, done: 0, total, note: misses[0] ?? 'did not finish' };
  return { median: +median(xs).toFixed(2), p90: +p90(xs).toFixed(2), done: xs.length, total, note: xs.length < total ? `${total - xs.length}/${total} did not finish: ${misses[0] ?? ''}` : undefined };
}

function write(runs: Run[], ctx: { loadStart: string; loadEnd: string; startedAt: Date; failure: unknown; kopfLogCopy: string }): void {
  const date = ctx.startedAt.toISOString().slice(0, 10);
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
  let rev = 'unknown';
  try {
    rev = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    /* not a checkout */
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const versions: Record<string, string> = {
    'cdk8s-dask operator': `${pkg.version} (${rev}), as a Pod from the synthesized install`,
    'dask-kubernetes': `${version('dask-kubernetes')} (\`kopf run -m ${UPSTREAM_MODULE} --namespace ${NS} --standalone\`, a process outside the cluster)`,
    kopf: version('kopf'),
    kr8s: version('kr8s'),
    'dask/distributed (image and client)': `${version('dask')} / ${version('distributed')}`,
    kubernetes: 'kubelet, kube-proxy, kube-apiserver v1.36.3 (node tier)',
  };
  const ops: Op[] = ['ours', 'upstream'];
  const sel = (op: Op, n: number): Run[] => runs.filter((r) => r.op === op && r.n === n);
  const sizes = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const point = (n: number, s: ReturnType<typeof stat>): BenchPoint => ({ x: n, y: s.median, ...(s.p90 !== undefined ? { p90: s.p90 } : {}), ...(s.note ? { note: s.note } : {}) });
  const lostOf = (op: Op, n: number): number[] => sel(op, n).filter((r) => r.after).map((r) => r.after!.lost);
  const charts: BenchChart[] = [
    {
      id: 'registered', title: 'kubectl apply → N workers registered with the scheduler (real node)', xLabel: 'N workers', yLabel: 'seconds (median; p90)',
      series: ops.map((op) => ({ label: LABEL[op], points: sizes.map((n) => point(n, stat(sel(op, n), (r) => r.upMs))) })),
      notes: ['Asked of the scheduler (/json/identity.json through the API server\'s service proxy).'],
    },
    {
      id: 'scale-down', title: 'kubectl scale N → floor(N/2) with a persisted dataset: until the target is reached', xLabel: 'N workers before', yLabel: 'seconds (median; p90)',
      series: ops.flatMap((op) => [
        { label: `${LABEL[op]}: registered workers`, points: sizes.map((n) => point(n, stat(sel(op, n), (r) => r.downRegisteredMs))) },
        { label: `${LABEL[op]}: worker Pods`, points: sizes.map((n) => point(n, stat(sel(op, n), (r) => r.downPodsMs))) },
      ]),
      notes: [`Dataset: ${PARTITIONS} blocks of ${BLOCK_BYTES} random bytes persisted from a client through kubectl port-forward.`],
    },
    {
      id: 'keys-lost', title: 'Keys lost in the scale-down (no holder, or recomputed)', xLabel: 'N workers before', yLabel: 'keys lost (max over repeats)',
      series: ops.map((op) => ({ label: LABEL[op], points: sizes.map((n) => {
        const l = lostOf(op, n);
        return l.length ? { x: n, y: Math.max(...l), note: `per repeat: ${l.join(', ')} of ${PARTITIONS}` } : { x: n, y: null, note: 'no completed scale-down' };
      }) })),
    },
  ];
  const result: BenchResult = { bench: 'real-node-vs-upstream', date, machine, versions, charts, raw: { loadAverage: { start: ctx.loadStart, end: ctx.loadEnd }, repeats: REPEATS, timeoutSeconds: TIMEOUT_MS / 1000, runs } };

  const fmt = (s: ReturnType<typeof stat>): string => (s.median === null ? `did not finish (${s.note})` : `${s.median.toFixed(1)} s`);
  const fmtP = (s: ReturnType<typeof stat>): string => (s.p90 === undefined ? '—' : `${s.p90.toFixed(1)} s`);
  const ratio = (a: ReturnType<typeof stat>, b: ReturnType<typeof stat>): string => (a.median !== null && b.median !== null && b.median > 0 ? (a.median / b.median).toFixed(2) : '—');
  const upRows = sizes.map((n) => {
    const o = stat(sel('ours', n), (r) => r.upMs);
    const u = stat(sel('upstream', n), (r) => r.upMs);
    return `| ${n} | ${fmt(o)} | ${fmtP(o)} | ${fmt(u)} | ${fmtP(u)} | ${ratio(o, u)} | ${o.done}/${o.total}, ${u.done}/${u.total} |`;
  });
  const downRows = sizes.flatMap((n) => ops.map((op) => {
    const rs = sel(op, n);
    const reg = stat(rs, (r) => r.downRegisteredMs);
    const pods = stat(rs, (r) => r.downPodsMs);
    const lost = lostOf(op, n);
    return `| ${n} → ${Math.max(1, Math.floor(n / 2))} | ${LABEL[op]} | ${fmt(reg)} | ${fmtP(reg)} | ${fmt(pods)} | ${fmtP(pods)} | ${lost.length ? lost.join(', ') : '—'} |`;
  }));
  const downRatio = sizes.map((n) => {
    const o = stat(sel('ours', n), (r) => r.downRegisteredMs);
    const u = stat(sel('upstream', n), (r) => r.downRegisteredMs);
    return `N = ${n}: ${ratio(o, u)}`;
  });
  const retire = sizes.map((n) => {
    const xs = sel('upstream', n).map((r) => r.upstreamRetireMs).filter((x): x is number => x !== undefined);
    return xs.length ? `N = ${n}: ${(median(xs) / 1000).toFixed(1)} s (${xs.map((x) => (x / 1000).toFixed(1)).join(', ')})` : `N = ${n}: —`;
  });
  const notes = runs.filter((r) => r.notes.length).map((r) => `- ${r.name}: ${r.notes.join('; ')}`);
  const md = [
    `# Real node: cdk8s-dask vs the upstream operator, ${date}`,
    '',
    `Machine: ${machine}. Load average (1/5/15 min) at the start ${ctx.loadStart}, at the end ${ctx.loadEnd}; the 2 cores may be shared with other work (another benchmark or CI), so these are upper bounds and the comparison is what counts (the operators alternate on the same cluster).`,
    '',
    'Versions: ' + Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; ') + '.',
    '',
    `One node-tier cluster (one real kubelet on containerd, images imported locally). Both operators get the same DaskCluster (the DaskCluster construct's output: \`dask scheduler\` / \`dask worker --nthreads 1\`, image ghcr.io/dask/dask:2026.8.0, probe timeouts 5 s), each with its own CRDs (swapped in place between operators, no custom resource existing). ${REPEATS} rounds; in each round both operators run every N, the order alternating (ours first in odd rounds); an untimed warm-up cluster after every operator start. Timeout per step ${TIMEOUT_MS / 1000} s.`,
    '',
    '## apply → N workers registered with the scheduler',
    '',
    '| N | ours median | ours p90 | upstream median | upstream p90 | ours / upstream | finished (ours, upstream) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...upRows,
    '',
    `## Graceful scale-down N → floor(N/2) with a persisted dataset (${PARTITIONS} blocks × ${(BLOCK_BYTES / 1024).toFixed(0)} KiB)`,
    '',
    'A client from the venv, through `kubectl port-forward` to the scheduler Service, persists the blocks over the workers and waits until all are in memory; then `kubectl scale daskcluster NAME --replicas=floor(N/2)`. Times from the scale command to the scheduler having that many workers, and to only that many worker Pods existing (terminating ones count until gone). Keys lost: no holder right after the target was reached, or a future not finished, or recomputed (each block carries a token drawn when computed; a changed token means its data was lost and recomputed).',
    '',
    '| scale | operator | → registered median | p90 | → Pods median | p90 | keys lost per repeat |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...downRows,
    '',
    `Ratio ours / upstream (registered, medians): ${downRatio.join('; ')}.`,
    '',
    `Where upstream's scale-down time goes (from kopf's log, median and per repeat: its handler's start to "Workers to close", i.e. choosing and retiring the workers before it deletes their Deployments): ${retire.join('; ')}. Outside a cluster, dask-kubernetes first tries to resolve the scheduler Service's name (20 tries, 0.5 s apart: about 10 s, as nothing resolves cluster names in the benchmark's namespace), then port-forwards through the API server; it tries the scheduler's HTTP API first (POST /api/v1/retire_workers), which answers 404 because \`distributed.http.scheduler.api\` is not among Dask's default HTTP routes (our operator adds it to the scheduler Pods it creates; upstream does not), then resolves the name again and retires over Dask's RPC through a port-forward of the comm port. Run inside the cluster (as its Helm chart deploys it), the name resolution would succeed at once; this bench runs it outside (as \`kopf run\` on a workstation would), so most of the upstream scale-down time here is that out-of-cluster path, not the data hand-off: the keys-lost column shows both retire gracefully.`,
    '',
    ...(notes.length ? ['## Runs that did not finish or noted something', '', ...notes, ''] : []),
    ...(ctx.failure ? [`**The run stopped early**: ${ctx.failure instanceof Error ? ctx.failure.message : String(ctx.failure)} (kopf's log: ${ctx.kopfLogCopy}).`, ''] : []),
    '## How to run',
    '',
    '```sh',
    'npm run bench -- real-node-vs-upstream                      # N = 3 and 10, 3 rounds (about 12 min on 2 cores, tier start included)',
    'BENCH_NODE_N="3 10" BENCH_REPEATS=5 npm run bench -- real-node-vs-upstream',
    '# BENCH_TIMEOUT_S (per step, default 300), BENCH_PARTITIONS (200), BENCH_BLOCK_BYTES (524288)',
    '```',
    '',
    'Needs root and what the node tier needs (README, docs/control-plane.md), and the venv `.venv` of hack/dask/requirements.txt with dask-kubernetes and kopf. The upstream operator runs as a process in the benchmark\'s private network namespace with the tier\'s kubeconfig; outside a cluster it reaches schedulers through port-forwards via the API server (it first tries to resolve the Service\'s name, 20 tries 0.5 s apart, which cannot succeed there: see the scale-down section).',
    '',
    `Raw runs (ms) are in the JSON next to this file (\`raw.runs\`).`,
    '',
  ].join('\n');
  const dir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `real-node-vs-upstream-${date}.md`), md);
  fs.writeFileSync(path.join(dir, `real-node-vs-upstream-${date}.json`), JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`${md}\nwrote bench/results/real-node-vs-upstream-${date}.{md,json}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
