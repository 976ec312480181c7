/**
 * Prometheus Operator monitors for Dask: a ServiceMonitor on a cluster's scheduler, a PodMonitor on its workers, and
 * a ServiceMonitor on the operator's own /metrics. The objects are typed with the prometheus-operator model from
 * `@kubernetes-models/prometheus-operator` (types only, erased at build time) and tested against the real
 * monitoring.coreos.com/v1 CRDs. See docs/monitoring.md.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { DaskCluster } from './cluster';
import type { DaskOperator } from './operator';
import type { DaskWorkerGroup } from './worker-group';
import { COMPONENT_WORKER, LABEL_CLUSTER, LABEL_COMPONENT, LABEL_WORKER_GROUP, PORT_NAME_DASHBOARD, schedulerName } from './schema/names';

const DEFAULT_WORKER_METRICS_PORT = 8788;

/** Options shared by the monitors. */
export interface DaskMonitorOptions {
  /**
   * Labels on the ServiceMonitor / PodMonitor objects, for the `serviceMonitorSelector` / `podMonitorSelector` of
   * your Prometheus (kube-prometheus-stack selects `release: <its release name>` by default).
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Scrape interval, a Prometheus duration such as `30s`.
   * @default - the Prometheus' own scrapeInterval
   */
  readonly interval?: string;
  /**
   * Scrape timeout, a Prometheus duration; must not exceed the interval.
   * @default - the Prometheus' own scrapeTimeout
   */
  readonly scrapeTimeout?: string;
}

/** Props of {@link DaskClusterMonitoring}. */
export interface DaskClusterMonitoringProps extends DaskMonitorOptions {
  /** The cluster to monitor. */
  readonly cluster: DaskCluster;
  /**
   * Also scrape the workers (a PodMonitor). Workers then serve their dashboard, and /metrics, on
   * `workerMetricsPort`: the construct adds `--dashboard-address :<port>` to the worker command and a container port
   * named `http-dashboard`, unless the worker container already declares a port of that name.
   * @default true
   */
  readonly monitorWorkers?: boolean;
  /**
   * Port of the workers' dashboard and /metrics.
   * @default 8788
   */
  readonly workerMetricsPort?: number;
}

/**
 * Prometheus scraping of one Dask cluster: a ServiceMonitor on the scheduler Service the operator creates
 * (`{cluster}-scheduler`, port `http-dashboard`, path `/metrics`, where Dask serves its Prometheus metrics) and a
 * PodMonitor on its worker Pods (labels `dask.org/cluster-name`, `dask.org/component: worker`).
 *
 * Needs the prometheus-operator CRDs (monitoring.coreos.com/v1) in the target cluster, and `prometheus_client` in the
 * Dask image (the official images have it); without it Dask answers /metrics with 404.
 *
 * @example
 * const cluster = new DaskCluster(chart, 'analytics', { workers: 4 });
 * new DaskClusterMonitoring(chart, 'analytics-metrics', { cluster, labels: { release: 'prometheus' } });
 */
export class DaskClusterMonitoring extends Construct {
  /** The port workers serve their dashboard and /metrics on when monitored, unless `workerMetricsPort` says otherwise. */
  public static readonly DEFAULT_WORKER_METRICS_PORT = DEFAULT_WORKER_METRICS_PORT;

  /** The scheduler's ServiceMonitor. */
  public readonly schedulerMonitor: ApiObject;
  /** The workers' PodMonitor (undefined when `monitorWorkers` is false). */
  public readonly workerMonitor?: ApiObject;
  /** Port the workers serve /metrics on. */
  public readonly workerMetricsPort: number;

  public constructor(scope: Construct, id: string, props: DaskClusterMonitoringProps) {
    super(scope, id);
    const cluster = props.cluster;
    this.workerMetricsPort = props.workerMetricsPort ?? DEFAULT_WORKER_METRICS_PORT;
    if (!Number.isInteger(this.workerMetricsPort) || this.workerMetricsPort < 1 || this.workerMetricsPort > 65535) {
      throw new Error(`${this.node.path}: workerMetricsPort must be a port number 1-65535, got ${this.workerMetricsPort}`);
    }
    const namespace = cluster.namespace;
    const labels = { [LABEL_CLUSTER]: cluster.name, ...(props.labels ?? {}) };
    const endpoint = { path: '/metrics', ...scrapeTiming(props) };

    const serviceMonitor: IServiceMonitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: schedulerName(cluster.name), ...(namespace ? { namespace } : {}), labels },
      spec: {
        selector: { matchLabels: { [LABEL_CLUSTER]: cluster.name, [LABEL_COMPONENT]: 'scheduler' } },
        endpoints: [{ port: PORT_NAME_DASHBOARD, ...endpoint }],
        // Keep the operator's labels on the series, so dashboards can group by cluster.
        targetLabels: [LABEL_CLUSTER],
      },
    };
    this.schedulerMonitor = new ApiObject(this, 'SchedulerMonitor', serviceMonitor);

    if (props.monitorWorkers ?? true) {
      const podMonitor: IPodMonitor = {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: { name: `${cluster.name}-workers`, ...(namespace ? { namespace } : {}), labels },
        spec: {
          selector: { matchLabels: { [LABEL_CLUSTER]: cluster.name, [LABEL_COMPONENT]: COMPONENT_WORKER } },
          podMetricsEndpoints: [{ port: PORT_NAME_DASHBOARD, ...endpoint }],
          podTargetLabels: [LABEL_CLUSTER, LABEL_WORKER_GROUP],
        },
      };
      this.workerMonitor = new ApiObject(this, 'WorkerMonitor', podMonitor);
      const spec = cluster.apiObject.toJson().spec as { worker: { spec: { containers: ContainerLike[] } } };
      serveWorkerMetrics(cluster.apiObject, '/spec/worker/spec/containers/0', spec.worker.spec.containers[0], this.workerMetricsPort);
    }
  }

  /**
   * Makes an additional worker group of the cluster serve /metrics on the same port, so the PodMonitor scrapes it
   * too (the PodMonitor already selects it by its cluster label).
   */
  public monitorWorkerGroup(group: DaskWorkerGroup): void {
    if (!this.workerMonitor) throw new Error(`${this.node.path}: monitorWorkerGroup() needs monitorWorkers: true`);
    const spec = group.apiObject.toJson().spec as { worker: { spec: { containers: ContainerLike[] } } };
    serveWorkerMetrics(group.apiObject, '/spec/worker/spec/containers/0', spec.worker.spec.containers[0], this.workerMetricsPort);
  }
}

/** Props of {@link DaskOperatorMonitoring}. */
export interface DaskOperatorMonitoringProps extends DaskMonitorOptions {
  /** The operator install whose metrics Service to scrape. */
  readonly operator: DaskOperator;
}

/**
 * A ServiceMonitor on the operator's metrics Service (`dask-operator-metrics`, port `metrics`, path `/metrics`):
 * the `dask_operator_*` series listed in docs/reference.md (clusters by phase, workers desired and ready,
 * scale-downs graceful vs fallback, reconcile durations, scheduler-call errors).
 *
 * @example
 * const operator = new DaskOperator(chart, 'operator');
 * new DaskOperatorMonitoring(chart, 'operator-metrics', { operator, labels: { release: 'prometheus' } });
 */
export class DaskOperatorMonitoring extends Construct {
  /** The ServiceMonitor. */
  public readonly serviceMonitor: ApiObject;

  public constructor(scope: Construct, id: string, props: DaskOperatorMonitoringProps) {
    super(scope, id);
    const service = props.operator.metricsService;
    const selector = service.toJson().metadata.labels as { [key: string]: string };
    const monitor: IServiceMonitor = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: service.name, namespace: props.operator.namespace, labels: { ...selector, ...(props.labels ?? {}) } },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': selector['app.kubernetes.io/name'], 'app.kubernetes.io/instance': selector['app.kubernetes.io/instance'] } },
        namespaceSelector: { matchNames: [props.operator.namespace] },
        endpoints: [{ port: 'metrics', path: '/metrics', ...scrapeTiming(props) }],
      },
    };
    this.serviceMonitor = new ApiObject(this, 'Resource', monitor);
  }
}

interface ContainerLike {
  readonly args?: string[];
  readonly ports?: { readonly name?: string; readonly containerPort: number }[];
}

function scrapeTiming(o: DaskMonitorOptions): { interval?: string; scrapeTimeout?: string } {
  return { ...(o.interval ? { interval: o.interval } : {}), ...(o.scrapeTimeout ? { scrapeTimeout: o.scrapeTimeout } : {}) };
}

/** Adds `--dashboard-address :port` and a container port `http-dashboard` to a worker container, unless it has one. */
function serveWorkerMetrics(obj: ApiObject, pointer: string, container: ContainerLike | undefined, port: number): void {
  if (!container) return;
  if ((container.ports ?? []).some((p) => p.name === PORT_NAME_DASHBOARD)) return;
  const portEntry = { name: PORT_NAME_DASHBOARD, containerPort: port, protocol: 'TCP' };
  obj.addJsonPatch(container.ports ? JsonPatch.add(`${pointer}/ports/-`, portEntry) : JsonPatch.add(`${pointer}/ports`, [portEntry]));
  if ((container.args ?? []).includes('--dashboard-address')) return;
  if (container.args) {
    obj.addJsonPatch(JsonPatch.add(`${pointer}/args/-`, '--dashboard-address'), JsonPatch.add(`${pointer}/args/-`, `:${port}`));
  } else {
    obj.addJsonPatch(JsonPatch.add(`${pointer}/args`, ['--dashboard-address', `:${port}`]));
  }
}
