/**
 * Informer: a watched, cached view of one resource collection (one API path, optionally filtered
 * by label/field selector).
 *
 * Lifecycle: list (paginated), then watch from the list's resourceVersion with bookmarks and a
 * server-side `timeoutSeconds`; when the server ends a watch, watch again from the last
 * resourceVersion seen. On 410 Gone (in the HTTP answer or as a watch ERROR event) it relists
 * and emits deletes for objects that vanished. On any other error it restarts with exponential
 * backoff plus jitter (1 s doubling to 30 s by default), so a controller never sees a dead informer.
 * A watchdog aborts and restarts a watch that received nothing (no event, no bookmark) for
 * `watchdogMs`. Every `resyncPeriodMs` it relists and emits every cached object as an update, a
 * level-triggered nudge that also repairs anything a broken watch missed.
 *
 * Handlers receive objects, never keys: mapping objects to work-queue keys is the controller's job.
 * Cached objects are deep-frozen: treat them as read-only snapshots (clone before changing).
 */
import { Backoff, type BackoffOptions } from './backoff';
import { realClock, sleep, type Clock, type TimerHandle } from './clock';
import { isGone } from './kube-errors';
import { errorMessage, nullLogger, type Logger } from './logger';
import { keyOf, objectKey, type KubeObject } from './object';
import { KubeHttpError, type KubeStatus, type ListWatchClient, type Query, type WatchEvent } from './rest';

/** What happened to an object. */
export type InformerEventType = 'add' | 'update' | 'delete';

/** One change delivered to handlers. */
export interface InformerEvent<T> {
  readonly type: InformerEventType;
  /** The object now (for deletes: its last known state). */
  readonly object: T;
  /** The previous cached state, for updates. */
  readonly oldObject?: T;
  /** True when the update comes from a periodic resync rather than a change. */
  readonly resync?: boolean;
}

/** A change handler. It should be fast and must not throw (throws are logged and swallowed). */
export type InformerHandler<T> = (ev: InformerEvent<T>) => void;

/** Why an informer restarted its watch (a metrics label). */
export type WatchRestartReason = 'error' | 'gone' | 'watchdog' | 'resync';

/** Options for an {@link Informer}. */
export interface InformerOptions {
  /** The collection path, e.g. `/api/v1/pods`, `/api/v1/namespaces/ns/services`, `/apis/kubernetes.dask.org/v1/daskclusters`. */
  readonly path: string;
  /** The transport (a KubeRest in production). */
  readonly client: ListWatchClient;
  /** Only objects matching this label selector. @default all */
  readonly labelSelector?: string;
  /** Only objects matching this field selector. @default all */
  readonly fieldSelector?: string;
  /** A short name for logs and metrics. @default the path */
  readonly name?: string;
  /** Server-side watch timeout. @default 300 (s) */
  readonly watchTimeoutSeconds?: number;
  /** Restart a watch that received nothing for this long; 0 disables. @default watchTimeoutSeconds * 1000 + 60_000 */
  readonly watchdogMs?: number;
  /** Relist and re-emit everything this often; 0 disables. @default 600_000 (10 min) */
  readonly resyncPeriodMs?: number;
  /**
   * Each resync comes after resyncPeriodMs * (1 + resyncJitter * r), r in [0, 1), so informers started together do
   * not relist together. @default 0.1
   */
  readonly resyncJitter?: number;
  /** Random source in [0, 1) for the resync jitter; injectable for tests. @default Math.random */
  readonly random?: () => number;
  /** Restart backoff after errors. @default { baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 } */
  readonly backoff?: BackoffOptions;
  /** Page size for lists. @default 500 */
  readonly pageSize?: number;
  /** @default realClock */
  readonly clock?: Clock;
  /** @default nullLogger */
  readonly logger?: Logger;
  /** Called on each watch restart (for metrics). */
  readonly onRestart?: (reason: WatchRestartReason) => void;
  /**
   * Applied to every object (list items and watch events) before it is cached: what the cache keeps of an object.
   * Pass `(o) => o` to keep objects whole. @default {@link withoutManagedFields}
   */
  readonly transform?: (obj: KubeObject) => KubeObject;
}

/**
 * The object without `metadata.managedFields` (server-side apply bookkeeping, often a third of a Pod's JSON, which no
 * reconciler reads): the informers' default transform.
 */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj.metadata || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata as KubeObject['metadata'] & { managedFields?: unknown };
  return { ...obj, metadata } as T;
}

/** Options for {@link Informer.waitForSync}. */
export interface WaitForSyncOptions {
  /** Reject after this long. @default 120_000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The read side of an informer, for reconcilers. */
export interface CacheReader<T> {
  /** The cached object, or undefined. Use '' as namespace for cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined;
  /** Cached objects, all or in one namespace. */
  list(namespace?: string): T[];
}

/** Anything a controller can watch: an informer of some object type. */
export interface Watchable<T extends KubeObject = KubeObject> extends CacheReader<T> {
  readonly name: string;
  addHandler(handler: InformerHandler<T>): () => void;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(opts?: WaitForSyncOptions): Promise<void>;
  /** Observes watch restarts (for metrics). Optional for custom Watchables. */
  addRestartListener?(listener: (reason: WatchRestartReason) => void): () => void;
}

/** Thrown inside the watch loop when the server says the resourceVersion is gone. */
class GoneError extends Error {}

/** An informer with a cache. Create, `addHandler`, `start()`, `waitForSync()`; `stop()` on shutdown. */
export class Informer<T extends KubeObject = KubeObject> implements Watchable<T> {
  readonly name: string;
  private readonly opts: InformerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly watchTimeoutSeconds: number;
  private readonly watchdogMs: number;
  private readonly resyncPeriodMs: number;
  private readonly handlers: Array<InformerHandler<T>> = [];
  private readonly restartListeners: Array<(reason: WatchRestartReason) => void> = [];
  private cache = new Map<string, T>();
  private resourceVersion: string | undefined;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private stopCtl: AbortController | undefined;
  private watchCtl: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private resyncPending = false;
  private lastErrorText: string | undefined;
  /** 410s since the last healthy watch; all but the first wait out the backoff before relisting. */
  private goneStreak = 0;
  private readonly transform: (obj: T) => T;

  constructor(opts: InformerOptions) {
    this.transform = (opts.transform ?? withoutManagedFields) as unknown as (obj: T) => T;
    this.opts = opts;
    this.name = opts.name ?? opts.path;
    this.clock = opts.clock ?? realClock;
    this.logger = (opts.logger ?? nullLogger).child({ informer: this.name });
    this.backoff = new Backoff({ baseMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2, ...opts.backoff });
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300;
    this.watchdogMs = opts.watchdogMs ?? this.watchTimeoutSeconds * 1000 + 60_000;
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 600_000;
  }

  /** Registers a handler; returns a function that removes it. Handlers added late do not get a replay. */
  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.push(handler);
    return () => {
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  addRestartListener(listener: (reason: WatchRestartReason) => void): () => void {
    this.restartListeners.push(listener);
    return () => {
      const i = this.restartListeners.indexOf(listener);
      if (i >= 0) this.restartListeners.splice(i, 1);
    };
  }

  get(namespace: string, name: string): T | undefined {
    return this.cache.get(keyOf({ namespace, name }));
  }

  /** The cached object for a `namespace/name` key. */
  getByKey(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? '') === namespace);
  }

  /** Number of cached objects. */
  get size(): number {
    return this.cache.size;
  }

  /** The last resourceVersion seen (list, event or bookmark). */
  get lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  /** The last error that made the informer restart, for diagnostics. */
  get lastError(): string | undefined {
    return this.lastErrorText;
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced; rejects on timeout (naming the path and the last error) or abort. */
  waitForSync(opts: WaitForSyncOptions = {}): Promise<void> {
    if (this.synced) return Promise.resolve();
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        timer.cancel();
        opts.signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        timer.cancel();
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        reject(new Error(`stopped waiting for informer ${this.name} to sync`));
      };
      const timer = this.clock.setTimer(() => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        opts.signal?.removeEventListener('abort', onAbort);
        reject(new Error(`informer ${this.name} did not sync within ${timeoutMs} ms${this.lastErrorText ? `; last error: ${this.lastErrorText}` : ''}; check RBAC (list/watch) and that the resource exists`));
      }, timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(done);
    });
  }

  /** Starts list+watch in the background. Idempotent. */
  start(): void {
    if (this.loop) return;
    this.stopCtl = new AbortController();
    this.loop = this.run(this.stopCtl.signal).catch((e: unknown) => {
      this.logger.error('informer loop ended unexpectedly', { error: e });
    });
  }

  /** Stops watching and waits for the loop to end. The cache keeps its last contents. */
  async stop(): Promise<void> {
    this.stopCtl?.abort();
    this.resyncTimer?.cancel();
    this.resyncTimer = undefined;
    await this.loop;
    this.loop = undefined;
  }

  /** Relists now and emits every object as an update (what the periodic resync does). */
  resync(): void {
    this.resyncPending = true;
    this.watchCtl?.abort('resync');
  }

  private async run(stop: AbortSignal): Promise<void> {
    while (!stop.aborted) {
      try {
        if (this.resourceVersion === undefined || this.resyncPending) {
          const resync = this.resyncPending;
          await this.relist(resync, stop);
          this.resyncPending = false; // only once the relist succeeded; a failed resync is retried
          // A good list does not reset the backoff: only a watch that delivers something does (see watchOnce), so a
          // server that lists fine but fails every watch (410, 500) is not hit in a loop.
          this.markSynced();
        }
        if (stop.aborted) break;
        const started = this.clock.now();
        const outcome = await this.watchOnce(stop);
        if (outcome.reason === 'watchdog' || outcome.reason === 'resync') {
          this.restarted(outcome.reason);
          if (outcome.reason === 'watchdog') this.logger.warn('watch was silent; restarting it', { silentMs: this.watchdogMs, resourceVersion: this.resourceVersion });
          continue;
        }
        // A normal close. Re-watch from the last resourceVersion; back off only if the server
        // keeps ending watches at once without sending anything (avoids a hot loop).
        if (outcome.events === 0 && this.clock.now() - started < 1000 && !stop.aborted) {
          await sleep(this.clock, this.backoff.next(), stop);
        }
      } catch (e) {
        if (stop.aborted) break;
        if (e instanceof GoneError || isGone(e)) {
          this.resourceVersion = undefined;
          this.restarted('gone');
          // The first 410 after a healthy watch relists at once (the normal case: the watch fell behind). Repeated ones
          // wait out the same backoff as errors, so a server that keeps answering 410 gets a bounded number of lists.
          const delay = this.goneStreak++ > 0 ? this.backoff.next() : 0;
          this.logger.info('resourceVersion expired; relisting', { retryInMs: Math.round(delay), attempt: this.goneStreak });
          if (delay > 0) await sleep(this.clock, delay, stop);
          continue;
        }
        this.lastErrorText = errorMessage(e);
        const delay = this.backoff.next();
        this.restarted('error');
        this.logger.warn('list/watch failed; retrying', { error: e, retryInMs: Math.round(delay), attempt: this.backoff.attempts });
        await sleep(this.clock, delay, stop);
      }
    }
  }

  private restarted(reason: WatchRestartReason): void {
    for (const l of [this.opts.onRestart, ...this.restartListeners]) {
      try {
        l?.(reason);
      } catch {
        // metrics must never break the informer
      }
    }
  }

  private query(extra: Query): Query {
    return { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, ...extra };
  }

  private async relist(resync: boolean, stop: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.opts.client.list(this.opts.path, this.query({ limit: this.opts.pageSize ?? 500, continue: cont }), stop);
      const itemKind = page.kind?.endsWith('List') ? page.kind.slice(0, -4) : undefined;
      for (const raw of page.items) {
        const o = raw as T & { apiVersion?: string; kind?: string };
        // List items omit apiVersion/kind; restore them so handlers and owner matching can rely on them.
        items.push(deepFreeze(this.transform({ ...o, apiVersion: o.apiVersion ?? page.apiVersion, kind: o.kind ?? itemKind } as T)));
      }
      rv = page.metadata?.resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont && !stop.aborted);
    if (stop.aborted) return;

    const next = new Map<string, T>();
    for (const o of items) next.set(objectKey(o), o);
    const old = this.cache;
    this.cache = next;
    this.resourceVersion = rv ?? '';
    for (const [k, o] of next) {
      const prev = old.get(k);
      if (!prev) this.emit({ type: 'add', object: o });
      else if (resync || prev.metadata?.resourceVersion !== o.metadata?.resourceVersion) {
        this.emit({ type: 'update', object: o, oldObject: prev, resync: resync || undefined });
      }
    }
    for (const [k, o] of old) if (!next.has(k)) this.emit({ type: 'delete', object: o });
    this.logger.debug('listed', { objects: next.size, resourceVersion: rv, resync });
  }

  private async watchOnce(stop: AbortSignal): Promise<{ reason: 'closed' | 'watchdog' | 'resync' | 'stopped'; events: number }> {
    const ctl = new AbortController();
    this.watchCtl = ctl;
    const onStop = (): void => ctl.abort('stopped');
    stop.addEventListener('abort', onStop, { once: true });
    let lastActivity = this.clock.now();
    let events = 0;
    let watchdog: TimerHandle | undefined;
    const arm = (ms: number): void => {
      watchdog = this.clock.setTimer(() => {
        const silent = this.clock.now() - lastActivity;
        if (silent >= this.watchdogMs) ctl.abort('watchdog');
        else arm(this.watchdogMs - silent);
      }, ms);
    };
    if (this.watchdogMs > 0) arm(this.watchdogMs);
    try {
      await this.opts.client.watch(
        this.opts.path,
        this.query({ resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: this.watchTimeoutSeconds }),
        (ev) => {
          lastActivity = this.clock.now();
          if (ev.type !== 'ERROR') events++;
          this.apply(ev);
        },
        ctl.signal,
      );
    } finally {
      watchdog?.cancel();
      stop.removeEventListener('abort', onStop);
      if (this.watchCtl === ctl) this.watchCtl = undefined;
      // The watch worked (an event or a bookmark arrived), even if it ended in an error: start backing off afresh.
      if (events > 0) {
        this.backoff.reset();
        this.goneStreak = 0;
      }
    }
    const reason = ctl.signal.aborted ? (ctl.signal.reason as 'watchdog' | 'resync' | 'stopped') : 'closed';
    return { reason, events };
  }

  private apply(ev: WatchEvent): void {
    if (ev.type === 'ERROR') {
      const status = (ev.object ?? {}) as KubeStatus;
      if (status.code === 410) throw new GoneError(status.message ?? 'resourceVersion too old');
      throw new KubeHttpError(status.code ?? 500, 'WATCH', this.opts.path, JSON.stringify(status), status);
    }
    const obj = ev.object as T;
    const rv = obj?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (!obj?.metadata?.name) return;
    const key = objectKey(obj);
    const frozen = deepFreeze(this.transform(obj));
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const prev = this.cache.get(key);
        this.cache.set(key, frozen);
        if (rv) this.resourceVersion = rv;
        if (!prev) this.emit({ type: 'add', object: frozen });
        else if (prev.metadata?.resourceVersion !== rv) this.emit({ type: 'update', object: frozen, oldObject: prev });
        break;
      }
      case 'DELETED':
        this.cache.delete(key);
        if (rv) this.resourceVersion = rv;
        this.emit({ type: 'delete', object: frozen });
        break;
      default:
        this.logger.debug('ignored watch event of unknown type', { type: ev.type });
    }
  }

  private emit(ev: InformerEvent<T>): void {
    for (const h of [...this.handlers]) {
      try {
        h(ev);
      } catch (e) {
        this.logger.error('informer handler threw', { error: e, event: ev.type });
      }
    }
  }

  private markSynced(): void {
    if (!this.synced) {
      this.synced = true;
      this.syncWaiters.splice(0).forEach((w) => w());
      this.logger.info('informer synced', { objects: this.cache.size });
    }
    if (this.resyncPeriodMs > 0) {
      this.resyncTimer?.cancel();
      const jitter = this.opts.resyncJitter ?? 0.1;
      const delay = this.resyncPeriodMs * (1 + jitter * (this.opts.random ?? Math.random)());
      this.resyncTimer = this.clock.setTimer(() => {
        this.resyncTimer = undefined;
        if (this.stopCtl?.signal.aborted) return;
        this.logger.debug('periodic resync');
        this.resync();
      }, delay);
    }
  }
}

/** Freezes an object graph in place and returns it. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
