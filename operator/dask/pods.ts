import type { Pod } from '../../lib/schema/generated/types';

export const isTerminating = (p: Pod): boolean => Boolean(p.metadata.deletionTimestamp);
/** Finished for good (a bare Pod never leaves these phases). */
export const isFinished = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
export const isRunning = (p: Pod): boolean => p.status?.phase === 'Running';
export const isReady = (p: Pod): boolean =>
  isRunning(p) && !isTerminating(p) && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Whether `p` is controlled by the object with this uid. */
export const isControlledBy = (p: { metadata: { ownerReferences?: { uid: string; controller?: boolean }[] } }, uid: string | undefined): boolean =>
  uid !== undefined && (p.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);

/**
 * The Dask worker name of a worker Pod: the literal DASK_WORKER_NAME the user set on the first container that
 * has one, otherwise the Pod name (which the operator injects and `--name $(DASK_WORKER_NAME)` uses).
 */
export function daskWorkerName(p: Pod): string {
  for (const c of p.spec.containers) {
    const env = (c.env ?? []).find((e) => e.name === 'DASK_WORKER_NAME');
    if (env?.value !== undefined && env.value !== p.metadata.name) return env.value;
  }
  return p.metadata.name as string;
}

/** Newest first (creationTimestamp, then name for a stable order). */
export function newestFirst(a: Pod, b: Pod): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? 1 : -1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? 1 : -1;
}
