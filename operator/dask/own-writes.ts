/**
 * Status writes of this process that the informer cache may not show yet: read-your-own-writes for status.
 *
 * A reconcile reads the object from the cache, writes its status (guarded by the resourceVersion it read) and gets the
 * stored object back. The next reconcile of the same object often runs before the watch has delivered that write (a
 * Pod event arrives first): it reads the old version, its guarded write is refused with 409, and the object is read
 * again from the API server — three requests where one would do. At 1,000 DaskClusters started at once that was
 * 0.74 re-reads per cluster (bench/results/vs-upstream-2026-12-02-clusters-k1000.md).
 *
 * So the object each status write returned is kept, with the resourceVersions it replaced. While the cache still
 * shows one of those, the status is computed from (and guarded by) the written object instead. Once the cache shows
 * anything else — our write, or a later one by someone else — the cache is the truth again and the entry is dropped.
 * This never hides another writer's change: a version the cache shows that this process did not replace is used as
 * is, and a write from our copy after someone else's change still gets 409 and a fresh read.
 *
 * Entries also expire after `ttlMs` (an object deleted before its watch event arrived is never looked up again).
 */

/** What this module needs of an object. */
export interface Versioned {
  readonly metadata: { readonly resourceVersion?: string; readonly uid?: string; readonly managedFields?: unknown };
}

interface Entry {
  readonly object: Versioned;
  /** resourceVersions this process's writes replaced, oldest first. */
  readonly replaced: ReadonlySet<string>;
  readonly at: number;
}

export class OwnWrites {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs = 60_000, private readonly now: () => number = Date.now) {}

  /**
   * The version to compute a status from: the object this process last wrote under `key`, while `cached` is a version
   * that write replaced; otherwise `cached`.
   */
  current<T extends Versioned>(key: string, cached: T): T {
    const entry = this.entries.get(key);
    if (!entry) return cached;
    const rv = cached.metadata.resourceVersion;
    const stale = rv !== undefined && entry.replaced.has(rv) && entry.object.metadata.uid === cached.metadata.uid && this.now() - entry.at < this.ttlMs;
    if (stale) return entry.object as T;
    this.entries.delete(key);
    return cached;
  }

  /** Remembers that this process replaced version `from` under `key` with `written` (as the API server returned it). */
  record(key: string, from: Versioned, written: Versioned): void {
    const before = from.metadata.resourceVersion;
    const after = written.metadata.resourceVersion;
    this.sweep();
    const previous = this.entries.get(key);
    // Deleted and set again, so that the map stays in the order of the writes (see sweep).
    this.entries.delete(key);
    if (before === undefined || after === undefined || before === after) return;
    // A chain of our own writes the cache has not caught up with: every version in it was replaced by us.
    const replaced = new Set(previous && previous.object.metadata.resourceVersion === before ? previous.replaced : []);
    replaced.add(before);
    // managedFields are not read by any reconciler and are the largest part of a returned object.
    const { managedFields: _dropped, ...metadata } = written.metadata;
    this.entries.set(key, { object: { ...written, metadata }, replaced, at: this.now() });
  }

  /** Number of objects held (the `dask_operator_own_status_writes` gauge). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries; the map is in insertion order, so the oldest come first. */
  private sweep(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [key, entry] of this.entries) {
      if (entry.at > cutoff) break;
      this.entries.delete(key);
    }
  }
}
