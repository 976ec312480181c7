/** A Dask cluster that worker groups and autoscalers can attach to: a `DaskCluster`, or one referenced by name. */
export interface IDaskCluster {
  /** metadata.name of the DaskCluster (worker groups and autoscalers must be in its namespace). */
  readonly clusterName: string;
}
