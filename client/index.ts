/**
 * cdk8s-dask-operator/client: the TypeScript counterpart of the upstream Python `KubeCluster`, and `KubeJob` for
 * DaskJobs. Their options use the
 * constructs' vocabulary (DaskClusterOptions, DaskWorkerGroupOptions, DaskAutoscalerOptions, EnvValue, Cpu, and
 * cdk8s's Duration and Size), re-exported here so a client user needs no construct package.
 */
export { KubeCluster, KubeClusterError } from './kube-cluster';
export type { KubeClusterConnectOptions, KubeClusterOptions } from './kube-cluster';
export { KubeJob, KubeJobError } from './kube-job';
export type { KubeJobConnectOptions, KubeJobOptions, KubeJobResult } from './kube-job';
export { DaskIdleAction, RestartPolicy, SchedulerServiceType, SchedulerUpdateStrategy } from '../lib/options';
export type {
  DaskAutoscalerOptions, DaskClusterOptions, DaskJobOptions, DaskJobRunnerOptions, DaskMetadata, DaskWorkerGroupOptions, SchedulerServicePorts,
} from '../lib/options';
export { EnvValue } from '../lib/env';
export type { EnvValueFromKeyOptions } from '../lib/env';
export { Cpu } from '../lib/resources';
export type { ContainerResources, CpuResources, SizeResources } from '../lib/resources';
