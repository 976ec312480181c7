/**
 * EventRecorder: writes core/v1 Events about an object, for `kubectl describe` and `kubectl get events`.
 *
 * - Repeats of the same (object, type, reason, message) within `aggregateWindowMs` update one
 *   Event (count + lastTimestamp) instead of creating new ones; writes for a repeat that arrives
 *   while the previous write is pending are coalesced into one.
 * - Each object gets a token bucket (`burst` writes, then one per `refillMs`), so a hot loop
 *   cannot flood the API server; excess Events are dropped and counted.
 * - At most `maxPending` writes wait at once; beyond that Events are dropped and counted.
 * - `event()` never throws and never blocks the reconciler; failed writes are logged.
 *
 * The recorder state (aggregation cache, buckets) is bounded by `maxTrackedObjects` entries (LRU).
 */
import { randomBytes } from 'node:crypto';
import { realClock, type Clock } from './clock';
import { isNotFound } from './kube-errors';
import { nullLogger, type Logger } from './logger';
import type { RuntimeMetrics } from './metrics';
import type { KubeObject } from './object';
import type { KubeRest } from './rest';
import { truncateUtf8 } from './text';

/** Event severity. */
export type EventType = 'Normal' | 'Warning';

/** The core/v1 Event fields written. */
export interface CoreEvent {
  readonly apiVersion: 'v1';
  readonly kind: 'Event';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly involvedObject: {
    readonly apiVersion?: string;
    readonly kind?: string;
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstTimestamp: string;
  readonly lastTimestamp: string;
  readonly source: { readonly component: string; readonly host?: string };
  readonly reportingComponent: string;
  readonly reportingInstance: string;
}

/** Where Events go (the API server in production, an array in tests). */
export interface EventSink {
  create(event: CoreEvent): Promise<void>;
  /** Merge-patches count/lastTimestamp/message of an existing Event; throws NotFound if it expired. */
  patch(namespace: string, name: string, patch: Pick<CoreEvent, 'count' | 'lastTimestamp'>): Promise<void>;
}

/** An EventSink on the API server. RBAC: create, patch on events. */
export function kubeEventSink(rest: KubeRest): EventSink {
  const base = (ns: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}/events`;
  return {
    create: async (ev) => void (await rest.request('POST', base(ev.metadata.namespace), { body: ev })),
    patch: async (ns, name, patch) =>
      void (await rest.request('PATCH', `${base(ns)}/${encodeURIComponent(name)}`, { body: patch, contentType: 'application/merge-patch+json' })),
  };
}

/** Options for an {@link EventRecorder}. */
export interface EventRecorderOptions {
  readonly sink: EventSink;
  /** `source.component` / `reportingComponent`. @default 'dask-operator' */
  readonly component?: string;
  /** `reportingInstance` (e.g. the pod name). @default $POD_NAME or 'dask-operator' */
  readonly instance?: string;
  /** Repeats within this window update the same Event. @default 600_000 */
  readonly aggregateWindowMs?: number;
  /** Writes allowed per object in a burst. @default 25 */
  readonly burst?: number;
  /** One more write token per object every this many ms. @default 300_000 */
  readonly refillMs?: number;
  /** Writes waiting at once before Events are dropped. @default 1000 */
  readonly maxPending?: number;
  /** Objects and aggregation entries remembered (LRU). @default 4096 */
  readonly maxTrackedObjects?: number;
  /** @default realClock */
  readonly clock?: Clock;
  /** @default nullLogger */
  readonly logger?: Logger;
  readonly metrics?: RuntimeMetrics;
}

interface Aggregate {
  name: string;
  namespace: string;
  first: number;
  last: number;
  count: number;
  written: boolean;
  writing: boolean;
  dirty: boolean;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Longest Event message, in UTF-8 bytes (longer ones are cut). */
const MAX_MESSAGE = 1024;

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Records Events with aggregation and rate limiting. */
export class EventRecorder {
  private readonly o: Required<Omit<EventRecorderOptions, 'metrics'>> & EventRecorderOptions;
  private readonly aggregates = new Map<string, Aggregate>();
  private readonly buckets = new Map<string, Bucket>();
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(opts: EventRecorderOptions) {
    this.o = {
      component: 'dask-operator',
      instance: process.env.POD_NAME || 'dask-operator',
      aggregateWindowMs: 600_000,
      burst: 25,
      refillMs: 300_000,
      maxPending: 1000,
      maxTrackedObjects: 4096,
      clock: realClock,
      logger: nullLogger,
      ...opts,
    };
  }

  /** Records an Event about `obj`. Never throws; the write happens in the background. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    try {
      this.record(obj, type, reason, truncateUtf8(message, MAX_MESSAGE));
    } catch (e) {
      this.o.logger.warn('could not record an event', { reason, error: e });
    }
  }

  /** Shorthand for a Normal event. */
  normal(obj: KubeObject, reason: string, message: string): void {
    this.event(obj, 'Normal', reason, message);
  }

  /** Shorthand for a Warning event. */
  warning(obj: KubeObject, reason: string, message: string): void {
    this.event(obj, 'Warning', reason, message);
  }

  /** Resolves when every write queued so far has finished (for shutdown and tests). */
  async flush(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }

  private record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const m = obj.metadata ?? {};
    const namespace = m.namespace || 'default';
    const objectId = `${namespace}/${obj.kind ?? ''}/${m.name ?? ''}/${m.uid ?? ''}`;
    const aggKey = `${objectId}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = this.o.clock.now();

    let agg = this.aggregates.get(aggKey);
    if (agg && now - agg.last > this.o.aggregateWindowMs) agg = undefined;
    if (agg) {
      agg.count++;
      agg.last = now;
      touch(this.aggregates, aggKey, agg);
      if (agg.writing) {
        agg.dirty = true; // coalesced into a follow-up write
        return;
      }
    } else {
      agg = {
        name: `${m.name ?? 'unknown'}.${now.toString(16)}${randomBytes(2).toString('hex')}`,
        namespace,
        first: now,
        last: now,
        count: 1,
        written: false,
        writing: false,
        dirty: false,
      };
      touch(this.aggregates, aggKey, agg);
    }
    trim(this.aggregates, this.o.maxTrackedObjects);

    if (!this.takeToken(objectId, now)) {
      this.drop('rate_limited', { reason, object: objectId });
      return;
    }
    if (this.pending >= this.o.maxPending) {
      this.drop('queue_full', { reason, object: objectId });
      return;
    }
    const a = agg;
    const involvedObject = { apiVersion: obj.apiVersion, kind: obj.kind, name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion };
    const build = (): CoreEvent => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: a.name, namespace: a.namespace },
      involvedObject,
      type,
      reason,
      message,
      count: a.count,
      firstTimestamp: rfc3339(a.first),
      lastTimestamp: rfc3339(a.last),
      source: { component: this.o.component },
      reportingComponent: this.o.component,
      reportingInstance: this.o.instance,
    });
    a.writing = true;
    this.pending++;
    this.tail = this.tail.then(async () => {
      try {
        do {
          a.dirty = false;
          await this.write(a, build);
        } while (a.dirty);
      } catch (e) {
        this.drop('write_failed', { reason, object: objectId, error: e });
      } finally {
        a.writing = false;
        this.pending--;
      }
    });
  }

  private async write(a: Aggregate, build: () => CoreEvent): Promise<void> {
    if (a.written) {
      try {
        await this.o.sink.patch(a.namespace, a.name, { count: a.count, lastTimestamp: rfc3339(a.last) });
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
        // The Event expired (the API server keeps Events about an hour): start a new one.
        a.name = `${a.name.replace(/\.[0-9a-f]+$/, '')}.${this.o.clock.now().toString(16)}${randomBytes(2).toString('hex')}`;
      }
    }
    await this.o.sink.create(build());
    a.written = true;
  }

  private takeToken(objectId: string, now: number): boolean {
    let b = this.buckets.get(objectId);
    if (!b) b = { tokens: this.o.burst, at: now };
    const refill = Math.floor((now - b.at) / this.o.refillMs);
    if (refill > 0) b = { tokens: Math.min(this.o.burst, b.tokens + refill), at: b.at + refill * this.o.refillMs };
    const ok = b.tokens >= 1;
    if (ok) b = { ...b, tokens: b.tokens - 1 };
    touch(this.buckets, objectId, b);
    trim(this.buckets, this.o.maxTrackedObjects);
    return ok;
  }

  private drop(why: 'rate_limited' | 'queue_full' | 'write_failed', fields: Record<string, unknown>): void {
    this.o.metrics?.eventsDropped.inc({ reason: why });
    if (why === 'write_failed') this.o.logger.warn('could not write an event', fields);
    else this.o.logger.debug('dropped an event', { why, ...fields });
  }
}

function touch<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k);
  m.set(k, v);
}

function trim<V>(m: Map<string, V>, max: number): void {
  while (m.size > max) {
    const oldest = m.keys().next().value;
    if (oldest === undefined) break;
    m.delete(oldest);
  }
}
