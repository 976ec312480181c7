/**
 * DaskJobs from TypeScript: submit one (a runner command plus the cluster it needs), wait for it to finish, suspend and
 * resume it, read its runner's log, delete it. Like KubeCluster, everything goes through the kubernetes.dask.org/v1
 * resource, so the job runs on when this process is gone; the operator does the work.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { clusterSpec, type DaskEnv, type DaskResources } from '../lib/spec/cluster-spec';
import { jobLifecycleProblems, jobSpec, type JobRunnerOptions } from '../lib/spec/job-spec';
import type { DaskJob as DaskJobObject, DaskJobStatus } from '../lib/schema/generated/types';
import { jobFinished } from '../lib/schema/job';
import { API_VERSION, clusterNameProblem, GROUP, LABEL_KUEUE_QUEUE_NAME, VERSION } from '../lib/schema/names';
import { ignoreNotFound, mergePatchOptions } from '../operator/runtime/kube';

export interface KubeJobOptions {
  /** Job name; also the name of its DaskCluster (an RFC 1123 label of at most 53 characters). */
  readonly name: string;
  /** @default the kubeconfig context's namespace, else 'default' */
  readonly namespace?: string;
  /** The runner container; DASK_SCHEDULER_ADDRESS is injected by the operator. */
  readonly runner: JobRunnerOptions;
  /** Workers of the job's cluster. @default 3 */
  readonly nWorkers?: number;
  /** Image of the scheduler, the workers and (unless runner.image) the runner. @default 'ghcr.io/dask/dask:2026.8.0' */
  readonly image?: string;
  readonly env?: DaskEnv;
  readonly resources?: DaskResources;
  /** Retries of a failed runner (new runner Pods on the same cluster). @default no retries */
  readonly backoffLimit?: number;
  /** Seconds the job may be active, cluster start-up included. @default no deadline */
  readonly activeDeadlineSeconds?: number;
  /** Seconds after finishing before the operator deletes the DaskJob. @default kept */
  readonly ttlSecondsAfterFinished?: number;
  /** Create the job suspended. @default false */
  readonly suspend?: boolean;
  /** Kueue LocalQueue to submit to (the kueue.x-k8s.io/queue-name label; docs/kueue.md). @default not queued */
  readonly queueName?: string;
  /** @default KubeConfig.loadFromDefault() */
  readonly kubeConfig?: KubeConfig;
}

/** How a job ended. */
export interface KubeJobResult {
  readonly succeeded: boolean;
  /** The reason of the Complete or Failed condition (RunnerSucceeded, BackoffLimitExceeded, DeadlineExceeded, ...). */
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

  /** Creates the DaskJob. Refuses bad input before anything is sent. */
  static async submit(opts: KubeJobOptions): Promise<KubeJob> {
    const problem = clusterNameProblem(opts.name);
    if (problem) throw new KubeJobError(`invalid job name: ${problem}`);
    const problems = jobLifecycleProblems(opts);
    if (problems.length > 0) throw new KubeJobError(problems.join('; '));
    const kc = opts.kubeConfig ?? defaultKubeConfig();
    const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const job = new KubeJob(opts.name, ns, kc);
    const body: DaskJobObject = {
      apiVersion: API_VERSION,
      kind: 'DaskJob',
      metadata: { name: opts.name, namespace: ns, ...(opts.queueName ? { labels: { [LABEL_KUEUE_QUEUE_NAME]: opts.queueName } } : {}) },
      spec: jobSpec({
        runner: opts.runner,
        cluster: clusterSpec({ name: opts.name, image: opts.image, replicas: opts.nWorkers, env: opts.env, resources: opts.resources }),
        backoffLimit: opts.backoffLimit,
        activeDeadlineSeconds: opts.activeDeadlineSeconds,
        ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished,
        suspend: opts.suspend,
      }),
    };
    await job.custom.createNamespacedCustomObject({ ...job.ref(), body });
    return job;
  }

  /** An existing DaskJob. */
  static async fromName(name: string, opts: { namespace?: string; kubeConfig?: KubeConfig } = {}): Promise<KubeJob> {
    const kc = opts.kubeConfig ?? defaultKubeConfig();
    const ns = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const job = new KubeJob(name, ns, kc);
    if (!(await job.get())) throw new KubeJobError(`DaskJob ${ns}/${name} does not exist`);
    return job;
  }

  async status(): Promise<DaskJobStatus | undefined> {
    return (await this.get())?.status;
  }

  /** Waits until the job finished either way; throws if it is deleted first or `timeoutMs` passes. */
  async wait(timeoutMs = 3_600_000, pollMs = 1000): Promise<KubeJobResult> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no status yet';
    for (;;) {
      const job = await this.get();
      if (!job) throw new KubeJobError(`DaskJob ${this.namespace}/${this.name} was deleted before it finished (last seen: ${last})`);
      const s = job.status ?? {};
      if (jobFinished(s)) {
        const failed = s.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
        const complete = s.conditions?.find((c) => c.type === 'Complete' && c.status === 'True');
        const c = failed ?? complete;
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

  /** The log of the current runner attempt (status.jobRunnerPodName), or undefined if it has none yet. */
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
