/**
 * The node tier leaves no host state behind: this file starts a node tier of its own (besides the project's
 * shared one), runs a Pod on it, stops it, and compares a snapshot of the host taken before the start with one
 * taken after the stop (cgroups, mounts, named netns, containerd/kubelet/CNI fixed paths, sysctls), and checks
 * that no process mentions its temp dir any more.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { eventually, testCluster } from '../integration/support';
import type { ClusterState } from '../integration/support/cluster';
import { diffHostState, processesMentioning, snapshotHostState } from '../integration/support/host-state';
import { startNodeTier, stopNodeTier } from '../integration/support/node-tier';
import { PAUSE_IMAGE, REAL_NODE_NAME } from '../integration/support/real-node-config';
import { describeOnNode } from './support/skip';

const run = promisify(execFile);

function kubectlOn(state: ClusterState, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(path.join(state.binDir, 'kubectl'), ['--kubeconfig', state.kubeconfig, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(input ?? '');
  });
}

// Jest's default per-test timeout is 5 s; these wait on a real node.
jest.setTimeout(300_000);

describeOnNode('node tier host state', () => {
  it('after down, nothing the node tier made is left on the host', async () => {
    // The pause image only, from the archive the project's cluster imported (nothing is built inside the netns).
    const images = (testCluster().node?.images ?? []).filter((i) => i.ref === PAUSE_IMAGE);
    expect(images).toHaveLength(1);
    const before = snapshotHostState();
    const state = await startNodeTier({ images, log: () => undefined });
    const info = state.node!;
    let stopped = false;
    try {
      // A running Pod: a shim, a pause container, a Pod network namespace, cgroups, kubelet mounts and logs.
      await kubectlOn(state, ['apply', '-f', '-'], [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: p, namespace: default}',
        `spec: {terminationGracePeriodSeconds: 1, containers: [{name: c, image: "${PAUSE_IMAGE}", imagePullPolicy: Never}]}`,
        '',
      ].join('\n'));
      await eventually(
        async () => {
          const pod = JSON.parse(await kubectlOn(state, ['get', 'pod', 'p', '-o', 'json'])) as { spec: { nodeName?: string }; status: { phase?: string } };
          expect(pod.spec.nodeName).toBe(REAL_NODE_NAME);
          expect(pod.status.phase).toBe('Running');
        },
        { describe: 'the Pod Running on the real node', timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(fs.existsSync(path.join(info.cgroupDirs[0], 'kubepods'))).toBe(true);
      // The shim runs outside every namespace of the Pod, inside the sandbox: one exists now.
      const { stdout } = await run('ps', ['-eo', 'args']);
      expect(stdout).toContain(`-address ${info.containerdSocket}`);
      await stopNodeTier(state, () => undefined);
      stopped = true;
    } finally {
      if (!stopped) await stopNodeTier(state, () => undefined);
    }
    const after = snapshotHostState();
    expect(diffHostState(before, after)).toEqual([]);
    expect(processesMentioning(state.dir)).toEqual([]);
    expect(fs.existsSync(state.dir)).toBe(false);
    for (const d of info.cgroupDirs) expect(fs.existsSync(d)).toBe(false);
  });
});
