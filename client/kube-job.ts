/**
 * DaskJobs from TypeScript: submit one (a runner plus the cluster it needs, in the constructs' words:
 * DaskJobOptions), wait for it to finish, suspend and resume it, read its current runner's log, delete it. Like
 * KubeCluster, everything goes through the kubernetes.dask.org/v1 resource, so the job runs on when this process is
 * gone; the operator does the work (docs/daskjob.md).
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Duration } from 'cdk8s';
import type { DaskJobOptions } from '../lib/options';
import { jobSpecOf } from '../lib/spec/from-options';
import { idleProblems, jobLifecycleProblems, replicasProblems, resourcesProblems } from '../lib/validation/props';
import type { DaskJob as DaskJobObject, DaskJobStatus } from '../lib/schema/generated/types';
import { jobFinished } from '../lib/schema/job';
import { API_VERSION, clusterNameProblem, GROUP, LABEL_KUEUE_QUEUE_NAME, VERSION } from '../lib/schema/names';
import { ignoreNotFound } from '../operator/runtime/kube-errors';
import { mergePatchOptions } from '../operator/runtime/kube';

/** Options of `KubeJob.submit()`: the job in the constructs' words, plus where to create it. */
export interface KubeJobOptions extends DaskJobOptions {
  /** Job name; also its DaskCluster's (an RFC 1123 label of at most 53 characters). */
  readonly name: string;
  /** @default - the kubeconfig context's namespace, else 'default' */
  readonly namespace?: string;
  /** Kueue LocalQueue to submit to (the kueue.x-k8s.io/queue-name label; docs/kueue.md). @default - not queued */
  readonly queueName?: string;
  /** @default - KubeConfig.loadFromDefault() */
  readonly kubeConfig?: KubeConfig;
}

/** Options of `KubeJob.fromName()`. */
export interface KubeJobConnectOptions {
  /** @default - the kubeconfig context's namespace, else 'default' */
  readonly namespace?: string;
  /** @default - KubeConfig.loadFromDefault() */
  readonly kubeConfig?: KubeConfig;
}

/** How a job ended. */
export interface KubeJobResult {
  readonly succeeded: boolean;
  /** The reason of its Complete or Failed condition (RunnerSucceeded, BackoffLimitExceeded, DeadlineExceeded, ...). */
  readonly reason?: string;
  readonly message?: string;
  readonly status: DaskJobStatus;
}

export class KubeJobError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KubeJob {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  private constructor(readonly name: string, readonly namespace: string, kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Creates the DaskJob; bad input is refused before anything is sent. */
  static async submit(opts: KubeJobOptions): Promise<KubeJob> {
    const problem = clusterNameProblem(opts.name);
    if (problem) throw new KubeJobError(`invalid job name: ${problem}`);
    const problems = [
      ...replicasProblems('cluster.workers', opts.cluster?.workers), ...resourcesProblems('runner.resources', opts.runner.resources),
      ...idleProblems('cluster.', opts.cluster ?? {}), ...jobLifecycleProblems(opts),
    ];
    if (problems.length > 0) throw new KubeJobError(problems.join('; '));
    const kc = opts.kubeConfig ?? defaultKubeConfig();
    const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const job = new KubeJob(opts.name, ns, kc);
    const body: DaskJobObject = {
      apiVersion: API_VERSION,
      kind: 'DaskJob',
      metadata: { name: opts.name, namespace: ns, ...(opts.queueName ? { labels: { [LABEL_KUEUE_QUEUE_NAME]: opts.queueName } } : {}) },
      spec: jobSpecOf(opts.name, opts),
    };
    await job.custom.createNamespacedCustomObject({ ...job.ref(), body });
    return job;
  }

  /** An existing DaskJob. */
  static async fromName(name: string, opts: KubeJobConnectOptions = {}): Promise<KubeJob> {
    const kc = opts.kubeConfig ?? defaultKubeConfig();
    const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const job = new KubeJob(name, ns, kc);
    if (!(await job.get())) throw new KubeJobError(`DaskJob ${ns}/${name} does not exist`);
    return job;
  }

  async status(): Promise<DaskJobStatus | undefined> {
    return (await this.get())?.status;
  }

  /**
   * Waits until the job finished, either way; throws if it is deleted first or `timeout` passes.
   * @param timeout @default Duration.hours(1)
   */
  async wait(timeout?: Duration, poll?: Duration): Promise<KubeJobResult> {
    const timeoutMs = timeout?.toMilliseconds() ?? 3_600_000;
    const pollMs = poll?.toMilliseconds() ?? 1000;
    const deadline = Date.now() + timeoutMs;
    let last = 'no status yet';
    for (;;) {
      const job = await this.get();
      if (!job) throw new KubeJobError(`DaskJob ${this.namespace}/${this.name} was deleted before it finished (last seen: ${last})`);
      const s = job.status ?? {};
      if (jobFinished(s)) {
        const c = s.conditions?.find((x) => x.type === 'Failed' && x.status === 'True') ?? s.conditions?.find((x) => x.type === 'Complete' && x.status === 'True');
        return { succeeded: s.jobStatus === 'Successful', reason: c?.reason, message: c?.message, status: s };
      }
      last = s.jobStatus ? `jobStatus ${s.jobStatus}` : 'no status yet';
      if (Date.now() > deadline) throw new KubeJobError(`DaskJob ${this.namespace}/${this.name} did not finish within ${timeoutMs} ms (${last}); is the Dask Operator running?`);
      await sleep(pollMs);
    }
  }

  /** Suspends the job: the operator deletes its runner and cluster. */
  async suspend(): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...this.ref(), name: this.name, body: { spec: { suspend: true } } }, mergePatchOptions());
  }

  /** Resumes a suspended job: a new cluster and a new runner attempt. */
  async resume(): Promise<void> {
    await this.custom.patchNamespacedCustomObject({ ...this.ref(), name: this.name, body: { spec: { suspend: false } } }, mergePatchOptions());
  }

  /** The log of the current runner attempt (status.jobRunnerPodName), or undefined while it has none. */
  async runnerLog(): Promise<string | undefined> {
    const pod = (await this.status())?.jobRunnerPodName;
    if (!pod) return undefined;
    return ignoreNotFound(() => this.core.readNamespacedPodLog({ namespace: this.namespace, name: pod }));
  }

  /** Deletes the DaskJob; its runner Pods and cluster go with it. */
  async delete(): Promise<void> {
    await ignoreNotFound(() => this.custom.deleteNamespacedCustomObject({ ...this.ref(), name: this.name }));
  }

  private ref(): { group: string; version: string; namespace: string; plural: string } {
    return { group: GROUP, version: VERSION, namespace: this.namespace, plural: 'daskjobs' };
  }

  private async get(): Promise<DaskJobObject | undefined> {
    return (await ignoreNotFound(() => this.custom.getNamespacedCustomObject({ ...this.ref(), name: this.name }))) as DaskJobObject | undefined;
  }
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
