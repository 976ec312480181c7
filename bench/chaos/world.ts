/**
 * The chaos run's own view of the cluster: reads and writes straight to the API server with the admin kubeconfig
 * (never through the fault proxy), and the objects it creates: the DaskCluster whose default group is scaled, the
 * canary group whose catch-up measures "reconciliation resumed", and the DaskJobs of the churn.
 */
import * as fs from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { App, Chart } from 'cdk8s';
import { DaskJob, RestartPolicy } from '../../lib/index';
import { KubeHttpError, KubeRest } from '../../operator/runtime/rest';
import type { PodLike } from './checks';

const DASK = '/apis/kubernetes.dask.org/v1';
export type DaskPlural = 'daskclusters' | 'daskworkergroups' | 'daskjobs';

export interface DaskObject {
  readonly metadata: { readonly name: string; readonly uid: string; readonly generation?: number; readonly resourceVersion?: string; readonly deletionTimestamp?: string };
  readonly spec?: { readonly worker?: { readonly replicas?: number } };
  readonly status?: { readonly observedGeneration?: number; readonly replicas?: number; readonly readyReplicas?: number; readonly jobStatus?: string; readonly attempts?: number };
}

export class World {
  readonly rest: KubeRest;

  constructor(kubeconfig: string, readonly ns: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    this.rest = new KubeRest(kc);
  }

  private path(plural: DaskPlural | 'pods', name?: string): string {
    const base = plural === 'pods' ? `/api/v1/namespaces/${this.ns}/pods` : `${DASK}/namespaces/${this.ns}/${plural}`;
    return name ? `${base}/${name}` : base;
  }

  async createNamespace(): Promise<void> {
    await this.rest.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.ns } } });
  }

  async pods(labelSelector?: string): Promise<PodLike[]> {
    return (await this.rest.request<{ items: PodLike[] }>('GET', this.path('pods'), { query: { labelSelector } })).items;
  }

  async get(plural: DaskPlural, name: string): Promise<DaskObject | undefined> {
    try {
      return await this.rest.request<DaskObject>('GET', this.path(plural, name));
    } catch (e) {
      if (e instanceof KubeHttpError && e.statusCode === 404) return undefined;
      throw e;
    }
  }

  async list(plural: DaskPlural): Promise<DaskObject[]> {
    return (await this.rest.request<{ items: DaskObject[] }>('GET', this.path(plural))).items;
  }

  async create(plural: DaskPlural, body: object): Promise<DaskObject> {
    return await this.rest.request<DaskObject>('POST', this.path(plural), { body });
  }

  /** Sets a worker group's replicas (what `kubectl scale` does); returns the group as stored (its new generation). */
  async scale(group: string, replicas: number): Promise<DaskObject> {
    return await this.rest.request<DaskObject>('PATCH', this.path('daskworkergroups', group), { body: { spec: { worker: { replicas } } }, contentType: 'application/merge-patch+json' });
  }

  async delete(plural: DaskPlural, name: string): Promise<void> {
    try {
      await this.rest.request('DELETE', this.path(plural, name), { body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' } });
    } catch (e) {
      if (!(e instanceof KubeHttpError && e.statusCode === 404)) throw e;
    }
  }

  /** uids of every object that may control a Pod here (read these before the Pods when checking for orphans). */
  async ownerUids(): Promise<Set<string>> {
    const lists = await Promise.all((['daskclusters', 'daskworkergroups', 'daskjobs'] as const).map((p) => this.list(p)));
    return new Set(lists.flat().map((o) => o.metadata.uid));
  }
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The seed DaskCluster renamed, with `replicas` workers in its default group. */
export function clusterManifest(seedFile: string, name: string, replicas: number): Manifest {
  const doc = parse(fs.readFileSync(seedFile, 'utf8')) as Manifest;
  doc.metadata = { name };
  doc.spec.scheduler.service.selector['dask.org/cluster-name'] = name;
  doc.spec.worker.cluster = name;
  doc.spec.worker.replicas = replicas;
  return doc;
}

/** A second worker group of `cluster` (the canary), with the cluster's worker template. */
export function groupManifest(cluster: Manifest, name: string, replicas: number): Manifest {
  return {
    apiVersion: 'kubernetes.dask.org/v1',
    kind: 'DaskWorkerGroup',
    metadata: { name },
    spec: { cluster: cluster.metadata.name, worker: { replicas, spec: cluster.spec.worker.spec } },
  };
}

/** How a churned DaskJob ends: its runner succeeds, fails, or runs until the job is deleted. */
export type JobKind = 'succeed' | 'fail' | 'cancel';

/** A DaskJob (the construct's output) with one worker; kwok plays the runner as `kind` says. */
export function jobManifest(ns: string, name: string, kind: JobKind, runForSeconds: number): Manifest {
  const annotations: Record<string, string> = { 'fake.cdk8s-dask.io/run-for': `${runForSeconds.toFixed(1)}s` };
  if (kind === 'fail') annotations['fake.cdk8s-dask.io/outcome'] = 'Failed';
  if (kind === 'cancel') annotations['fake.cdk8s-dask.io/outcome'] = 'Running';
  const app = new App();
  new DaskJob(new Chart(app, 'chaos', { namespace: ns }), name, {
    runner: { args: ['python', '-c', 'print(1)'], restartPolicy: RestartPolicy.NEVER, metadata: { annotations } },
    cluster: { workers: 1 },
  });
  const docs = app.charts.flatMap((c) => c.toJson()) as Manifest[];
  const job = docs.find((d) => d.kind === 'DaskJob');
  if (!job) throw new Error(`chaos: the DaskJob construct synthesized no DaskJob for ${name}`);
  return job;
}
