export * from './kube-cluster';
