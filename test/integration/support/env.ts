/** What the integration global setup tells test workers: the cluster state (tier, kubeconfig, bin dir). */
import * as fs from 'node:fs';
import { ClusterState, Tier, TIERS } from './cluster';

export const STATE_ENV = 'CDK8S_DASK_CLUSTER_STATE';

let cached: ClusterState | undefined;

/** The running test cluster, from the JSON state file the global setup wrote. */
export function testCluster(): ClusterState {
  if (cached) return cached;
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) {
    throw new Error(
      `no test cluster: ${STATE_ENV} is ${file ? `"${file}" (missing file)` : 'unset'}. ` +
        'Integration tests get their cluster from test/integration/setup/global-setup.ts; run them with `npm test`.',
    );
  }
  cached = JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterState;
  return cached;
}

/** True when the running cluster's tier includes `min` (api < gc < full). */
export function tierAtLeast(min: Tier): boolean {
  return TIERS.indexOf(testCluster().tier) >= TIERS.indexOf(min);
}

/** `it` when the cluster tier includes `min`, otherwise `it.skip` (the test name says which tier it needs). */
export function itOnTier(min: Tier): jest.It {
  return tierAtLeast(min) ? it : it.skip;
}
