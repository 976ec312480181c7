/**
 * Helpers for the node-tier tests: the operator installed the GitOps way (the synthesized YAML, the operator image
 * built from the Dockerfile, running as a Pod with the synthesized ServiceAccount and RBAC), and questions asked of a
 * real Dask scheduler from inside its own Pod (`kubectl exec ... python`), so answers come from Dask, not from the API.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../integration/support/cluster';
import { eventually } from '../../integration/support/eventually';
import { testCluster } from '../../integration/support/env';
import { kubectl, kubectlJson } from '../../integration/support/kube';
import type { PodObj } from '../../integration/support/dask';

export const OPERATOR_NAMESPACE = 'dask-operator';

/** `npm run synth`'s output (node build/main.js, as hack/synth.sh runs it after tsc) in a temp dir of this test file. */
export function synthesize(): { dir: string; operator: string; cluster: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-synth-'));
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'build', 'main.js')], { cwd: REPO_ROOT, env: { ...process.env, CDK8S_OUTDIR: dir }, stdio: 'pipe' });
  return { dir, operator: path.join(dir, '0000-dask-operator.k8s.yaml'), cluster: path.join(dir, '0001-my-cluster.k8s.yaml') };
}

/**
 * Applies the synthesized operator install (idempotent) and waits until the operator Pod is Ready through its own
 * probes. Returns the operator Pod's name.
 */
export async function installOperator(operatorYaml: string): Promise<string> {
  await kubectl(['apply', '-f', operatorYaml], { timeoutMs: 120_000 });
  await kubectl(['wait', '--for', 'condition=established', 'crd', '-l', 'app.kubernetes.io/part-of=cdk8s-dask', '--timeout=60s'], { timeoutMs: 70_000 });
  return eventually(async () => {
    const pods = (await kubectlJson<{ items: PodObj[] }>(['get', 'pods', '-n', OPERATOR_NAMESPACE, '-o', 'json'])).items;
    const ready = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length === 0) throw new Error(`operator Pods: ${JSON.stringify(pods.map((p) => ({ name: p.metadata.name, status: p.status })))}`);
    return ready[0].metadata.name;
  }, { describe: 'the operator Pod to be Ready', timeoutMs: 120_000, intervalMs: 1000 });
}

/** The operator Pod's log (for failure messages). */
export async function operatorLog(lines = 80): Promise<string> {
  const r = await kubectl(['logs', '-n', OPERATOR_NAMESPACE, 'deploy/dask-operator', `--tail=${lines}`], { allowFailure: true });
  return r.stdout || r.stderr;
}

/** Runs `python -c script` in the scheduler container of `cluster` and returns its stdout. */
export async function pythonInScheduler(ns: string, cluster: string, script: string, timeoutMs = 90_000): Promise<string> {
  const r = await kubectl(['exec', '-n', ns, `${cluster}-scheduler`, '-c', 'scheduler', '--', 'python', '-c', script], { timeoutMs });
  return r.stdout;
}

/** The names of the workers registered with the cluster's scheduler, asked of the scheduler itself. */
export async function registeredWorkers(ns: string, cluster: string): Promise<string[]> {
  const out = await pythonInScheduler(ns, cluster, [
    'import json',
    'from distributed import Client',
    'c = Client("tcp://127.0.0.1:8786", timeout=20)',
    'names = c.run_on_scheduler(lambda dask_scheduler: sorted(str(ws.name) for ws in dask_scheduler.workers.values()))',
    'print(json.dumps(names))',
    'c.close()',
  ].join('\n'));
  return JSON.parse(out.trim().split('\n').pop() as string) as string[];
}

/** Live (not terminating, not finished) worker Pods of a cluster's group. */
export async function liveWorkerPods(ns: string, group: string): Promise<PodObj[]> {
  const pods = (await kubectlJson<{ items: PodObj[] }>(['get', 'pods', '-n', ns, '-l', `dask.org/workergroup-name=${group},dask.org/component=worker`, '-o', 'json'])).items;
  return pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

const isReady = (p: PodObj): boolean => Boolean(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

/**
 * Waits until exactly `n` worker Pods of `group` are Ready and the scheduler reports exactly their names as its
 * workers; returns the names.
 */
export async function waitForRegisteredWorkers(ns: string, cluster: string, group: string, n: number, timeoutMs = 180_000): Promise<string[]> {
  return eventually(async () => {
    const pods = await liveWorkerPods(ns, group);
    const ready = pods.filter(isReady).map((p) => p.metadata.name).sort();
    const registered = await registeredWorkers(ns, cluster);
    return { pods: pods.map((p) => p.metadata.name).sort(), ready, registered };
  }, {
    describe: `${n} Ready worker Pods of ${group} registered with the scheduler of ${cluster} under their Pod names`,
    until: (v) => v.pods.length === n && v.ready.length === n && JSON.stringify(v.registered) === JSON.stringify(v.ready),
    timeoutMs,
    intervalMs: 2000,
  }).then((v) => v.registered);
}

/**
 * A Python process in the scheduler Pod that keeps a Dask client (and what it persisted) alive across a test step:
 * it prints lines the test reads, and reads lines the test writes to its stdin.
 */
export class SchedulerSession {
  private readonly child: ChildProcess;
  private out = '';
  private err = '';

  constructor(ns: string, cluster: string, script: string) {
    const c = testCluster();
    this.child = spawn(path.join(c.binDir, 'kubectl'), [
      '--kubeconfig', c.kubeconfig, 'exec', '-i', '-n', ns, `${cluster}-scheduler`, '-c', 'scheduler', '--', 'python', '-u', '-c', script,
    ], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.out += b.toString('utf8')));
    this.child.stderr?.on('data', (b: Buffer) => (this.err += b.toString('utf8')));
  }

  /** Waits for a stdout line `<tag> <json>` and returns the parsed JSON. */
  async read<T>(tag: string, timeoutMs = 120_000): Promise<T> {
    return eventually(() => {
      const line = this.out.split('\n').find((l) => l.startsWith(`${tag} `));
      if (!line) {
        if (this.child.exitCode !== null) throw new Error(`the Python session exited ${this.child.exitCode}: ${this.err.slice(-2000)}`);
        throw new Error(`no "${tag}" line yet; stdout so far: ${this.out.slice(-500)} stderr: ${this.err.slice(-1000)}`);
      }
      return JSON.parse(line.slice(tag.length + 1)) as T;
    }, { describe: `"${tag}" from the Python session`, timeoutMs, intervalMs: 500 });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Ends the session (closes stdin, then kills kubectl if it has not exited within 10 s). */
  async close(): Promise<void> {
    this.child.stdin?.end();
    if (this.child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 10_000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
