/**
 * An in-memory DaskContext for reconciler unit tests: caches are maps, writes are recorded and applied. Objects are
 * frozen and versioned like the real cache's and API server's (see FakeStore); status writes with a stale
 * resourceVersion get 409 Conflict.
 */
import type { DaskApi, ObjectRef, Plural } from '../../../operator/dask/api';
import type { DaskCaches, DaskContext, DaskOperatorOptions } from '../../../operator/dask/context';
import { DEFAULT_OPTIONS } from '../../../operator/dask/context';
import { Expectations } from '../../../operator/dask/expectations';
import { OwnWrites } from '../../../operator/dask/own-writes';
import type { ReconcileContext } from '../../../operator/runtime/reconcile';
import { nullLogger } from '../../../operator/runtime/logger';
import type { SchedulerClient } from '../../../operator/scheduler';
import { jsonEqual } from '../../../operator/dask/conditions';
import { specSchema, withSchemaDefaults } from '../../../operator/dask/desired';
import { deepFreeze } from '../../../operator/runtime/informer';
import { KubeHttpError } from '../../../operator/runtime/rest';

type Obj = { metadata: { name?: string; namespace?: string; uid?: string; ownerReferences?: unknown[]; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; creationTimestamp?: string }; [k: string]: unknown };

/**
 * One kind's objects, as both the API server and the informer cache see them. Like the real cache it hands out
 * deep-frozen snapshots (a reconciler that mutates one throws), and like the API server it stamps every write with a
 * new resourceVersion (and a spec change with a new generation). Tests change objects with `edit`, never in place.
 */
export class FakeStore<T extends Obj> {
  private readonly objects = new Map<string, T>();

  constructor(
    private readonly nextVersion: () => string,
    /** What the API server does to a written object (e.g. fill in the CRD's defaults). */
    private readonly admit: (o: T) => void = () => undefined,
  ) {}

  get(ns: string, name: string): T | undefined {
    return this.objects.get(`${ns}/${name}`);
  }
  list(ns?: string): T[] {
    return [...this.objects.values()].filter((o) => ns === undefined || ns === '' || o.metadata.namespace === ns);
  }
  /** Stores a copy of `o` (a create, or a replace) with a new resourceVersion; returns the stored, frozen copy. */
  put(o: T): T {
    const stored = structuredClone(o) as T & { metadata: { resourceVersion?: string; generation?: number } };
    this.admit(stored);
    const prev = this.get(o.metadata.namespace as string, o.metadata.name as string) as (T & { metadata: { generation?: number } }) | undefined;
    stored.metadata.resourceVersion = this.nextVersion();
    stored.metadata.generation ??= prev && !jsonEqual(prev.spec, stored.spec) ? (prev.metadata.generation ?? 1) + 1 : prev?.metadata.generation ?? 1;
    this.objects.set(`${o.metadata.namespace}/${o.metadata.name}`, deepFreeze(stored));
    return stored;
  }
  /** Changes an object the way another client would (a write on the server): `fn` edits a copy. */
  edit(ns: string, name: string, fn: (draft: T) => void): T {
    const cur = this.get(ns, name);
    if (!cur) throw new Error(`FakeStore: ${ns}/${name} does not exist`);
    const draft = structuredClone(cur) as T & { metadata: { generation?: number } };
    fn(draft);
    if (!jsonEqual(draft.spec, cur.spec)) draft.metadata.generation = ((cur.metadata as { generation?: number }).generation ?? 1) + 1;
    return this.put(draft);
  }
  remove(ns: string, name: string): boolean {
    return this.objects.delete(`${ns}/${name}`);
  }
}

export interface Write { readonly op: 'create' | 'patch' | 'status' | 'delete'; readonly plural: Plural; readonly name: string; readonly body?: unknown }

let uid = 0;
export class FakeWorld {
  private version = 1000;
  private readonly nextVersion = (): string => String(++this.version);
  readonly stores: Record<Plural, FakeStore<Obj>> = {
    pods: new FakeStore(this.nextVersion), services: new FakeStore(this.nextVersion), daskclusters: new FakeStore(this.nextVersion, defaults('DaskCluster')),
    daskworkergroups: new FakeStore(this.nextVersion, defaults('DaskWorkerGroup')), daskautoscalers: new FakeStore(this.nextVersion), daskjobs: new FakeStore(this.nextVersion),
    workloads: new FakeStore(this.nextVersion),
  };
  /** Cluster-scoped Kueue objects (namespace ''). */
  readonly resourceFlavors = new FakeStore<Obj>(this.nextVersion);
  readonly priorityClasses = new FakeStore<Obj>(this.nextVersion);
  /** Runs before each write is applied: a test can change the world there, as a concurrent client would. */
  beforeWrite: ((w: Write) => void) | undefined;
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
      this.record({ op: 'create', plural, name: o.metadata.name as string, body: o });
      if (this.stores[plural].get(namespace, o.metadata.name as string)) return false;
      o.metadata.namespace = namespace;
      o.metadata.uid = `uid-${++uid}`;
      o.metadata.creationTimestamp = new Date(this.clock.getTime() + this.seq++ * 1000).toISOString();
      if (this.applyCreates) this.stores[plural].put(o);
      return true;
    },
    patch: async (ref: ObjectRef, patch) => {
      this.record({ op: 'patch', plural: ref.plural, name: ref.name, body: patch });
      const cur = this.stores[ref.plural].get(ref.namespace, ref.name) as { metadata: { resourceVersion?: string } } | undefined;
      const guard = (patch as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (cur && guard !== undefined && guard !== cur.metadata.resourceVersion) {
        this.conflicts++;
        throw new KubeHttpError(409, 'PATCH', `${ref.plural}/${ref.name}`, '', { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
      }
      return cur ? this.stores[ref.plural].edit(ref.namespace, ref.name, (o) => mergePatch(o, patch)) : undefined;
    },
    patchStatus: async (ref: ObjectRef, status, resourceVersion) => {
      this.record({ op: 'status', plural: ref.plural, name: ref.name, body: status });
      const cur = this.stores[ref.plural].get(ref.namespace, ref.name) as { metadata: { resourceVersion?: string } } | undefined;
      if (!cur) throw new KubeHttpError(404, 'PATCH', `${ref.plural}/${ref.name}/status`, '', { kind: 'Status', code: 404, reason: 'NotFound' });
      if (resourceVersion !== undefined && resourceVersion !== cur.metadata.resourceVersion) {
        this.conflicts++;
        throw new KubeHttpError(409, 'PATCH', `${ref.plural}/${ref.name}/status`, '', { kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' });
      }
      return this.stores[ref.plural].edit(ref.namespace, ref.name, (o) => mergePatch(o, { status }));
    },
    delete: async (ref: ObjectRef, opts) => {
      this.record({ op: 'delete', plural: ref.plural, name: ref.name });
      const cur = this.stores[ref.plural].get(ref.namespace, ref.name);
      if (opts?.uid && cur && cur.metadata.uid !== opts.uid) return false; // precondition failed: someone else's object
      return this.stores[ref.plural].remove(ref.namespace, ref.name);
    },
  };
  /** Status writes refused because their resourceVersion was stale. */
  conflicts = 0;

  private record(w: Write): void {
    this.writes.push(w);
    this.beforeWrite?.(w);
  }

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
      ownWrites: this.ownWrites,
      schedulerClient: () => this.scheduler,
      now: () => this.clock,
      logger: nullLogger,
    };
  }
  readonly expectations = new Expectations();
  readonly ownWrites = new OwnWrites();

  /** Makes every Pod Running and Ready with an IP (what kwok does). */
  runAllPods(): void {
    let ip = 1;
    for (const p of this.stores.pods.list()) {
      const status = { phase: 'Running', podIP: `10.0.0.${ip++}`, conditions: [{ type: 'Ready', status: 'True' }] };
      if (!jsonEqual((p as Record<string, unknown>).status, status)) this.stores.pods.edit(p.metadata.namespace as string, p.metadata.name as string, (d) => void ((d as Record<string, unknown>).status = status));
    }
  }

  writesOf(op: Write['op'], plural: Plural): Write[] {
    return this.writes.filter((w) => w.op === op && w.plural === plural);
  }
}

/** Fills in the CRD's spec defaults on write, as the API server does (from the same lib/schema the CRDs come from). */
function defaults(kind: string): (o: Obj) => void {
  const schema = specSchema(kind);
  return (o) => {
    if (o.spec !== undefined) o.spec = withSchemaDefaults(schema, o.spec);
  };
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

/** A scheduler client that answers like an idle scheduler with no workers, except for what `overrides` replaces. */
export function fakeScheduler(overrides: Partial<SchedulerClient> = {}): SchedulerClient {
  return {
    transport: 'tcp',
    lastError: undefined,
    health: async () => true,
    workers: async () => [],
    workersToClose: async () => [],
    retireWorkers: async () => ({ retired: [], notRetired: [], confirmedBy: 'reply' }),
    adaptiveTarget: async () => 0,
    idleSince: async () => null,
    close: async () => undefined,
    ...overrides,
  };
}
