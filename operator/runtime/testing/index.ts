/** Test doubles for code built on the runtime: a manual clock, an in-memory informer and lease store. */
export * from './fake-clock';
export * from './fake-informer';
export * from './fake-lease-client';
