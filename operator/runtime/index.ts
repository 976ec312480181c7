/**
 * The generic operator runtime (controller-runtime model): informers with caches feed keys into
 * per-controller work queues; workers run level-triggered reconcile functions; a Manager adds
 * leader election, metrics, health endpoints and graceful shutdown. Nothing here is Dask-specific.
 * See docs/operator-runtime.md.
 */
export * from './backoff';
export * from './clock';
export * from './controller';
export * from './events';
export * from './health';
export * from './informer';
export * from './kube';
export * from './kube-errors';
export * from './kubeconfig';
export * from './leader';
export * from './logger';
export * from './manager';
export * from './metrics';
export * from './rate-limit';
export * from './object';
export * from './reconcile';
export * from './rest';
export * from './workqueue';
