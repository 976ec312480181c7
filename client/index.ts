export * from './kube-cluster';
export * from './kube-job';
