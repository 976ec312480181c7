/** Talking to a Dask scheduler: HTTP API first, Dask TCP comm as fallback. See docs/scheduler-client.md. */
export * from './errors';
export * from './address';
export { createSchedulerClient } from './client';
export type { DaskWorkerInfo, RetireRequest, RetireResult, SchedulerClient, SchedulerClientOptions } from './client';
export type { HttpFetcher, HttpFetchInit, HttpFetchResponse } from './http';
export { DaskComm, parseTcpAddress } from './comm';
export type { DaskValue } from './comm';
export * from './limits';
