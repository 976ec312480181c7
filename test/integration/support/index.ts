export { eventually } from './eventually';
export type { EventuallyOptions } from './eventually';
export { testCluster, tierAtLeast, itOnTier, STATE_ENV } from './env';
export { kubeConfig, kubectl, kubectlJson } from './kube';
export type { KubectlOptions, KubectlResult } from './kube';
export { withNamespace } from './namespace';
export type { TestNamespace } from './namespace';
export { FAKE_NODE_NAME } from './cluster';
export type { ClusterState, Tier } from './cluster';
