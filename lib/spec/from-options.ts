/**
 * From the public option structs (lib/options.ts) to wire specs, through the builders in cluster-spec.ts. Used by the
 * constructs and by the TypeScript client, so both write the same resource for the same options.
 */
import type { Size } from 'cdk8s';
import type { DaskClusterOptions, DaskJobOptions, DaskMetadata, DaskWorkerGroupOptions } from '../options';
import type { ContainerResources, SizeResources } from '../resources';
import type { Container, DaskClusterSpec, DaskJobSpec, DaskWorkerTemplate, EnvVar, PodSpec, ServiceSpec, SimpleObjectMeta } from '../schema/generated/types';
import { clusterSpec, DaskResources, DEFAULT_IMAGE_REPOSITORY, DEFAULT_IMAGE_TAG, DEFAULT_WORKERS, workerTemplate } from './cluster-spec';

/** `ghcr.io/dask/dask:<tag>`, or the image given. */
export function imageOf(o: { readonly image?: string; readonly imageTag?: string }): string {
  return o.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${o.imageTag ?? DEFAULT_IMAGE_TAG}`;
}

/** `env` then `envValues`, as EnvVars in order. */
export function envVars(o: { readonly env?: { [name: string]: string }; readonly envValues?: { [name: string]: { _toEnvVar(name: string): EnvVar } } }): EnvVar[] | undefined {
  const list: EnvVar[] = [
    ...Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
    ...Object.entries(o.envValues ?? {}).map(([name, v]) => v._toEnvVar(name)),
  ];
  return list.length > 0 ? list : undefined;
}

/** A Size as the shortest exact Kubernetes binary quantity: 16Gi, 512Mi, 1536Ki. */
export function quantityOf(size: Size): string {
  const kib = size.toKibibytes();
  for (const [unit, factor] of [['Pi', 1024 ** 4], ['Ti', 1024 ** 3], ['Gi', 1024 ** 2], ['Mi', 1024]] as const) {
    if (kib % factor === 0) return `${kib / factor}${unit}`;
  }
  return `${kib}Ki`;
}

/** Requests and limits on the wire. */
export function resourceRequirements(r: ContainerResources | undefined): DaskResources | undefined {
  if (r === undefined) return undefined;
  const requests: Record<string, string | number> = {};
  const limits: Record<string, string | number> = {};
  if (r.cpu?.request) requests.cpu = r.cpu.request.amount;
  if (r.cpu?.limit) limits.cpu = r.cpu.limit.amount;
  const sized = (key: string, s: SizeResources | undefined) => {
    if (s?.request) requests[key] = quantityOf(s.request);
    if (s?.limit) limits[key] = quantityOf(s.limit);
  };
  sized('memory', r.memory);
  sized('ephemeral-storage', r.ephemeralStorage);
  for (const [name, count] of Object.entries(r.extended ?? {})) limits[name] = count;
  return {
    ...(Object.keys(requests).length > 0 ? { requests } : {}),
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

function metadataOf(m: DaskMetadata | undefined): SimpleObjectMeta | undefined {
  if (!m) return undefined;
  const out: SimpleObjectMeta = {};
  if (m.labels) out.labels = { ...m.labels };
  if (m.annotations) out.annotations = { ...m.annotations };
  return out;
}

/** Idle timeout in whole seconds (0: never). */
export function idleTimeoutSeconds(o: DaskClusterOptions): number {
  return o.idleTimeout ? o.idleTimeout.toSeconds() : 0;
}

/** The DaskCluster spec for these options (also a DaskJob's `spec.cluster.spec`). */
export function clusterSpecOf(name: string, o: DaskClusterOptions): DaskClusterSpec {
  const spec = clusterSpec({
    name,
    image: imageOf(o),
    replicas: o.workers ?? DEFAULT_WORKERS,
    env: envVars(o),
    resources: resourceRequirements(o.resources),
    workerCommand: o.workerCommand,
    extraArgs: o.workerArgs,
    schedulerExtraArgs: o.schedulerArgs,
    serviceType: o.schedulerServiceType,
    commPort: o.schedulerServicePorts?.comm,
    dashboardPort: o.schedulerServicePorts?.dashboard,
    idleTimeout: idleTimeoutSeconds(o),
    idleAction: o.idleAction,
    schedulerUpdateStrategy: o.schedulerUpdateStrategy,
    schedulerMetadata: metadataOf(o.schedulerMetadata),
    workerMetadata: metadataOf(o.workerMetadata),
  });
  if (o.schedulerPodSpec) spec.scheduler.spec = JSON.parse(JSON.stringify(o.schedulerPodSpec)) as PodSpec;
  if (o.schedulerServiceSpec) spec.scheduler.service = JSON.parse(JSON.stringify(o.schedulerServiceSpec)) as ServiceSpec;
  if (o.workerPodSpec) spec.worker.spec = JSON.parse(JSON.stringify(o.workerPodSpec)) as PodSpec;
  return spec;
}

/** The worker template of a group; `inherited` fills the options the group leaves unset (a cluster's). */
export function workerTemplateOf(o: DaskWorkerGroupOptions, inherited: DaskWorkerGroupOptions = {}): DaskWorkerTemplate {
  const pick = <K extends keyof DaskWorkerGroupOptions>(k: K): DaskWorkerGroupOptions[K] => (o[k] !== undefined ? o[k] : inherited[k]);
  const envOwner = o.env !== undefined || o.envValues !== undefined ? o : inherited;
  const worker = workerTemplate({
    image: pick('image') ?? imageOf({}),
    replicas: o.workers ?? DEFAULT_WORKERS,
    env: envVars(envOwner),
    resources: resourceRequirements(pick('resources')),
    workerCommand: pick('workerCommand'),
    extraArgs: o.workerArgs,
    metadata: metadataOf(o.workerMetadata),
  });
  if (o.workerPodSpec) worker.spec = JSON.parse(JSON.stringify(o.workerPodSpec)) as PodSpec;
  return worker;
}

/** A Duration in seconds, fractions kept (validation names them; the CRD wants whole seconds). */
export function secondsOf(d: { toMilliseconds(): number } | undefined): number | undefined {
  return d === undefined ? undefined : d.toMilliseconds() / 1000;
}

/** The DaskJob spec for these options; lifecycle fields left unset stay out of it (the operator's defaults apply). */
export function jobSpecOf(name: string, o: DaskJobOptions): DaskJobSpec {
  const r = o.runner;
  const cluster = clusterSpecOf(name, o.cluster ?? {});
  const image = cluster.worker.spec.containers[0].image;
  const container = Object.fromEntries(Object.entries({
    name: 'job',
    image: r.image ?? image,
    command: r.command,
    args: r.args,
    env: envVars(r),
    resources: resourceRequirements(r.resources),
  }).filter(([, v]) => v !== undefined)) as unknown as Container;
  const podSpec: PodSpec = r.podSpec
    ? (JSON.parse(JSON.stringify(r.podSpec)) as PodSpec)
    : { containers: [container], restartPolicy: r.restartPolicy ?? 'OnFailure' };
  const metadata = metadataOf(r.metadata);
  const spec: DaskJobSpec = { job: { ...(metadata ? { metadata } : {}), spec: podSpec }, cluster: { spec: cluster } };
  if (o.backoffLimit !== undefined) spec.backoffLimit = o.backoffLimit;
  if (o.activeDeadline !== undefined) spec.activeDeadlineSeconds = secondsOf(o.activeDeadline);
  if (o.ttlAfterFinished !== undefined) spec.ttlSecondsAfterFinished = secondsOf(o.ttlAfterFinished);
  if (o.suspend !== undefined) spec.suspend = o.suspend;
  return spec;
}
