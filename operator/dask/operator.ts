/**
 * Assembles the Dask operator: informers for the four kinds and the labelled Pods/Services, the four controllers,
 * plugins, leader election, metrics and Events, on the generic runtime (operator/runtime).
 */
import { Gauge } from 'prom-client';
import { Informer, type Watchable } from '../runtime/informer';
import type { KubeTarget } from '../runtime/kubeconfig';
import { TokenBucket } from '../runtime/rate-limit';
import { KubeRest } from '../runtime/rest';
import { createLogger, type Logger } from '../runtime/logger';
import { Manager } from '../runtime/manager';
import { RuntimeMetrics } from '../runtime/metrics';
import { EventRecorder, kubeEventSink } from '../runtime/events';
import { kubeLeaseClient } from '../runtime/leader';
import type { KubeObject, Request } from '../runtime/object';
import { createSchedulerClient, parseAddressOverrides, schedulerHttpRoutesEnv, serviceProxyBaseUrl, ADDRESS_OVERRIDE_ENV, type HttpFetcher, type SchedulerClient } from '../scheduler';
import { apiServerFetcher } from './proxy-fetcher';
import { SchedulerClientPool } from './scheduler-access';
import type { DaskCluster, DaskWorkerGroup, DaskAutoscaler, DaskJob, Pod, Service } from '../../lib/schema/generated/types';
import { API_VERSION, GROUP, LABEL_CLUSTER, VERSION } from '../../lib/schema/names';
import { KUEUE_GROUP, KUEUE_VERSION, type ResourceFlavor, type Workload, type WorkloadPriorityClass } from '../../lib/schema/kueue';
import { dashboardAddress, schedulerAddress } from '../../lib/render';
import { loadPlugins, type PluginHost, type WatchedKind } from '../plugins';
import type { OperatorConfig } from '../config';
import { RestDaskApi } from './api';
import { reconcileAutoscaler } from './autoscaler-reconciler';
import { reconcileCluster } from './cluster-reconciler';
import { DEFAULT_OPTIONS, type DaskCaches, type DaskContext } from './context';
import { Expectations } from './expectations';
import { OwnWrites } from './own-writes';
import { DaskMetrics } from './metrics';
import { reconcileJob } from './job-reconciler';
import { UnionWatchable } from './union-cache';
import { reconcileWorkerGroup } from './worker-group-reconciler';

export interface DaskOperator {
  readonly manager: Manager;
  readonly logger: Logger;
  readonly context: DaskContext;
  /** The scheduler clients, one per DaskCluster that needed one. */
  readonly schedulerClients: SchedulerClientPool;
}

const gvk = (kind: string) => ({ apiVersion: API_VERSION, kind });

export async function buildOperator(config: OperatorConfig, kc: KubeTarget, logger: Logger = createLogger({ level: config.logLevel })): Promise<DaskOperator> {
  // Plain JSON REST over a KubeTarget: no @kubernetes/client-node in the operator process (operator/runtime/kubeconfig.ts).
  const rateLimiter = Number.isFinite(config.kubeApiQps) ? new TokenBucket({ qps: config.kubeApiQps, burst: config.kubeApiBurst }) : undefined;
  const clients = { rest: new KubeRest(kc, { rateLimiter }) };
  const metrics = new RuntimeMetrics({ processMetrics: true });
  const schedulerClientsGauge = new Gauge({ name: 'dask_operator_scheduler_clients', help: 'Scheduler clients held (one per DaskCluster the operator talked to).', registers: [metrics.registry] });
  const resyncPeriodMs = config.resyncSeconds * 1000;
  const namespaces = config.namespaces.length > 0 ? config.namespaces : [''];
  const informer = <T extends KubeObject>(name: string, pathFor: (ns: string) => string, labelSelector?: string): Watchable<T> => {
    const parts = namespaces.map((ns) => new Informer<T>({ name: ns ? `${name}@${ns}` : name, path: pathFor(ns), client: clients.rest, labelSelector, resyncPeriodMs, logger: logger.child({ informer: name }) }));
    return parts.length === 1 ? parts[0] : new UnionWatchable<T>(name, parts);
  };
  const crPath = (plural: string) => (ns: string) => (ns ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}` : `/apis/${GROUP}/${VERSION}/${plural}`);
  const corePath = (plural: string) => (ns: string) => (ns ? `/api/v1/namespaces/${ns}/${plural}` : `/api/v1/${plural}`);
  const inf = {
    clusters: informer<DaskCluster & KubeObject>('daskclusters', crPath('daskclusters')),
    workerGroups: informer<DaskWorkerGroup & KubeObject>('daskworkergroups', crPath('daskworkergroups')),
    autoscalers: informer<DaskAutoscaler & KubeObject>('daskautoscalers', crPath('daskautoscalers')),
    jobs: informer<DaskJob & KubeObject>('daskjobs', crPath('daskjobs')),
    pods: informer<Pod & KubeObject>('pods', corePath('pods'), LABEL_CLUSTER),
    services: informer<Service & KubeObject>('services', corePath('services'), LABEL_CLUSTER),
  };
  // Kueue's objects, only with --kueue (without Kueue's CRDs these lists would fail and the caches never sync).
  const kueuePath = (plural: string) => (ns: string) => (ns ? `/apis/${KUEUE_GROUP}/${KUEUE_VERSION}/namespaces/${ns}/${plural}` : `/apis/${KUEUE_GROUP}/${KUEUE_VERSION}/${plural}`);
  const kueueInf = config.kueue
    ? {
      workloads: informer<Workload & KubeObject>('workloads', kueuePath('workloads')),
      resourceFlavors: new Informer<ResourceFlavor & KubeObject>({ name: 'resourceflavors', path: kueuePath('resourceflavors')(''), client: clients.rest, resyncPeriodMs, logger: logger.child({ informer: 'resourceflavors' }) }),
      priorityClasses: new Informer<WorkloadPriorityClass & KubeObject>({ name: 'workloadpriorityclasses', path: kueuePath('workloadpriorityclasses')(''), client: clients.rest, resyncPeriodMs, logger: logger.child({ informer: 'workloadpriorityclasses' }) }),
    }
    : undefined;
  const caches = { ...inf, ...(kueueInf ? { kueue: kueueInf } : {}) } as unknown as DaskCaches;
  // Every write reconcilers, Events and plugins make goes through `writer`: refused unless this process holds the
  // leader Lease right now (the manager is created below; the guard runs only at write time).
  const writer = clients.rest.withWriteGuard((method, path) => manager.assertMayWrite(method, path));
  // Events have a budget of their own (as controller-runtime's recorder has its own client): a burst of Events, e.g.
  // one per cluster while a thousand are applied at once, waits behind --event-qps, not in front of reconciles.
  const eventLimiter = Number.isFinite(config.eventQps) ? new TokenBucket({ qps: config.eventQps, burst: config.eventBurst }) : undefined;
  const events = new EventRecorder({ sink: kubeEventSink(writer.withRateLimiter(eventLimiter)), logger, metrics });
  const ownWrites = new OwnWrites();
  const daskMetrics = new DaskMetrics(metrics.registry, caches, { ownWrites });

  const inPod = Boolean(process.env.KUBERNETES_SERVICE_HOST);
  // In a pod, schedulers are reached by their Service DNS names; outside, through the API server's service proxy.
  const access = config.schedulerAccess === 'auto' ? (inPod ? 'dns' : 'proxy') : config.schedulerAccess;
  logger.info('scheduler access resolved', { schedulerAccess: access, configured: config.schedulerAccess, inPod });
  const proxyFetch: HttpFetcher = apiServerFetcher(kc);
  const overrides = parseAddressOverrides(process.env[ADDRESS_OVERRIDE_ENV]);
  const pool = new SchedulerClientPool({
    services: inf.services,
    unchecked: (cluster) => overrides.has(`${cluster.metadata.namespace}/${cluster.metadata.name}`),
    onSize: (n) => schedulerClientsGauge.set(n),
    create: (cluster) => {
      const key = `${cluster.metadata.namespace}/${cluster.metadata.name}`;
      let address = overrides.get(key);
      let fetch: HttpFetcher | undefined;
      if (!address && access === 'proxy') {
        const server = kc.server;
        address = { httpBaseUrl: serviceProxyBaseUrl({ apiServer: server, namespace: cluster.metadata.namespace as string, cluster: cluster.metadata.name as string }) };
        fetch = proxyFetch;
      }
      if (!address && access === 'dns') {
        // The same addresses the operator gives workers and writes to status (ports by name from the Service spec).
        address = { httpBaseUrl: dashboardAddress(cluster, context.options), tcpAddress: schedulerAddress(cluster, context.options) };
      }
      if (!address) return undefined;
      return daskMetrics.instrument(createSchedulerClient({ ...address, timeoutMs: config.schedulerTimeoutMs, retries: 1, ...(fetch ? { fetch } : {}) }));
    },
  });
  // A deleted cluster's client (and its idle connection) goes with it.
  pool.watch(inf.clusters);
  const schedulerClient = (cluster: DaskCluster): SchedulerClient | undefined => pool.get(cluster);

  const context: DaskContext = {
    caches,
    api: new RestDaskApi(writer),
    events,
    options: {
      ...DEFAULT_OPTIONS,
      clusterDomain: config.clusterDomain,
      scaleDownFallback: config.scaleDownFallback,
      createParallelism: config.createParallelism,
      createBatchSize: config.createBatchSize,
      schedulerEnv: (env) => schedulerHttpRoutesEnv(env),
    },
    expectations: new Expectations(),
    ownWrites,
    schedulerClient,
    now: () => new Date(),
    logger,
    metrics: daskMetrics,
  };

  const manager = new Manager({
    logger,
    metrics,
    server: config.metricsBindAddress === false ? false : config.metricsBindAddress,
    leaderElection: config.leaderElect
      // Its own client: neither fenced (it is what keeps the Lease) nor rate-limited (a request storm must not delay renewals).
      ? { client: kubeLeaseClient(new KubeRest(kc)), namespace: config.leaderElectionNamespace, name: config.leaderElectionId }
      : undefined,
  });

  const byCluster = (kind: 'workerGroups' | 'autoscalers') => (cluster: KubeObject): Request[] => {
    const ns = cluster.metadata?.namespace ?? '';
    const list = inf[kind].list(ns) as (DaskWorkerGroup | DaskAutoscaler)[];
    return list.filter((o) => o.spec?.cluster === cluster.metadata?.name).map((o) => ({ namespace: ns, name: o.metadata.name as string }));
  };
  const clusterOfLabel = (obj: KubeObject): Request[] => {
    const c = obj.metadata?.labels?.[LABEL_CLUSTER];
    return c ? [{ namespace: obj.metadata?.namespace ?? '', name: c }] : [];
  };

  manager.addController({
    name: 'daskcluster',
    kind: gvk('DaskCluster'),
    for: inf.clusters,
    owns: [inf.pods, inf.services, inf.workerGroups],
    watches: [{ informer: inf.pods, map: clusterOfLabel }],
    reconcile: (req, rc) => reconcileCluster(context, req, rc),
    concurrency: config.concurrency,
  });
  manager.addController({
    name: 'daskworkergroup',
    kind: gvk('DaskWorkerGroup'),
    for: inf.workerGroups,
    owns: [inf.pods],
    watches: [{ informer: inf.clusters, map: byCluster('workerGroups') }],
    reconcile: (req, rc) => reconcileWorkerGroup(context, req, rc),
    concurrency: config.concurrency,
  });
  manager.addController({
    name: 'daskautoscaler',
    kind: gvk('DaskAutoscaler'),
    for: inf.autoscalers,
    watches: [{ informer: inf.clusters, map: byCluster('autoscalers') }],
    reconcile: (req, rc) => reconcileAutoscaler(context, req, rc),
    concurrency: config.concurrency,
  });
  manager.addController({
    name: 'daskjob',
    kind: gvk('DaskJob'),
    for: inf.jobs,
    owns: [inf.pods, inf.clusters, ...(kueueInf ? [kueueInf.workloads] : [])],
    // The scheduler and workers belong to the job's cluster, not to the job; a suspended job waits for them to go.
    watches: [
      { informer: inf.pods, map: clusterOfLabel },
      // Informers started only through a controller: the flavors and priority classes are read from their caches.
      ...(kueueInf ? [{ informer: kueueInf.resourceFlavors, map: () => [] }, { informer: kueueInf.priorityClasses, map: () => [] }] : []),
    ],
    reconcile: (req, rc) => reconcileJob(context, req, rc),
    concurrency: config.concurrency,
  });

  const kindInformers: Record<WatchedKind, Watchable> = {
    DaskCluster: inf.clusters, DaskWorkerGroup: inf.workerGroups, DaskAutoscaler: inf.autoscalers, DaskJob: inf.jobs, Pod: inf.pods, Service: inf.services,
  };
  for (const { name, plugin } of loadPlugins(config.plugins)) {
    const plog = logger.child({ plugin: name });
    let n = 0;
    const host: PluginHost = {
      logger: plog,
      clusterDomain: config.clusterDomain,
      namespaces: [...config.namespaces],
      watch: (kind, hook, options = {}) => {
        const informer = kindInformers[kind];
        if (!informer) throw new Error(`plugin ${name}: cannot watch ${String(kind)}; choose one of ${Object.keys(kindInformers).join(', ')}`);
        const matches = (o: KubeObject): boolean => Object.entries(options.labels ?? {}).every(([k, v]) => o.metadata?.labels?.[k] === v);
        manager.addController({
          name: `plugin-${name}-${kind}-${n++}`,
          kind: gvk(kind),
          for: informer,
          forPredicate: (ev) => matches(ev.object),
          reconcile: async (req, rc) => {
            const obj = informer.get(req.namespace, req.name);
            return hook((obj && matches(obj) ? obj : undefined) as never, req, { logger: rc.logger, api: context.api, rest: writer, events, signal: rc.signal });
          },
        });
      },
    };
    await plugin.setup(host);
    plog.info(`Plugin '${name}' running.`);
  }
  return { manager, logger, context, schedulerClients: pool };
}
