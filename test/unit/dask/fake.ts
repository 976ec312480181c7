/** An in-memory DaskContext for reconciler unit tests: caches are maps, writes are recorded and applied. */
import type { DaskApi, ObjectRef, Plural } from '../../../operator/dask/api';
import type { DaskCaches, DaskContext, DaskOperatorOptions } from '../../../operator/dask/context';
import { DEFAULT_OPTIONS } from '../../../operator/dask/context';
import { Expectations } from '../../../operator/dask/expectations';
import type { ReconcileContext } from '../../../operator/runtime/reconcile';
import { nullLogger } from '../../../operator/runtime/logger';
import type { SchedulerClient } from '../../../operator/scheduler';

type Obj = { metadata: { name?: string; namespace?: string; uid?: string; ownerReferences?: unknown[]; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; creationTimestamp?: string }; [k: string]: unknown };

export class FakeStore<T extends Obj> {
  readonly objects = new Map<string, T>();
  get(ns: string, name: string): T | undefined {
    return this.objects.get(`${ns}/${name}`);
  }
  list(ns?: string): T[] {
    return [...this.objects.values()].filter((o) => ns === undefined || ns === '' || o.metadata.namespace === ns);
  }
  put(o: T): T {
    this.objects.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
    return o;
  }
}

export interface Write { readonly op: 'create' | 'patch' | 'status' | 'delete'; readonly plural: Plural; readonly name: string; readonly body?: unknown }

let uid = 0;
export class FakeWorld {
  readonly stores: Record<Plural, FakeStore<Obj>> = {
    pods: new FakeStore(), services: new FakeStore(), daskclusters: new FakeStore(), daskworkergroups: new FakeStore(), daskautoscalers: new FakeStore(), daskjobs: new FakeStore(),
    workloads: new FakeStore(),
  };
  /** Cluster-scoped Kueue objects (namespace ''). */
  readonly resourceFlavors = new FakeStore<Obj>();
  readonly priorityClasses = new FakeStore<Obj>();
  readonly writes: Write[] = [];
  readonly events: { type: string; reason: string; message: string }[] = [];
  /** When false, creates are recorded but not visible in the caches (an informer lagging behind). */
  applyCreates = true;
  rejectPodCreate: string | undefined;
  scheduler: SchedulerClient | undefined;
  clock = new Date('2026-11-26T12:00:00Z');
  private seq = 0;

  readonly api: DaskApi = {
    get: async (ref: ObjectRef) => this.stores[ref.plural].get(ref.namespace, ref.name) as never,
    create: async (plural, namespace, body) => {
      const o = JSON.parse(JSON.stringify(body)) as Obj;
      if (plural === 'pods' && this.rejectPodCreate) {
        throw Object.assign(new Error(`POST pods failed with HTTP 422 Invalid: ${this.rejectPodCreate}`), { statusCode: 422 });
      }
      this.writes.push({ op: 'create', plural, name: o.metadata.name as string, body: o });
      if (this.stores[plural].get(namespace, o.metadata.name as string)) return false;
      o.metadata.namespace = namespace;
      o.metadata.uid = `uid-${++uid}`;
      o.metadata.creationTimestamp = new Date(this.clock.getTime() + this.seq++ * 1000).toISOString();
      if (this.applyCreates) this.stores[plural].put(o);
      return true;
    },
    patch: async (ref: ObjectRef, patch) => {
      this.writes.push({ op: 'patch', plural: ref.plural, name: ref.name, body: patch });
      const o = this.stores[ref.plural].get(ref.namespace, ref.name);
      if (o) mergePatch(o, patch);
    },
    patchStatus: async (ref: ObjectRef, status) => {
      this.writes.push({ op: 'status', plural: ref.plural, name: ref.name, body: status });
      const o = this.stores[ref.plural].get(ref.namespace, ref.name);
      if (o) mergePatch(o, { status });
    },
    delete: async (ref: ObjectRef) => {
      this.writes.push({ op: 'delete', plural: ref.plural, name: ref.name });
      return this.stores[ref.plural].objects.delete(`${ref.namespace}/${ref.name}`);
    },
  };

  /** Whether contexts carry the Kueue caches (the operator's --kueue). */
  kueue = false;

  context(options: Partial<DaskOperatorOptions> = {}): DaskContext {
    const s = this.stores;
    const kueue = this.kueue ? { kueue: { workloads: s.workloads, resourceFlavors: this.resourceFlavors, priorityClasses: this.priorityClasses } } : {};
    return {
      caches: { clusters: s.daskclusters, workerGroups: s.daskworkergroups, autoscalers: s.daskautoscalers, jobs: s.daskjobs, pods: s.pods, services: s.services, ...kueue } as unknown as DaskCaches,
      api: this.api,
      events: { event: (_o, type, reason, message) => void this.events.push({ type, reason, message }) },
      options: { ...DEFAULT_OPTIONS, ...options },
      expectations: this.expectations,
      schedulerClient: () => this.scheduler,
      now: () => this.clock,
      logger: nullLogger,
    };
  }
  readonly expectations = new Expectations();

  /** Makes every Pod Running and Ready with an IP (what kwok does). */
  runAllPods(): void {
    let ip = 1;
    for (const p of this.stores.pods.list()) {
      (p as Record<string, unknown>).status = { phase: 'Running', podIP: `10.0.0.${ip++}`, conditions: [{ type: 'Ready', status: 'True' }] };
    }
  }

  writesOf(op: Write['op'], plural: Plural): Write[] {
    return this.writes.filter((w) => w.op === op && w.plural === plural);
  }
}

function mergePatch(target: Record<string, unknown>, patch: unknown): void {
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (v === null) delete target[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object' && !Array.isArray(target[k])) mergePatch(target[k] as Record<string, unknown>, v);
    else target[k] = JSON.parse(JSON.stringify(v));
  }
}

export const rc: ReconcileContext = { logger: nullLogger, signal: new AbortController().signal, retries: 0, reconcileId: 'test' };
