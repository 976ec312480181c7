import type { EnvVar } from '../schema/generated/types';

export interface RenderOptions {
  /** DNS domain of the cluster, used in injected scheduler addresses. @default 'cluster.local' */
  readonly clusterDomain?: string;
  /**
   * Extra env for scheduler containers, given the container's env (return undefined to add nothing). The operator
   * uses it to switch on the scheduler's HTTP API route unless the user configured the routes.
   */
  readonly schedulerEnv?: (env: readonly EnvVar[]) => EnvVar | undefined;
}

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
