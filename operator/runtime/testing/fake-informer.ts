/**
 * FakeInformer: an in-memory Watchable for reconciler and controller unit tests. Put objects in
 * with `upsert`/`remove` (handlers fire as they would for watch events); it is synced on `start()`.
 */
import type { InformerEvent, InformerHandler, Watchable, WaitForSyncOptions } from '../informer';
import { deepFreeze } from '../informer';
import { keyOf, objectKey, type KubeObject } from '../object';

/** An in-memory informer. */
export class FakeInformer<T extends KubeObject = KubeObject> implements Watchable<T> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: Array<InformerHandler<T>> = [];
  private synced = false;
  started = false;

  constructor(readonly name = 'fake') {}

  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.push(handler);
    return () => void this.handlers.splice(this.handlers.indexOf(handler), 1);
  }

  start(): void {
    this.started = true;
    this.synced = true;
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async waitForSync(_opts?: WaitForSyncOptions): Promise<void> {
    if (!this.synced) throw new Error(`fake informer ${this.name} was not started`);
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(keyOf({ namespace, name }));
  }

  list(namespace?: string): T[] {
    return [...this.objects.values()].filter((o) => namespace === undefined || (o.metadata?.namespace ?? '') === namespace);
  }

  /** Adds or replaces an object and notifies handlers. */
  upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.objects.get(key);
    const frozen = deepFreeze(structuredClone(obj));
    this.objects.set(key, frozen);
    this.emit(old ? { type: 'update', object: frozen, oldObject: old } : { type: 'add', object: frozen });
  }

  /** Deletes an object and notifies handlers. */
  remove(namespace: string, name: string): void {
    const key = keyOf({ namespace, name });
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    this.emit({ type: 'delete', object: old });
  }

  /** Emits every cached object as an update with `resync: true`, as the real informer's periodic resync does. */
  resync(): void {
    for (const o of [...this.objects.values()]) this.emit({ type: 'update', object: o, oldObject: o, resync: true });
  }

  private emit(ev: InformerEvent<T>): void {
    for (const h of [...this.handlers]) h(ev);
  }
}
