/**
 * Creations and deletions a reconciler has made but the informer cache may not show yet (the ReplicaSet
 * "expectations" idea). Without them, a reconcile that runs right after a scale-up would count too few Pods and
 * create duplicates, and one after a scale-down would delete too many. Entries expire after `ttlMs` in case an event
 * is never observed; after a restart the fresh list is the truth, so nothing needs persisting.
 *
 * Keys are owner uids, not names: a group deleted and recreated under the same name (kubectl replace --force, a GitOps
 * re-sync) must not inherit its predecessor's pending creations and deletions. Expired entries of every key are swept
 * on each read, so owners that vanished without a final reconcile leave nothing behind.
 */
export class Expectations {
  private readonly creates = new Map<string, Map<string, number>>();
  private readonly deletes = new Map<string, Map<string, number>>();

  constructor(private readonly ttlMs = 120_000, private readonly now: () => number = Date.now) {}

  expectCreate(key: string, name: string): void {
    this.bucket(this.creates, key).set(name, this.now());
  }

  expectDelete(key: string, name: string): void {
    this.bucket(this.deletes, key).set(name, this.now());
  }

  /** Names created but not yet seen in the cache; entries seen (or expired) are dropped. */
  pendingCreates(key: string, seen: (name: string) => boolean): string[] {
    return this.pending(this.creates, key, (name) => !seen(name));
  }

  /** Names deleted but still shown as live in the cache; entries gone (or expired) are dropped. */
  pendingDeletes(key: string, stillLive: (name: string) => boolean): string[] {
    return this.pending(this.deletes, key, stillLive);
  }

  /** Drops one expected creation (the create request failed, so the Pod will never appear). */
  dropCreate(key: string, name: string): void {
    this.creates.get(key)?.delete(name);
  }

  /** Drops one expected deletion (the delete request failed, so the Pod may still be there). */
  dropDelete(key: string, name: string): void {
    this.deletes.get(key)?.delete(name);
  }

  forget(key: string): void {
    this.creates.delete(key);
    this.deletes.delete(key);
  }

  private bucket(m: Map<string, Map<string, number>>, key: string): Map<string, number> {
    let b = m.get(key);
    if (!b) m.set(key, (b = new Map()));
    return b;
  }

  /** Number of owners with pending entries (for tests and metrics). */
  get size(): number {
    return new Set([...this.creates.keys(), ...this.deletes.keys()]).size;
  }

  private sweep(): void {
    const now = this.now();
    for (const m of [this.creates, this.deletes]) {
      for (const [key, b] of m) {
        for (const [name, at] of b) if (now - at > this.ttlMs) b.delete(name);
        if (b.size === 0) m.delete(key);
      }
    }
  }

  private pending(m: Map<string, Map<string, number>>, key: string, stillPending: (name: string) => boolean): string[] {
    this.sweep();
    const b = m.get(key);
    if (!b) return [];
    const out: string[] = [];
    for (const [name, at] of b) {
      if (this.now() - at > this.ttlMs || !stillPending(name)) b.delete(name);
      else out.push(name);
    }
    if (b.size === 0) m.delete(key);
    return out;
  }
}
