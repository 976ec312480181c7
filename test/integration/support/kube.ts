/** Clients for the test cluster: a client-node KubeConfig and a kubectl runner, both on the test kubeconfig. */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { testCluster } from './env';

/** A KubeConfig loaded from the test cluster's admin kubeconfig (never from ~/.kube). */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testCluster().kubeconfig);
  return kc;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly input?: string;
  /** Resolve instead of rejecting when kubectl exits non-zero. */
  readonly allowFailure?: boolean;
  /** Default 60 s. */
  readonly timeoutMs?: number;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the kubectl built with the control plane (same version) against the test kubeconfig. */
export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const cluster = testCluster();
  const bin = path.join(cluster.binDir, 'kubectl');
  const fullArgs = ['--kubeconfig', cluster.kubeconfig, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      bin,
      fullArgs,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const result: KubectlResult = { code, stdout, stderr };
        if (code !== 0 && !options.allowFailure) {
          reject(new Error(`kubectl ${args.join(' ')} exited ${code}${err?.killed ? ' (timed out)' : ''}:\n${stderr || stdout}`));
        } else {
          resolve(result);
        }
      },
    );
    // kubectl may exit before reading its input (a bad flag, a refused request): the write then fails with EPIPE,
    // which must not crash the test process; the exit code and stderr above say what happened.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

/** Like kubectl() but parses stdout as JSON (pass `-o json`). */
export async function kubectlJson<T>(args: readonly string[], options: KubectlOptions = {}): Promise<T> {
  const r = await kubectl(args, options);
  return JSON.parse(r.stdout) as T;
}
