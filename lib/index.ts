/**
 * cdk8s-dask: cdk8s constructs for Dask on Kubernetes. The public API is what this file exports (and what jsii
 * publishes to Python); everything else under lib/ is internal, shared with the operator and the client.
 */
export * from './autoscaler';
export * from './cluster';
export * from './cluster-ref';
export * from './env';
export * from './job';
export * from './operator';
export * from './options';
export * from './pod';
export * from './resource';
export * from './resources';
export * from './worker-group';
export * from './argocd';
export * from './monitoring';
export * from './helm/operator-chart';
export * from './tenancy';
