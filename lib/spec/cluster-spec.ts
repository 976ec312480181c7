/**
 * Pure builders for DaskCluster / worker specs with the same defaults as the upstream Python `KubeCluster`
 * (`make_cluster_spec`, `make_worker_spec`, `make_scheduler_spec`): the constructs in lib/ and the TypeScript client
 * both use them, so `new DaskCluster(...)` and `KubeCluster.create(...)` produce the same resource.
 */
import type {
  Container, DaskClusterSpec, DaskSchedulerTemplate, DaskWorkerTemplate, EnvVar, ResourceRequirements, ServiceSpec, SimpleObjectMeta,
} from '../schema/generated/types';
import {
  COMPONENT_SCHEDULER, LABEL_CLUSTER, LABEL_COMPONENT, PORT_NAME_COMM, PORT_NAME_DASHBOARD, SCHEDULER_COMM_PORT, SCHEDULER_DASHBOARD_PORT,
} from '../schema/names';

export const DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/dask/dask';
/**
 * The Dask release the defaults pin (the image tag, and the release our tests run: hack/dask/requirements.txt).
 * A pinned tag rather than `latest`, so a synthesized cluster does not change under its users when Dask releases.
 */
export const DEFAULT_IMAGE_TAG = '2026.8.0';
/**
 * The commands that start a scheduler and a worker. `dask scheduler` / `dask worker` exist since distributed 2022.10;
 * the older `dask-scheduler` / `dask-worker` executables were removed in distributed 2026.6.0, so images with current
 * Dask cannot run them (the container fails with "executable file not found").
 */
export const SCHEDULER_COMMAND: readonly string[] = ['dask', 'scheduler'];
export const WORKER_COMMAND: readonly string[] = ['dask', 'worker'];
/** Workers of a cluster's default group and of an added worker group, as in the upstream Python client. */
export const DEFAULT_WORKERS = 3;

/** Resource requests/limits as they go on the wire (values are quantities: "2", "500m", "16Gi", or numbers). */
export interface DaskResources {
  readonly requests?: Record<string, string | number>;
  readonly limits?: Record<string, string | number>;
}

/** Environment variables, in order. */
export type DaskEnv = readonly EnvVar[];

export interface WorkerSpecOptions {
  /** @default 'ghcr.io/dask/dask:2026.8.0' */
  readonly image?: string;
  /** @default 3 */
  readonly replicas?: number;
  readonly env?: DaskEnv;
  readonly resources?: DaskResources;
  /** Command that starts a worker; `--name $(DASK_WORKER_NAME)` is appended. @default ['dask', 'worker'] */
  readonly workerCommand?: readonly string[];
  /** Extra arguments after the worker command and its name. @default [] */
  readonly extraArgs?: readonly string[];
  readonly metadata?: SimpleObjectMeta;
}

export interface SchedulerSpecOptions {
  readonly clusterName: string;
  /** @default 'ghcr.io/dask/dask:2026.8.0' */
  readonly image?: string;
  readonly env?: DaskEnv;
  readonly resources?: DaskResources;
  /** @default 'ClusterIP' */
  readonly serviceType?: string;
  /** @default 8786 */
  readonly commPort?: number;
  /** @default 8787 */
  readonly dashboardPort?: number;
  /** Extra arguments after `dask scheduler --host 0.0.0.0`. @default [] */
  readonly extraArgs?: readonly string[];
  readonly metadata?: SimpleObjectMeta;
}

export function envList(env: DaskEnv | undefined): EnvVar[] | undefined {
  if (env === undefined) return undefined;
  const list = env.map((e) => ({ ...e }));
  return list.length > 0 ? list : undefined;
}

function resources(r: DaskResources | undefined): ResourceRequirements | undefined {
  if (r === undefined) return undefined;
  const out: ResourceRequirements = {};
  if (r.requests) out.requests = { ...r.requests };
  if (r.limits) out.limits = { ...r.limits };
  return out;
}

function container(fields: Container): Container {
  // Drop undefined members so the output is stable and free of nulls.
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Container;
}

export function workerTemplate(opts: WorkerSpecOptions = {}): DaskWorkerTemplate {
  const tpl: DaskWorkerTemplate = {
    replicas: opts.replicas ?? DEFAULT_WORKERS,
    spec: {
      containers: [
        container({
          name: 'worker',
          image: opts.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${DEFAULT_IMAGE_TAG}`,
          args: [...(opts.workerCommand ?? WORKER_COMMAND), '--name', '$(DASK_WORKER_NAME)', ...(opts.extraArgs ?? [])],
          env: envList(opts.env),
          resources: resources(opts.resources),
        }),
      ],
    },
  };
  if (opts.metadata) tpl.metadata = opts.metadata;
  return tpl;
}

export function schedulerServiceSpec(clusterName: string, opts: Pick<SchedulerSpecOptions, 'serviceType' | 'commPort' | 'dashboardPort'> = {}): ServiceSpec {
  return {
    ports: [
      { name: PORT_NAME_COMM, port: opts.commPort ?? SCHEDULER_COMM_PORT, protocol: 'TCP', targetPort: PORT_NAME_COMM },
      { name: PORT_NAME_DASHBOARD, port: opts.dashboardPort ?? SCHEDULER_DASHBOARD_PORT, protocol: 'TCP', targetPort: PORT_NAME_DASHBOARD },
    ],
    selector: { [LABEL_CLUSTER]: clusterName, [LABEL_COMPONENT]: COMPONENT_SCHEDULER },
    type: opts.serviceType ?? 'ClusterIP',
  };
}

export function schedulerTemplate(opts: SchedulerSpecOptions): DaskSchedulerTemplate {
  const probe = (initialDelaySeconds: number, periodSeconds: number) => ({
    httpGet: { path: '/health', port: PORT_NAME_DASHBOARD },
    initialDelaySeconds,
    periodSeconds,
  });
  const tpl: DaskSchedulerTemplate = {
    service: schedulerServiceSpec(opts.clusterName, opts),
    spec: {
      containers: [
        container({
          args: [...SCHEDULER_COMMAND, '--host', '0.0.0.0', ...(opts.extraArgs ?? [])],
          env: envList(opts.env),
          image: opts.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${DEFAULT_IMAGE_TAG}`,
          livenessProbe: probe(15, 20),
          name: 'scheduler',
          ports: [
            { containerPort: SCHEDULER_COMM_PORT, name: PORT_NAME_COMM, protocol: 'TCP' },
            { containerPort: SCHEDULER_DASHBOARD_PORT, name: PORT_NAME_DASHBOARD, protocol: 'TCP' },
          ],
          readinessProbe: probe(5, 10),
          resources: resources(opts.resources),
        }),
      ],
    },
  };
  if (opts.metadata) tpl.metadata = opts.metadata;
  return tpl;
}

export interface ClusterSpecOptions extends WorkerSpecOptions {
  readonly name: string;
  readonly serviceType?: string;
  /** Service port of the scheduler's comm (tcp-comm). @default 8786 */
  readonly commPort?: number;
  /** Service port of the dashboard (http-dashboard). @default 8787 */
  readonly dashboardPort?: number;
  readonly idleTimeout?: number;
  /** What an idle timeout does. @default - 'Delete' (left out of the spec) */
  readonly idleAction?: 'Delete' | 'ScaleToZero';
  /** What a changed scheduler template does to a running scheduler. @default - 'OnDelete' (left out of the spec) */
  readonly schedulerUpdateStrategy?: 'OnDelete' | 'Recreate';
  readonly schedulerMetadata?: SimpleObjectMeta;
  readonly workerMetadata?: SimpleObjectMeta;
  readonly schedulerExtraArgs?: readonly string[];
}

/** The DaskCluster spec `KubeCluster(name=..., n_workers=..., env=..., resources=...)` would create. */
export function clusterSpec(opts: ClusterSpecOptions): DaskClusterSpec {
  const spec: DaskClusterSpec = {
    scheduler: schedulerTemplate({
      clusterName: opts.name,
      image: opts.image,
      env: opts.env,
      resources: opts.resources,
      serviceType: opts.serviceType,
      commPort: opts.commPort,
      dashboardPort: opts.dashboardPort,
      extraArgs: opts.schedulerExtraArgs,
      metadata: opts.schedulerMetadata,
    }),
    worker: workerTemplate({ ...opts, metadata: opts.workerMetadata }),
  };
  if (opts.idleTimeout !== undefined && opts.idleTimeout !== 0) spec.idleTimeout = opts.idleTimeout;
  if (opts.idleAction !== undefined) spec.idleAction = opts.idleAction;
  if (opts.schedulerUpdateStrategy !== undefined) spec.scheduler.updateStrategy = opts.schedulerUpdateStrategy;
  return spec;
}
