/**
 * Controller: one work queue, a reconcile function, and the watches that feed the queue.
 *
 * - `for`: the primary informer; each event enqueues the object's own key.
 * - `owns`: child informers; each event enqueues the key of the child's controller owner
 *   (the ownerReference with `controller: true` whose kind and API group match `kind`),
 *   in the child's namespace. Children without such an owner are ignored.
 * - `watches`: any informer plus a mapper from an object to the Requests to enqueue.
 *
 * Handlers never carry event content to the reconciler: add, update, delete and resync all just
 * enqueue a key, and the reconciler reads the current state from the caches (level-triggered).
 *
 * Outcome policy, in one place ({@link Controller.process}):
 * - returned `{ requeueAfter: ms }` → backoff reset, key re-queued after ms (`0`: at once, after this run);
 * - returned nothing → backoff reset;
 * - thrown TerminalError → logged and counted, not retried;
 * - thrown anything else → logged with the key, re-queued with per-key backoff (5 ms doubling to 5 min).
 */
import { randomBytes } from 'node:crypto';
import type { BackoffOptions } from './backoff';
import { realClock, type Clock } from './clock';
import type { Watchable } from './informer';
import { nullLogger, type Logger } from './logger';
import type { RuntimeMetrics } from './metrics';
import { controllerOf, keyOf, objectKey, parseKey, type GroupVersionKind, type KubeObject, type Request } from './object';
import { isTerminalError, type ReconcileFn } from './reconcile';
import { WorkQueue, runWorkers, type QueuePriority } from './workqueue';

/** An extra watch: an informer and a mapper from its objects to the keys to reconcile. */
export interface WatchSpec<W extends KubeObject = KubeObject> {
  readonly informer: Watchable<W>;
  /** Requests to enqueue for a changed object (called for add, update — old and new — and delete). */
  map(obj: W): readonly Request[];
}

/** Options for a {@link Controller}. */
export interface ControllerOptions<T extends KubeObject = KubeObject> {
  /** Unique name; labels logs and metrics. */
  readonly name: string;
  /** apiVersion and kind of the primary resource, used to match children's controller ownerReferences. */
  readonly kind: GroupVersionKind;
  /** The primary informer. */
  readonly for: Watchable<T>;
  /**
   * Filters primary events before they enqueue (e.g. ignore status-only updates by comparing generation).
   * Caveat: a filtered-out change is only seen at the next resync or child event.
   * @default every event enqueues
   */
  readonly forPredicate?: (ev: { readonly type: 'add' | 'update' | 'delete'; readonly object: T; readonly oldObject?: T; readonly resync?: boolean }) => boolean;
  /** Informers of children owned (as controller) by the primary kind. @default [] */
  readonly owns?: readonly Watchable[];
  /** Extra watches with custom mappers. @default [] */
  readonly watches?: readonly WatchSpec[];
  /** The reconcile function. */
  readonly reconcile: ReconcileFn;
  /** Workers running reconciles in parallel (never two for the same key). @default 1 */
  readonly concurrency?: number;
  /** Per-key failure backoff. @default { baseMs: 5, maxMs: 300_000 } */
  readonly backoff?: BackoffOptions;
}

/** Dependencies a manager hands to its controllers. */
export interface ControllerRuntimeDeps {
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
  readonly clock?: Clock;
}

/** The API group of an apiVersion (`''` for the core group). */
function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** Maps a child object to its controller owner's Request when the owner is of `kind` (group + kind match). */
export function ownerRequest(child: KubeObject, kind: GroupVersionKind): Request | undefined {
  const ref = controllerOf(child);
  if (!ref || ref.kind !== kind.kind || groupOf(ref.apiVersion) !== groupOf(kind.apiVersion)) return undefined;
  return { namespace: child.metadata?.namespace ?? '', name: ref.name };
}

/** A controller: watches feed keys into its queue; workers reconcile them. */
export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly opts: ControllerOptions<T>;
  private readonly logger: Logger;
  private readonly metrics?: RuntimeMetrics;
  private readonly clock: Clock;
  private readonly unsubscribe: Array<() => void> = [];
  private running: Promise<void> | undefined;

  constructor(opts: ControllerOptions<T>, deps: ControllerRuntimeDeps = {}) {
    if (!opts.name) throw new Error('could not create a controller: name is required');
    this.opts = opts;
    this.name = opts.name;
    this.logger = (deps.logger ?? nullLogger).child({ controller: opts.name });
    this.metrics = deps.metrics;
    this.clock = deps.clock ?? realClock;
    this.metrics?.initController(opts.name);
    this.queue = new WorkQueue({
      clock: this.clock,
      backoff: opts.backoff,
      onDepthChange: (d) => this.metrics?.queueDepth.set({ controller: opts.name }, d),
      onLatency: this.metrics ? (ms, priority) => this.metrics?.queueLatency.observe({ controller: opts.name, priority }, ms / 1000) : undefined,
    });
    this.wire();
  }

  /** Every informer this controller reads (primary, owned, watched), for the manager to start. */
  get informers(): Watchable[] {
    return [this.opts.for as unknown as Watchable, ...(this.opts.owns ?? []), ...(this.opts.watches ?? []).map((w) => w.informer)];
  }

  /** Enqueues a Request by hand (e.g. from a plugin or a test). */
  enqueue(req: Request): void {
    this.queue.add(keyOf(req));
  }

  /**
   * Runs the workers until `signal` aborts, then stops taking keys and waits for in-flight reconciles
   * (they receive `signal` too, so they can cut long waits short). Call once.
   */
  start(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`could not start controller ${this.name}: it was already started`);
    const concurrency = this.opts.concurrency ?? 1;
    this.logger.info('starting workers', { concurrency });
    const onAbort = (): void => void this.queue.shutDown({ drain: true });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    this.running = runWorkers(this.queue, concurrency, (key) => this.process(key, signal), (key, err) =>
      this.logger.error('unexpected error while processing a key', { key, error: err }),
    ).finally(() => {
      this.unsubscribe.splice(0).forEach((u) => u());
      this.logger.info('workers stopped');
    });
    return this.running;
  }

  /** Reconciles one key and applies the outcome policy. Exposed for tests; workers call it. */
  async process(key: string, signal: AbortSignal): Promise<void> {
    const req = parseKey(key);
    const reconcileId = randomBytes(4).toString('hex');
    const logger = this.logger.child({ namespace: req.namespace, name: req.name, reconcileId });
    const retries = this.queue.retries(key);
    const started = this.clock.now();
    const controller = this.name;
    try {
      const result = await this.opts.reconcile(req, { logger, signal, retries, reconcileId });
      this.queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after >= 0) {
        // 0 = at once: the key is still being processed, so the queue marks it dirty and re-queues it on done().
        if (after === 0) this.queue.add(key);
        else this.queue.addAfter(key, after);
        this.metrics?.reconcileTotal.inc({ controller, result: 'requeue_after' });
        logger.debug('reconciled; requeue requested', { requeueAfterMs: after });
      } else {
        this.metrics?.reconcileTotal.inc({ controller, result: 'success' });
        logger.debug('reconciled');
      }
    } catch (err) {
      this.metrics?.reconcileErrors.inc({ controller });
      if (isTerminalError(err)) {
        this.queue.forget(key);
        this.metrics?.reconcileTotal.inc({ controller, result: 'terminal_error' });
        logger.error('reconcile failed permanently; not retrying until the object changes', { key, error: err });
      } else {
        const delay = this.queue.addRateLimited(key);
        this.metrics?.reconcileTotal.inc({ controller, result: 'error' });
        this.metrics?.queueRetries.inc({ controller });
        logger.error('reconcile failed; retrying with backoff', { key, error: err, retries: retries + 1, retryInMs: delay });
      }
    } finally {
      this.metrics?.reconcileDuration.observe({ controller }, (this.clock.now() - started) / 1000);
    }
  }

  private wire(): void {
    const { opts } = this;
    // A periodic resync's keys go in at low priority: changes arriving meanwhile are reconciled first.
    const priorityOf = (ev: { readonly resync?: boolean }): QueuePriority => (ev.resync ? 'low' : 'normal');
    const add = (req: Request | undefined, priority: QueuePriority): void => {
      if (req && req.name) this.queue.add(keyOf(req), priority);
    };
    this.unsubscribe.push(
      opts.for.addHandler((ev) => {
        if (opts.forPredicate && !opts.forPredicate(ev)) return;
        this.queue.add(objectKey(ev.object), priorityOf(ev));
      }),
    );
    for (const child of opts.owns ?? []) {
      this.unsubscribe.push(
        child.addHandler((ev) => {
          add(ownerRequest(ev.object, opts.kind), priorityOf(ev));
          if (ev.oldObject) add(ownerRequest(ev.oldObject, opts.kind), priorityOf(ev));
        }),
      );
    }
    for (const w of opts.watches ?? []) {
      this.unsubscribe.push(
        w.informer.addHandler((ev) => {
          for (const r of w.map(ev.object)) add(r, priorityOf(ev));
          if (ev.oldObject) for (const r of w.map(ev.oldObject)) add(r, priorityOf(ev));
        }),
      );
    }
  }
}
