/**
 * Helpers for the operator integration tests: the seed manifests, reads of Dask objects and their Pods through
 * kubectl, and `withOperator()` which runs one operator process per test file, watching only that file's namespace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './cluster';
import { kubectl, kubectlJson } from './kube';
import type { TestNamespace } from './namespace';
import { ensureOperatorBuilt, OperatorProcess, type OperatorOptions } from './operator';

export const SEED_CLUSTER_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'seed', 'my-cluster.yaml');
export const SEED_AUTOSCALER_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'seed', 'autoscaler.yaml');
export const GROUP_API = '/apis/kubernetes.dask.org/v1';

export interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  generation?: number;
  resourceVersion?: string;
}
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
export interface Obj {
  kind: string;
  metadata: Meta;
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
export interface PodObj extends Obj {
  spec: { containers: { name: string; image: string; env?: { name: string; value?: string }[] }[]; restartPolicy?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
export interface EventObj {
  type: string;
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

/** The seed's DaskCluster manifest (a fresh copy), optionally renamed / with worker replicas changed. */
export function seedCluster(overrides: { name?: string; replicas?: number } = {}): Obj {
  const doc = parse(fs.readFileSync(SEED_CLUSTER_FILE, 'utf8')) as Obj;
  if (overrides.name) {
    const name = overrides.name;
    doc.metadata.name = name;
    doc.spec.scheduler.service.selector['dask.org/cluster-name'] = name;
    doc.spec.worker.cluster = name;
  }
  if (overrides.replicas !== undefined) doc.spec.worker.replicas = overrides.replicas;
  return doc;
}

export async function apply(ns: string, obj: object): Promise<void> {
  await kubectl(['apply', '-n', ns, '-f', '-'], { input: JSON.stringify(obj) });
}

export async function getObj<T extends Obj = Obj>(ns: string, kind: string, name: string): Promise<T | undefined> {
  const r = await kubectl(['get', '-n', ns, kind, name, '-o', 'json', '--ignore-not-found'], {});
  return r.stdout.trim() ? (JSON.parse(r.stdout) as T) : undefined;
}

export async function listObjs<T extends Obj = Obj>(ns: string, kind: string, selector?: string): Promise<T[]> {
  const args = ['get', '-n', ns, kind, '-o', 'json'];
  if (selector) args.push('-l', selector);
  return (await kubectlJson<{ items: T[] }>(args)).items;
}

export const isLive = (p: PodObj): boolean => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
export const isRunning = (p: PodObj): boolean => isLive(p) && p.status?.phase === 'Running';

/** Worker Pods of a group (by label), including terminating ones. */
export function workerPods(ns: string, group: string): Promise<PodObj[]> {
  return listObjs<PodObj>(ns, 'pods', `dask.org/workergroup-name=${group},dask.org/component=worker`);
}

export function condition(obj: Obj | undefined, type: string): Condition | undefined {
  return (obj?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

export function controllerOf(obj: Obj): NonNullable<Meta['ownerReferences']>[number] | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

export async function events(ns: string, involvedName?: string): Promise<EventObj[]> {
  const args = ['get', 'events', '-n', ns, '-o', 'json'];
  if (involvedName) args.push('--field-selector', `involvedObject.name=${involvedName}`);
  return (await kubectlJson<{ items: EventObj[] }>(args)).items;
}

/**
 * Registers beforeAll/afterAll: builds the operator and starts it watching `ns` only; on afterAll stops it by pid.
 * Tests wrapped in `op.it()` get the operator's log tail appended to their failure message. `options` may be a
 * function, called in the beforeAll (after the file's own earlier hooks, so it can use ports they opened).
 */
export function withOperator(ns: TestNamespace, options: readonly string[] | (() => Omit<OperatorOptions, 'namespaces'>) = []): {
  readonly process: OperatorProcess;
  it: (name: string, fn: () => Promise<void>, timeoutMs?: number) => void;
} {
  let proc: OperatorProcess | undefined;
  let failed = false;
  beforeAll(async () => {
    await ensureOperatorBuilt();
    proc = new OperatorProcess({ namespaces: [ns.name], ...(typeof options === 'function' ? options() : { args: options }) });
    proc.start();
  }, 180_000);
  afterAll(async () => {
    await proc?.dispose(failed);
  }, 30_000);
  const handle = {
    get process(): OperatorProcess {
      if (!proc) throw new Error('withOperator(): the operator exists only inside tests');
      return proc;
    },
    it(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
      it(name, async () => {
        try {
          await fn();
        } catch (err) {
          failed = true;
          const e = err instanceof Error ? err : new Error(String(err));
          e.message += `\n--- operator log tail ---\n${proc?.tail(60) ?? '(no operator)'}`;
          throw e;
        }
      }, timeoutMs);
    },
  };
  return handle;
}
