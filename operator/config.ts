/**
 * Operator configuration from flags (`--name=value` or `--name value`) and environment variables
 * (DASK_OPERATOR_<NAME>, upper-case with '_'); flags win. `dask-operator --help` prints this table.
 */
import { isLogLevel, type LogLevel } from './runtime/logger';
import type { ScaleDownFallback } from './dask/context';

export type SchedulerAccess = 'auto' | 'dns' | 'proxy' | 'none';

export interface OperatorConfig {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Namespaces to watch; empty = all. */
  readonly namespaces: string[];
  readonly concurrency: number;
  readonly logLevel: LogLevel;
  readonly clusterDomain: string;
  readonly metricsBindAddress: { host: string; port: number } | false;
  readonly leaderElect: boolean;
  readonly leaderElectionNamespace: string;
  readonly leaderElectionId: string;
  readonly plugins: string[];
  readonly schedulerAccess: SchedulerAccess;
  readonly schedulerTimeoutMs: number;
  readonly scaleDownFallback: ScaleDownFallback;
  readonly createParallelism: number;
  readonly createBatchSize: number;
  readonly resyncSeconds: number;
  /** Client-side rate limit on API-server requests (requests per second). */
  readonly kubeApiQps: number;
  /** Requests that may go at once before the rate limit applies. */
  readonly kubeApiBurst: number;
  /** Client-side rate limit on Event writes (a budget apart from {@link kubeApiQps}, requests per second). */
  readonly eventQps: number;
  /** Event writes that may go at once before {@link eventQps} applies. */
  readonly eventBurst: number;
  /** Admit DaskJobs labelled kueue.x-k8s.io/queue-name through Kueue (needs Kueue's CRDs installed). */
  readonly kueue: boolean;
}

interface FlagSpec {
  readonly name: string;
  readonly help: string;
  readonly default: string;
  readonly boolean?: boolean;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', help: 'kubeconfig file; default: $KUBECONFIG, ~/.kube/config, then the in-cluster service account', default: '' },
  { name: 'context', help: 'kubeconfig context', default: '' },
  { name: 'namespaces', help: 'comma-separated namespaces to watch; empty watches all', default: '' },
  { name: 'concurrency', help: 'reconciles run in parallel per kind', default: '4' },
  { name: 'log-level', help: 'debug, info, warn or error', default: 'info' },
  { name: 'cluster-domain', help: 'cluster DNS domain used in scheduler addresses', default: 'cluster.local' },
  { name: 'metrics-bind-address', help: 'host:port of /metrics, /healthz and /readyz; "0" disables', default: '0.0.0.0:8080' },
  { name: 'leader-elect', help: 'campaign for a Lease before reconciling (needed with more than one replica)', default: 'false', boolean: true },
  { name: 'leader-election-namespace', help: 'namespace of the Lease; default $POD_NAMESPACE or "default"', default: '' },
  { name: 'leader-election-id', help: 'name of the Lease', default: 'dask-operator-leader' },
  { name: 'plugins', help: 'comma-separated npm packages (or paths) loaded as plugins', default: '' },
  { name: 'scheduler-access', help: 'how to reach schedulers: dns (in-cluster Service names), proxy (HTTP through the API server\'s service proxy), none, or auto (dns in a pod, proxy outside)', default: 'auto' },
  { name: 'scheduler-timeout', help: 'milliseconds per scheduler call', default: '10000' },
  { name: 'scale-down-fallback', help: 'when workers cannot be retired through the scheduler: delete (newest first, with a Warning Event) or wait', default: 'delete' },
  { name: 'create-parallelism', help: 'worker Pods created or deleted at once per group', default: '10' },
  { name: 'create-batch-size', help: 'worker Pods created per reconcile before yielding', default: '50' },
  { name: 'resync-seconds', help: 'full relist of every watch this often (each informer adds 0-10% jitter)', default: '600' },
  { name: 'kube-api-qps', help: 'client-side rate limit: API-server requests per second (lists, watch starts and writes; leader election and Events (--event-qps) have their own)', default: '20' },
  { name: 'kube-api-burst', help: 'client-side rate limit: requests that may go at once before the rate applies', default: '30' },
  { name: 'event-qps', help: 'client-side rate limit of Event writes, a budget of their own so that Events never delay reconciles (the Event recorder also limits each object to 25 writes, then one per 5 minutes)', default: '10' },
  { name: 'event-burst', help: 'Event writes that may go at once before --event-qps applies', default: '20' },
  { name: 'kueue', help: 'Kueue integration: DaskJobs labelled kueue.x-k8s.io/queue-name wait for Kueue to admit their Workload (needs Kueue installed; docs/kueue.md)', default: 'false', boolean: true },
];

export class ConfigError extends Error {}

const envName = (flag: string): string => `DASK_OPERATOR_${flag.toUpperCase().replace(/-/g, '_')}`;

export function usage(): string {
  const lines = FLAGS.map((f) => `  --${f.name}${f.boolean ? '' : '=<value>'}\n      ${f.help} (env ${envName(f.name)}; default ${f.default || 'none'})`);
  return `Usage: dask-operator [flags]\n\nReconciles DaskCluster, DaskWorkerGroup, DaskAutoscaler and DaskJob objects.\n\n${lines.join('\n')}\n`;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--${name}: expected a number > 0, got "${v}"`);
  return n;
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${name}: expected a whole number >= ${min}, got "${v}"`);
  return n;
}

export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const values = new Map<string, string>();
  for (const f of FLAGS) {
    const e = env[envName(f.name)];
    values.set(f.name, e !== undefined ? e : f.default);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"; see --help`);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = FLAGS.find((f) => f.name === rawName);
    if (!spec) throw new ConfigError(`unknown flag --${rawName}; see --help`);
    if (spec.boolean) values.set(spec.name, inline ?? 'true');
    else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ConfigError(`--${spec.name} needs a value`);
      values.set(spec.name, v);
    }
  }
  const get = (n: string): string => values.get(n) ?? '';
  const logLevel = get('log-level');
  if (!isLogLevel(logLevel)) throw new ConfigError(`--log-level: expected debug, info, warn or error, got "${logLevel}"`);
  const access = get('scheduler-access');
  if (!['auto', 'dns', 'proxy', 'none'].includes(access)) throw new ConfigError(`--scheduler-access: expected auto, dns, proxy or none, got "${access}"`);
  const fallback = get('scale-down-fallback');
  if (fallback !== 'delete' && fallback !== 'wait') throw new ConfigError(`--scale-down-fallback: expected delete or wait, got "${fallback}"`);
  const bind = get('metrics-bind-address');
  let metricsBindAddress: OperatorConfig['metricsBindAddress'] = false;
  if (bind !== '0' && bind !== '') {
    const m = /^(.*):(\d+)$/.exec(bind);
    if (!m) throw new ConfigError(`--metrics-bind-address: expected host:port, got "${bind}"`);
    metricsBindAddress = { host: m[1] || '0.0.0.0', port: int('metrics-bind-address', m[2], 0) };
  }
  const bool = (n: string): boolean => ['true', '1', 'yes'].includes(get(n).toLowerCase());
  const list = (n: string): string[] => get(n).split(',').map((s) => s.trim()).filter(Boolean);
  return {
    kubeconfig: get('kubeconfig') || undefined,
    context: get('context') || undefined,
    namespaces: list('namespaces'),
    concurrency: int('concurrency', get('concurrency'), 1),
    logLevel,
    clusterDomain: get('cluster-domain'),
    metricsBindAddress,
    leaderElect: bool('leader-elect'),
    leaderElectionNamespace: get('leader-election-namespace') || env.POD_NAMESPACE || 'default',
    leaderElectionId: get('leader-election-id'),
    plugins: list('plugins'),
    schedulerAccess: access as SchedulerAccess,
    schedulerTimeoutMs: int('scheduler-timeout', get('scheduler-timeout'), 1),
    scaleDownFallback: fallback,
    createParallelism: int('create-parallelism', get('create-parallelism'), 1),
    createBatchSize: int('create-batch-size', get('create-batch-size'), 1),
    resyncSeconds: int('resync-seconds', get('resync-seconds'), 0),
    kubeApiQps: positive('kube-api-qps', get('kube-api-qps')),
    kubeApiBurst: int('kube-api-burst', get('kube-api-burst'), 1),
    eventQps: positive('event-qps', get('event-qps')),
    eventBurst: int('event-burst', get('event-burst'), 1),
    kueue: bool('kueue'),
  };
}
