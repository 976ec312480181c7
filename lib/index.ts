export * from './cluster';
export * from './worker-group';
export * from './autoscaler';
export * from './job';
export * from './operator';
export * from './resource';
export * from './spec/cluster-spec';
export * from './spec/job-spec';
export * from './schema/job';
export * from './schema/names';
export { customResourceDefinitions, customResourceDefinition } from './schema/crds';
export { crdProblems } from './validation/crd-schema';
/** Wire-format types of the four kinds and the embedded Kubernetes definitions. */
export type * as api from './schema/generated/types';
