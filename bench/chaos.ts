/**
 * `npm run chaos`: the operator at length under chaos, on the kwok tier of the local control plane (outside `npm test`).
 *
 *   npm run chaos                                   both variants, 10 minutes each (≈ 22 min)
 *   CHAOS_MINUTES=1 CHAOS_VARIANT=kill npm run chaos
 *
 * Variants (bench/chaos/variant.ts): `kill` SIGKILLs the operator every CHAOS_KILL_INTERVAL_SECONDS (30) and restarts
 * it; `proxy` puts the fault proxy between the operator and the API server, with light faults all the time and a burst
 * of CHAOS_BURST_SECONDS (10) every CHAOS_BURST_INTERVAL_SECONDS (30). Meanwhile a worker group alternates between 0
 * and CHAOS_REPLICAS (50) workers and DaskJobs come and go. Every round must converge (CHAOS_ROUND_TIMEOUT_SECONDS,
 * 120) with no duplicate and no orphan Pod, every DaskJob must end and leave nothing behind, and reconciliation must
 * resume within CHAOS_RESUME_LIMIT_SECONDS (30) of each restart or burst. CHAOS_SEED repeats a run's random choices.
 *
 * Prints a summary, writes bench/results/chaos-<date>.md, and exits 1 if anything failed. The whole run is bounded:
 * each wait has a deadline and a watchdog ends the process (status 2) if the run overruns by far.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killClusterSync, REPO_ROOT, startCluster, stopCluster } from '../test/integration/support/cluster';
import { FAULT_KINDS, type FaultKind } from '../test/integration/support/fault-proxy';
import { ensureOperatorBuilt } from '../test/integration/support/operator';
import { seededRandom, summarize } from './chaos/checks';
import { BACKGROUND, BURST, VariantRun, type ChaosParams, type Variant, type VariantResult } from './chaos/variant';

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}="${raw}": expected a number > 0`);
  return n;
}

function variantsFromEnv(): Variant[] {
  const v = process.env.CHAOS_VARIANT ?? 'both';
  if (v === 'both') return ['kill', 'proxy'];
  if (v === 'kill' || v === 'proxy') return [v];
  throw new Error(`CHAOS_VARIANT="${v}": expected kill, proxy or both`);
}

const s = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–');

function report(results: readonly VariantResult[], p: { minutes: number; seed: number; kill: number; burstInterval: number; burst: number; replicas: number; resumeLimit: number }, cluster: string): string {
  const failures = results.reduce((n, r) => n + r.failures.length, 0);
  const date = new Date().toISOString().slice(0, 10);
  const row = (label: string, f: (r: VariantResult) => string): string => `| ${label} | ${results.map(f).join(' | ')} |`;
  const lines = [
    `# Chaos run, ${date}`,
    '',
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, shared with other work; ${cluster}. ` +
      `\`npm run chaos\` with CHAOS_MINUTES=${p.minutes}, CHAOS_SEED=${p.seed}.`,
    '',
    `**Result: ${failures === 0 ? 'PASS' : `FAIL (${failures} failure${failures === 1 ? '' : 's'})`}**`,
    '',
    `| | ${results.map((r) => `${r.variant} variant`).join(' | ')} |`,
    `| --- |${results.map(() => ' --- |').join('')}`,
    row('chaos', (r) => (r.variant === 'kill' ? `operator SIGKILLed every ${p.kill} s (half the kills held ≤ 8 s to land just after a scale change) and restarted: ${r.kills} kills, ${r.midScaleKills} of them while a round was converging` : `fault proxy: light faults throughout, ${r.bursts} bursts of ${p.burst} s every ${p.burstInterval} s (watches cut, 429/500/409, lost responses, latency)`)),
    row('duration', (r) => `${(r.durationMs / 60_000).toFixed(1)} min`),
    row(`rounds (0 ↔ ${p.replicas} workers)`, (r) => `${r.rounds.length}, ${r.rounds.filter((x) => x.ok).length} converged and clean`),
    row('convergence time, median / p90 / max', (r) => { const m = summarize(r.rounds.flatMap((x) => (x.convergeMs === undefined ? [] : [x.convergeMs]))); return `${s(m.median)} / ${s(m.p90)} / ${s(m.max)}`; }),
    row('reconciliation resumed (canary), median / max', (r) => { const m = summarize(r.resumes.map((x) => x.canaryMs)); return `${s(m.median)} / ${s(m.max)} over ${m.n}`; }),
    row('reconciliation resumed (main group, when it had work pending), median / max', (r) => { const m = summarize(r.resumes.flatMap((x) => (x.mainMs === undefined ? [] : [x.mainMs]))); return `${s(m.median)} / ${s(m.max)} over ${m.n}`; }),
    row('DaskJobs', (r) => `${r.jobs.created} created: ${r.jobs.succeed} Successful, ${r.jobs.fail} Failed (as asked), ${r.jobs.cancel} deleted while running; ${r.jobs.ok} ended clean`),
    row('transient extra worker Pods (rounds with any; most)', (r) => `${r.rounds.filter((x) => x.overshoot > 0).length}; ${Math.max(0, ...r.rounds.map((x) => x.overshoot))}`),
    row('failures', (r) => String(r.failures.length)),
    '',
  ];
  const proxy = results.find((r) => r.faults);
  if (proxy?.faults) {
    const counts = proxy.faults as Record<FaultKind, number>;
    lines.push('Faults the proxy injected into the operator\'s requests (proxy variant):', '', '| kind | count |', '| --- | --- |');
    for (const k of FAULT_KINDS) if (k !== 'rule') lines.push(`| ${k} | ${counts[k]} |`);
    lines.push('', `Profiles: background ${JSON.stringify(BACKGROUND)}; burst ${JSON.stringify(BURST)}.`, '');
  }
  lines.push(
    'Checked: each round (scale to the target, wait for it, pause 0.5–2.5 s) ends with exactly the requested live worker Pods, all controlled by the group, ',
    'one scheduler Pod, and no Pod in the namespace without a controller that exists (a Pod whose controller was deleted may stay 60 s for the ',
    'garbage collector). Every DaskJob reaches the state its runner asked for with exactly one runner, its cluster and their Pods go, and once ',
    'deleted nothing of it is left. "Reconciliation resumed" is the time from each operator restart (or the end of each burst) until the canary ',
    `worker group, scaled 0 ↔ 1 at each kill (burst start), has converged, and until the main group's Pod count steps toward its target when it `,
    `had work pending; the limit is ${p.resumeLimit} s. "Transient extra worker Pods" are Pods above the target seen while a round converged (removed again `,
    'by the operator before the round\'s checks).',
    '',
  );
  if (failures > 0) {
    lines.push('## Failures', '');
    for (const r of results) for (const f of r.failures) lines.push(`- ${r.variant}: ${f.split('\n')[0]}`);
    lines.push('');
    for (const r of results) {
      const detailed = r.failures.filter((f) => f.includes('\n'));
      if (detailed.length > 0) lines.push(`### ${r.variant}: details`, '', '```', ...detailed, '```', '');
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') throw new Error('run the chaos test with `npm run chaos` (it needs the private network namespace)');
  const minutes = numberEnv('CHAOS_MINUTES', 10);
  const variants = variantsFromEnv();
  const seed = Math.floor(numberEnv('CHAOS_SEED', Math.floor(Math.random() * 2 ** 31) + 1));
  const kill = numberEnv('CHAOS_KILL_INTERVAL_SECONDS', 30);
  const burstInterval = numberEnv('CHAOS_BURST_INTERVAL_SECONDS', 30);
  const burst = numberEnv('CHAOS_BURST_SECONDS', 10);
  const replicas = Math.floor(numberEnv('CHAOS_REPLICAS', 50));
  const resumeLimit = numberEnv('CHAOS_RESUME_LIMIT_SECONDS', 30);
  const roundTimeout = numberEnv('CHAOS_ROUND_TIMEOUT_SECONDS', 120);
  if (burst >= burstInterval) throw new Error(`CHAOS_BURST_SECONDS (${burst}) must be shorter than CHAOS_BURST_INTERVAL_SECONDS (${burstInterval})`);
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

  await ensureOperatorBuilt();
  const crdDir = path.join(REPO_ROOT, 'crds');
  const crdFiles = fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(crdDir, f));
  const state = await startCluster({ tier: 'full', crdFiles });
  // Whatever happens, the control plane goes with this process (by pid; killClusterSync checks each pid is ours).
  process.once('exit', () => killClusterSync(state));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => process.exit(130));
  // Bounded: far past its schedule, the run ends itself (the exit handlers stop the operator and the control plane).
  const watchdog = setTimeout(() => {
    log(`chaos: the run overran its ${variants.length * (minutes + 12)} min bound; stopping`);
    process.exit(2);
  }, variants.length * (minutes + 12) * 60_000);
  watchdog.unref();

  const results: VariantResult[] = [];
  try {
    for (const variant of variants) {
      const params: ChaosParams = {
        minutes, replicas, random: seededRandom(seed + results.length),
        intervalMs: (variant === 'kill' ? kill : burstInterval) * 1000, burstMs: burst * 1000,
        roundTimeoutMs: roundTimeout * 1000, resumeLimitMs: resumeLimit * 1000,
        seedFile: path.join(REPO_ROOT, 'test', 'fixtures', 'seed', 'my-cluster.yaml'),
        kubeconfig: state.kubeconfig,
      };
      results.push(await new VariantRun(variant, params, log).run());
    }
  } finally {
    await stopCluster(state, (l) => log(`[cluster] ${l}`));
  }
  const cluster = `local control plane, ${state.tier} tier (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok with one fake node), started in ${s(state.startupMs)}`;
  const text = report(results, { minutes, seed, kill, burstInterval, burst, replicas, resumeLimit }, cluster);
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `chaos-${new Date().toISOString().slice(0, 10)}.md`);
  fs.writeFileSync(file, text);
  process.stdout.write(`${text}\nwrote ${path.relative(REPO_ROOT, file)}\n`);
  if (results.some((r) => r.failures.length > 0)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`chaos failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
