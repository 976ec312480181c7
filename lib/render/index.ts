/** Pure functions from custom resources to the objects the operator creates. No I/O. */
export * from './env';
export * from './job';
export * from './kueue';
export * from './metadata';
export * from './options';
export * from './scheduler';
export * from './worker-group';
