/**
 * Where the scheduler of a DaskCluster can be reached, and the env var that turns its HTTP API on.
 */

import { schedulerName } from '../../lib/schema/names';

/** Env var through which Dask reads `distributed.scheduler.http.routes`. */
export const SCHEDULER_HTTP_ROUTES_ENV = 'DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES';

/** The route module that serves `/api/v1/*` on the scheduler's dashboard port (off in stock Dask). */
export const SCHEDULER_API_ROUTE = 'distributed.http.scheduler.api';

/**
 * `distributed.scheduler.http.routes` as shipped in distributed's `distributed.yaml` (checked against
 * distributed 2026.8.0). Setting the env var replaces the whole list, so these must be kept.
 */
export const DEFAULT_SCHEDULER_HTTP_ROUTES: readonly string[] = [
  'distributed.http.scheduler.prometheus',
  'distributed.http.scheduler.info',
  'distributed.http.scheduler.json',
  'distributed.http.health',
  'distributed.http.proxy',
  'distributed.http.statics',
];

/** Test/debug hook: points the operator at schedulers outside the cluster. Format in {@link parseAddressOverrides}. */
export const ADDRESS_OVERRIDE_ENV = 'DASK_OPERATOR_SCHEDULER_ADDRESS_OVERRIDE';

/** Default scheduler ports (Service ports `tcp-comm` and `http-dashboard`). */
export const DEFAULT_COMM_PORT = 8786;
export const DEFAULT_DASHBOARD_PORT = 8787;

/** Where a scheduler answers: either or both paths. */
export interface SchedulerAddress {
  /** Base URL of the dashboard port, e.g. `http://simple-scheduler.ns.svc.cluster.local:8787`. */
  readonly httpBaseUrl?: string;
  /** Dask comm address, e.g. `tcp://simple-scheduler.ns.svc.cluster.local:8786`. */
  readonly tcpAddress?: string;
}

/** A container env entry, as in a Pod spec (only the name matters here). */
export interface EnvEntry {
  readonly name: string;
  readonly value?: string;
}

/**
 * The env var to add to a scheduler container so that its HTTP API route is on (default routes plus
 * `distributed.http.scheduler.api`), or `undefined` when the container already sets it — the user's
 * choice wins, and the client then falls back to TCP if the API stays off.
 *
 * The value is a list literal, which Dask parses from env vars with Python's literal syntax.
 */
export function schedulerHttpRoutesEnv(existingEnv: readonly EnvEntry[] = []): { name: string; value: string } | undefined {
  if (existingEnv.some((e) => e.name === SCHEDULER_HTTP_ROUTES_ENV)) return undefined;
  const routes = [...DEFAULT_SCHEDULER_HTTP_ROUTES, SCHEDULER_API_ROUTE];
  return { name: SCHEDULER_HTTP_ROUTES_ENV, value: JSON.stringify(routes) };
}

/** Name of the scheduler Service of a DaskCluster (the one naming rule, lib/schema/names). */
export const schedulerServiceName = schedulerName;

export interface InClusterAddressOptions {
  readonly namespace: string;
  readonly cluster: string;
  /** @default 'cluster.local' */
  readonly clusterDomain?: string;
  /** @default 8787 */
  readonly dashboardPort?: number;
  /** @default 8786 */
  readonly commPort?: number;
}

/** Both addresses through the scheduler Service's DNS name, for an operator running inside the cluster. */
export function inClusterSchedulerAddress(o: InClusterAddressOptions): Required<SchedulerAddress> {
  const host = `${schedulerServiceName(o.cluster)}.${o.namespace}.svc.${o.clusterDomain ?? 'cluster.local'}`;
  return {
    httpBaseUrl: `http://${host}:${o.dashboardPort ?? DEFAULT_DASHBOARD_PORT}`,
    tcpAddress: `tcp://${host}:${o.commPort ?? DEFAULT_COMM_PORT}`,
  };
}

export interface ServiceProxyOptions {
  /** API server base URL, e.g. `https://127.0.0.1:6443` (no trailing path). */
  readonly apiServer: string;
  readonly namespace: string;
  readonly cluster: string;
  /** Service port name (or number) of the dashboard. @default 'http-dashboard' */
  readonly portName?: string;
}

/**
 * Dashboard base URL through the API server's service proxy, for an operator running outside the
 * cluster. Requests must carry the API server credentials: pass a fetcher that adds them. Only the HTTP
 * path works this way (the proxy does not carry Dask's TCP protocol).
 */
export function serviceProxyBaseUrl(o: ServiceProxyOptions): string {
  const svc = `${encodeURIComponent(schedulerServiceName(o.cluster))}:${encodeURIComponent(o.portName ?? 'http-dashboard')}`;
  return `${o.apiServer.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(o.namespace)}/services/${svc}/proxy`;
}

/**
 * Parses the address override env var:
 *
 *   DASK_OPERATOR_SCHEDULER_ADDRESS_OVERRIDE='ns/cluster=http://127.0.0.1:8787,tcp://127.0.0.1:8786;other/c2=tcp://127.0.0.1:9786'
 *
 * Entries are separated by `;` (or newlines); each is `namespace/cluster=` followed by one or two
 * comma-separated addresses, an `http://`/`https://` URL for the dashboard port and/or a `tcp://` address.
 * Throws with the offending entry when the value is malformed.
 */
export function parseAddressOverrides(value: string | undefined): Map<string, SchedulerAddress> {
  const out = new Map<string, SchedulerAddress>();
  if (!value) return out;
  for (const raw of value.split(/[;\n]/)) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!/^[^/\s]+\/[^/\s]+$/.test(key)) {
      throw new Error(`${ADDRESS_OVERRIDE_ENV}: entry '${entry}' must look like 'namespace/cluster=http://host:port,tcp://host:port'`);
    }
    let httpBaseUrl: string | undefined;
    let tcpAddress: string | undefined;
    for (const part of entry.slice(eq + 1).split(',')) {
      const a = part.trim();
      if (/^https?:\/\/[^\s]+$/.test(a) && httpBaseUrl === undefined) httpBaseUrl = a.replace(/\/+$/, '');
      else if (/^tcp:\/\/[^\s]+:\d+$/.test(a) && tcpAddress === undefined) tcpAddress = a;
      else throw new Error(`${ADDRESS_OVERRIDE_ENV}: '${a}' in entry '${entry}' is not an http(s):// URL or tcp://host:port (one of each at most)`);
    }
    out.set(key, { ...(httpBaseUrl ? { httpBaseUrl } : {}), ...(tcpAddress ? { tcpAddress } : {}) });
  }
  return out;
}

export interface ResolveAddressOptions extends InClusterAddressOptions {
  /** Environment to read the override from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The override for `namespace/cluster` if one is set, else the in-cluster Service addresses. */
export function resolveSchedulerAddress(o: ResolveAddressOptions): SchedulerAddress {
  const env = o.env ?? process.env;
  const override = parseAddressOverrides(env[ADDRESS_OVERRIDE_ENV]).get(`${o.namespace}/${o.cluster}`);
  return override ?? inClusterSchedulerAddress(o);
}
