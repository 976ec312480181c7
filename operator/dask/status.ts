/**
 * The one way the Dask reconcilers write status, for every kind.
 *
 * - The status is computed purely from the object as last seen (`compute(obj)`: conditions are merged into the
 *   object's own, so nothing another run wrote is dropped).
 * - It is written only when it changes something.
 * - The write is guarded by the object's resourceVersion: if the object changed since it was read (the cache was
 *   behind, or another writer got there first), the API server answers 409 and nothing is overwritten.
 * - On 409 the object is read fresh from the API server (not the cache, which may still be behind) and the status
 *   is computed again from it, a bounded number of times.
 * - While the cache still shows a version this process's own last write replaced, the status is computed from the
 *   object that write returned (OwnWrites), so a cache that lags behind our own writes costs no 409 and re-read.
 */
import { isConflict } from '../runtime/kube-errors';
import type { ObjectRef } from './api';
import type { DaskContext } from './context';
import type { Versioned } from './own-writes';
import { ConditionInput, jsonEqual, setConditions } from './conditions';
import type { Condition } from '../../lib/schema/generated/types';

/** What a status-bearing object looks like to this module. */
export interface WithStatus extends Versioned {
  readonly metadata: Versioned['metadata'] & { readonly generation?: number };
  readonly status?: object;
}

/** The key of an object's own-writes entry. */
const ownWritesKey = (ref: ObjectRef): string => `${ref.plural}/${ref.namespace}/${ref.name}`;

/** Tries after the first conflict before giving up (the reconcile then fails and is retried with backoff). */
const CONFLICT_RETRIES = 3;

/**
 * Writes `compute(obj)` as (a merge patch of) `obj`'s status if it changes anything; returns the object as now stored
 * (or as it was, when nothing needed writing). Throws what the API server says except a conflict, which is retried
 * from a fresh read; an object deleted (or replaced by a namesake with another uid) meanwhile is not an error
 * (returns undefined).
 */
export async function updateStatus<T extends WithStatus>(ctx: Pick<DaskContext, 'api' | 'ownWrites'>, ref: ObjectRef, obj: T, compute: (current: T) => object): Promise<T | undefined> {
  const key = ownWritesKey(ref);
  let current = ctx.ownWrites.current(key, obj);
  for (let attempt = 0; ; attempt++) {
    const next = compute(current) as Record<string, unknown>;
    const before = (current.status ?? {}) as Record<string, unknown>;
    if (jsonEqual({ ...before, ...next }, before)) return current;
    try {
      const written = (await ctx.api.patchStatus(ref, next, current.metadata.resourceVersion)) as T | undefined;
      if (written) ctx.ownWrites.record(key, current, written);
      return written ?? ({ ...current, status: { ...before, ...next } } as T);
    } catch (e) {
      if (!isConflict(e) || attempt >= CONFLICT_RETRIES) throw e;
      const fresh = (await ctx.api.get(ref)) as unknown as T | undefined;
      // Deleted meanwhile, or deleted and created again under the same name: a status computed for this object is
      // not the new one's.
      if (!fresh || (obj.metadata.uid !== undefined && fresh.metadata.uid !== obj.metadata.uid)) return undefined;
      current = fresh;
    }
  }
}

/** `compute` for the common case: fixed fields plus conditions merged into the object's current ones. */
export function fieldsAndConditions(fields: object, inputs: readonly ConditionInput[], generation: number | undefined, now: Date) {
  return (current: { status?: { conditions?: Condition[] } }): object =>
    inputs.length === 0 ? { ...fields } : { ...fields, conditions: setConditions(current.status?.conditions, inputs, generation, now) };
}
