/**
 * Jest globalSetup of the `node` project: starts ONE node-tier cluster (the full tier plus one real node, see
 * test/integration/support/node-tier.ts) for the project's test files and hands it to them through KUBECONFIG and
 * CDK8S_DASK_CLUSTER_STATE, like the integration project. Where the machine cannot run containers (not real root, no
 * containerd/runc, no writable cgroups), it prints one line saying why and the project's tests are skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../integration/support/cluster';
import { STATE_ENV } from '../../integration/support/env';
import { nodeTierUnsupportedReason } from '../../integration/support/node-sandbox';
import { killTierSync, startNodeTier } from '../../integration/support/node-tier';
import { NODE_SKIP_ENV } from '../support/skip';

export default async function globalSetup(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') {
    throw new Error(
      'The node tests run inside a private network namespace like the integration tests: run them with `npm test` ' +
        '(or `npm test -- --selectProjects node`), which uses hack/netns.sh.',
    );
  }
  const reason = nodeTierUnsupportedReason();
  if (reason) {
    process.stderr.write(`\n[node] SKIPPED: the node tier cannot run on this machine: ${reason}\n`);
    process.env[NODE_SKIP_ENV] = reason;
    return;
  }
  const crdDir = path.join(REPO_ROOT, 'crds');
  const crdFiles = fs.existsSync(crdDir)
    ? fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(crdDir, f))
    : [];
  process.stderr.write('\n[node] starting the node tier (control plane + kwok + one real node)\n');
  const state = await startNodeTier({ crdFiles });
  process.once('exit', () => killTierSync(state));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killTierSync(state);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  process.env.KUBECONFIG = state.kubeconfig;
  process.env[STATE_ENV] = path.join(state.dir, 'state.json');
  process.env.CDK8S_DASK_TIER = 'node';
}
