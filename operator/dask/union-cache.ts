import type { InformerHandler, Watchable, WaitForSyncOptions, WatchRestartReason } from '../runtime/informer';
import type { KubeObject } from '../runtime/object';

/** Several informers (one per watched namespace) seen as one. */
export class UnionWatchable<T extends KubeObject> implements Watchable<T> {
  constructor(readonly name: string, private readonly parts: readonly Watchable<T>[]) {}

  get(namespace: string, name: string): T | undefined {
    for (const p of this.parts) {
      const o = p.get(namespace, name);
      if (o) return o;
    }
    return undefined;
  }
  list(namespace?: string): T[] {
    return this.parts.flatMap((p) => p.list(namespace));
  }
  addHandler(handler: InformerHandler<T>): () => void {
    const offs = this.parts.map((p) => p.addHandler(handler));
    return () => offs.forEach((o) => o());
  }
  start(): void {
    this.parts.forEach((p) => p.start());
  }
  async stop(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.stop()));
  }
  hasSynced(): boolean {
    return this.parts.every((p) => p.hasSynced());
  }
  async waitForSync(opts?: WaitForSyncOptions): Promise<void> {
    await Promise.all(this.parts.map((p) => p.waitForSync(opts)));
  }
  addRestartListener(listener: (reason: WatchRestartReason) => void): () => void {
    const offs = this.parts.map((p) => p.addRestartListener?.(listener) ?? (() => undefined));
    return () => offs.forEach((o) => o());
  }
}
