/**
 * The TypeScript counterpart of the upstream Python `KubeCluster`: create a Dask cluster (or connect to one by name),
 * scale it, make it adaptive, add and remove worker groups, read logs, close it. Everything goes through the
 * kubernetes.dask.org/v1 resources, so the cluster lives on when this process is gone and the operator does the work.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Duration } from 'cdk8s';
import type { DaskAutoscalerOptions, DaskClusterOptions, DaskWorkerGroupOptions } from '../lib/options';
import { clusterSpecOf, workerTemplateOf } from '../lib/spec/from-options';
import { idleProblems, replicasProblems, resourcesProblems } from '../lib/validation/props';
import type { DaskCluster as DaskClusterObject, DaskClusterStatus, DaskWorkerGroup as DaskWorkerGroupObject, Pod } from '../lib/schema/generated/types';
import { API_VERSION, clusterNameProblem, COMPONENT_SCHEDULER, defaultWorkerGroupName, GROUP, LABEL_CLUSTER, LABEL_COMPONENT, schedulerName, VERSION } from '../lib/schema/names';
import { ignoreNotFound, isNotFound } from '../operator/runtime/kube-errors';
import { mergePatchOptions } from '../operator/runtime/kube';

/**
 * Options of `KubeCluster.create()`: the cluster's shape in the constructs' words (DaskClusterOptions: `workers`,
 * `env`, `resources`, `idleTimeout`, ...), plus how to reach and wait for it.
 */
export interface KubeClusterOptions extends DaskClusterOptions {
  /** Cluster name (an RFC 1123 label of at most 53 characters). */
  readonly name: string;
  /** @default - the kubeconfig context's namespace, else 'default' */
  readonly namespace?: string;
  /** Delete the cluster in close(). @default - true for create(), false for fromName() */
  readonly shutdownOnClose?: boolean;
  /** How long to wait for the operator to bring the cluster up. @default Duration.seconds(60) */
  readonly resourceTimeout?: Duration;
  /** @default - KubeConfig.loadFromDefault() */
  readonly kubeConfig?: KubeConfig;
}

/** Options of `KubeCluster.fromName()`. */
export interface KubeClusterConnectOptions {
  /** @default - the kubeconfig context's namespace, else 'default' */
  readonly namespace?: string;
  /** Delete the cluster in close(). @default false */
  readonly shutdownOnClose?: boolean;
  /** How long to wait for the cluster to be running. @default Duration.seconds(60) */
  readonly resourceTimeout?: Duration;
  /** @default - KubeConfig.loadFromDefault() */
  readonly kubeConfig?: KubeConfig;
}

const DEFAULT_RESOURCE_TIMEOUT_MS = 60_000;

export class KubeClusterError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KubeCluster {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private closed = false;

  private constructor(
    readonly name: string,
    readonly namespace: string,
    kc: KubeConfig,
    private readonly shutdownOnClose: boolean,
    private readonly timeoutMs: number,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Creates the DaskCluster (or connects if it already exists) and waits until its scheduler is Ready. */
  static async create(opts: KubeClusterOptions): Promise<KubeCluster> {
    const problem = clusterNameProblem(opts.name);
    if (problem) throw new KubeClusterError(`invalid cluster name: ${problem}`);
    const problems = [...replicasProblems('workers', opts.workers), ...resourcesProblems('resources', opts.resources), ...idleProblems('', opts)];
    if (problems.length > 0) throw new KubeClusterError(problems.join('; '));
    const kc = opts.kubeConfig ?? defaultKubeConfig();
    const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const cluster = new KubeCluster(opts.name, ns, kc, opts.shutdownOnClose ?? true, opts.resourceTimeout?.toMilliseconds() ?? DEFAULT_RESOURCE_TIMEOUT_MS);
    const body: DaskClusterObject = {
      apiVersion: API_VERSION,
      kind: 'DaskCluster',
      metadata: { name: opts.name, namespace: ns },
      spec: clusterSpecOf(opts.name, opts),
    };
    try {
      await cluster.custom.createNamespacedCustomObject({ ...cluster.ref('daskclusters'), body });
    } catch (e) {
      if (isNotFound(e)) throw new KubeClusterError(`the DaskCluster CRD is not installed on ${kc.getCurrentCluster()?.server}: kubectl apply -f crds/ (or install the DaskOperator)`);
      if ((e as { code?: number }).code !== 409) throw e;
    }
    await cluster.waitUntilRunning(true);
    return cluster;
  }

  /** Connects to an existing cluster; close() leaves it running unless shutdownOnClose is set. */
  static async fromName(name: string, opts: KubeClusterConnectOptions = {}): Promise<KubeCluster> {
    const kc = opts.kubeConfig ?? defaultKubeConfig();
    const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const cluster = new KubeCluster(name, ns, kc, opts.shutdownOnClose ?? false, opts.resourceTimeout?.toMilliseconds() ?? DEFAULT_RESOURCE_TIMEOUT_MS);
    if (!(await cluster.get())) throw new KubeClusterError(`DaskCluster ${ns}/${name} does not exist`);
    await cluster.waitUntilRunning(false);
    return cluster;
  }

  /** The in-cluster scheduler address, as the operator reports it. */
  async schedulerAddress(): Promise<string | undefined> {
    return (await this.status())?.schedulerAddress;
  }

  async status(): Promise<DaskClusterStatus | undefined> {
    return (await this.get())?.status;
  }

  /** Sets the worker count of a group (default: the default group). Turns adaptive scaling off, as upstream. */
  async scale(n: number, workerGroup = 'default'): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new KubeClusterError(`scale(${n}): the worker count must be a whole number >= 0`);
    await ignoreNotFound(() => this.custom.deleteNamespacedCustomObject({ ...this.ref('daskautoscalers'), name: this.name }));
    if (workerGroup === 'default') {
      await this.custom.patchNamespacedCustomObject({ ...this.ref('daskclusters'), name: this.name, body: { spec: { worker: { replicas: n } } } }, mergePatchOptions());
    }
    const group = workerGroup === 'default' ? defaultWorkerGroupName(this.name) : `${this.name}-${workerGroup}`;
    await this.custom.patchNamespacedCustomObject({ ...this.ref('daskworkergroups'), name: group, body: { spec: { worker: { replicas: n } } } }, mergePatchOptions());
  }

  /** Makes the cluster adaptive between minimum and maximum workers (a DaskAutoscaler named after the cluster). */
  async adapt(options: DaskAutoscalerOptions): Promise<void> {
    const minimum = options.minimum ?? 0;
    const maximum = options.maximum;
    if (!(Number.isInteger(minimum) && Number.isInteger(maximum) && minimum >= 0 && minimum <= maximum)) {
      throw new KubeClusterError(`adapt({ minimum: ${minimum}, maximum: ${maximum} }): need whole numbers with 0 <= minimum <= maximum`);
    }
    const body = { apiVersion: API_VERSION, kind: 'DaskAutoscaler', metadata: { name: this.name, namespace: this.namespace }, spec: { cluster: this.name, minimum, maximum } };
    try {
      await this.custom.createNamespacedCustomObject({ ...this.ref('daskautoscalers'), body });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      await this.custom.patchNamespacedCustomObject({ ...this.ref('daskautoscalers'), name: this.name, body: { spec: { minimum, maximum } } }, mergePatchOptions());
    }
  }

  /**
   * Adds the DaskWorkerGroup `{cluster}-{name}` (the same options as `DaskCluster.addWorkerGroup()`); the image,
   * env and resources it leaves unset are the default group's current ones.
   */
  async addWorkerGroup(name: string, opts: DaskWorkerGroupOptions = {}): Promise<void> {
    const problems = [...replicasProblems('workers', opts.workers), ...resourcesProblems('resources', opts.resources), ...idleProblems('', opts)];
    if (problems.length > 0) throw new KubeClusterError(problems.join('; '));
    const cluster = await this.get();
    const c0 = cluster?.spec.worker.spec.containers[0];
    const worker = workerTemplateOf({ ...opts, image: opts.image ?? c0?.image });
    const container = worker.spec.containers[0];
    if (c0 && !opts.workerPodSpec) {
      if (opts.resources === undefined && c0.resources) container.resources = c0.resources;
      if (opts.env === undefined && opts.envValues === undefined && c0.env) container.env = c0.env;
    }
    const body: DaskWorkerGroupObject = {
      apiVersion: API_VERSION,
      kind: 'DaskWorkerGroup',
      metadata: { name: `${this.name}-${name}`, namespace: this.namespace },
      spec: { cluster: this.name, worker },
    };
    await this.custom.createNamespacedCustomObject({ ...this.ref('daskworkergroups'), body });
  }

  async deleteWorkerGroup(name: string): Promise<void> {
    await ignoreNotFound(() => this.custom.deleteNamespacedCustomObject({ ...this.ref('daskworkergroups'), name: `${this.name}-${name}` }));
  }

  /** Logs of the scheduler and worker Pods, by Pod name. */
  async getLogs(): Promise<Record<string, string>> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `${LABEL_CLUSTER}=${this.name}` });
    const out: Record<string, string> = {};
    for (const pod of pods.items as unknown as Pod[]) {
      const name = pod.metadata.name as string;
      if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed') {
        out[name] = `Cannot find logs. Pod is ${pod.status?.phase ?? 'Pending'}.`;
        continue;
      }
      try {
        out[name] = await this.core.readNamespacedPodLog({ namespace: this.namespace, name });
      } catch (e) {
        out[name] = `Cannot read logs: ${(e as Error).message}`;
      }
    }
    return out;
  }

  /** Deletes the cluster when shutdownOnClose, waiting until it is gone. */
  async close(timeoutMs = 60_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.shutdownOnClose) return;
    await ignoreNotFound(() => this.custom.deleteNamespacedCustomObject({ ...this.ref('daskclusters'), name: this.name }));
    const deadline = Date.now() + timeoutMs;
    while (await this.get()) {
      if (Date.now() > deadline) throw new KubeClusterError(`DaskCluster ${this.namespace}/${this.name} still exists ${timeoutMs} ms after it was deleted`);
      await sleep(250);
    }
  }

  private ref(plural: string): { group: string; version: string; namespace: string; plural: string } {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural };
  }

  private async get(): Promise<DaskClusterObject | undefined> {
    return (await ignoreNotFound(() => this.custom.getNamespacedCustomObject({ ...this.ref('daskclusters'), name: this.name }))) as DaskClusterObject | undefined;
  }

  /** Waits for phase Running and a Ready scheduler Pod; on a created cluster that never comes up, deletes it. */
  private async waitUntilRunning(created: boolean): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let last = 'no status yet';
    while (Date.now() < deadline) {
      const c = await this.get();
      const phase = c?.status?.phase;
      if (phase === 'Error') throw new KubeClusterError(`DaskCluster ${this.namespace}/${this.name} is in phase Error: ${c?.status?.conditions?.find((x) => x.type === 'Ready')?.message ?? ''}`);
      if (phase === 'Running') {
        const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `${LABEL_CLUSTER}=${this.name},${LABEL_COMPONENT}=${COMPONENT_SCHEDULER}` });
        const ready = pods.items.some((p) => p.metadata?.name === schedulerName(this.name) && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
        if (ready) return;
        last = 'phase Running, scheduler Pod not Ready yet';
      } else {
        last = phase ? `phase ${phase}` : 'no status yet';
      }
      await sleep(250);
    }
    if (created && this.shutdownOnClose) await ignoreNotFound(() => this.custom.deleteNamespacedCustomObject({ ...this.ref('daskclusters'), name: this.name }));
    throw new KubeClusterError(`DaskCluster ${this.namespace}/${this.name} did not become ready within ${this.timeoutMs} ms (${last}); is the Dask Operator running?`);
  }
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
