/**
 * Jest globalSetup of the `integration` project: starts ONE local control plane for the whole run
 * (tier from CDK8S_DASK_TIER: api | gc | full, default full), then hands it to the test workers through
 * the environment they inherit: KUBECONFIG and CDK8S_DASK_CLUSTER_STATE (the state JSON file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isTier, killClusterSync, REPO_ROOT, startCluster, TIERS } from '../support/cluster';
import { STATE_ENV } from '../support/env';

export default async function globalSetup(): Promise<void> {
  if (process.env.CDK8S_DASK_IN_NETNS !== '1') {
    throw new Error(
      'The integration tests start a local Kubernetes control plane whose fake pod and service IPs must never be ' +
        'dialled, so they only run inside a private network namespace. Run them with `npm test` ' +
        '(or `npm test -- --selectProjects integration`), which uses hack/netns.sh.',
    );
  }
  const tier = process.env.CDK8S_DASK_TIER ?? 'full';
  if (!isTier(tier)) throw new Error(`CDK8S_DASK_TIER="${tier}" is not one of ${TIERS.join(', ')}`);
  if (tier === 'node') {
    throw new Error('CDK8S_DASK_TIER=node: the integration tests expect kwok\'s fake Pods; the node tier has its own Jest ' +
      'project (test/node): npm test -- --selectProjects node');
  }
  const crdDir = path.join(REPO_ROOT, 'crds');
  const crdFiles = fs.existsSync(crdDir)
    ? fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(crdDir, f))
    : [];
  process.stderr.write(`\n[integration] starting local control plane (tier ${tier})\n`);
  const state = await startCluster({ tier, crdFiles });
  // Safety net if Jest exits without running the global teardown (e.g. interrupted): never leave processes behind.
  process.once('exit', () => killClusterSync(state));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killClusterSync(state);
      // Keep the signal's default effect (exit) unless someone else (e.g. Jest's watch mode) handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  process.env.KUBECONFIG = state.kubeconfig;
  process.env[STATE_ENV] = path.join(state.dir, 'state.json');
  process.env.CDK8S_DASK_TIER = tier;
}
