/**
 * The writes the Dask reconcilers make, behind one small interface (so unit tests can record them) and one
 * implementation over the runtime's JSON REST client. Reads come from informer caches, never from here.
 */
import { isAlreadyExists, isNotFound } from '../runtime/kube-errors';
import type { KubeRest } from '../runtime/rest';
import { GROUP, VERSION } from '../../lib/schema/names';
import { KUEUE_GROUP, KUEUE_VERSION } from '../../lib/schema/kueue';

export type CorePlural = 'pods' | 'services';
export type DaskPlural = 'daskclusters' | 'daskworkergroups' | 'daskautoscalers' | 'daskjobs';
/** Kueue's Workloads (kueue.x-k8s.io/v1beta2), written by the Kueue integration. */
export type KueuePlural = 'workloads';
export type Plural = CorePlural | DaskPlural | KueuePlural;

export interface ObjectRef {
  readonly plural: Plural;
  readonly namespace: string;
  readonly name: string;
}

/** What `get` returns: enough to tell who controls the object. */
export interface OwnedObject {
  readonly kind?: string;
  readonly metadata: { name?: string; uid?: string; ownerReferences?: { uid: string; controller?: boolean; kind?: string; name?: string }[] };
}

export interface DeleteOptions {
  readonly uid?: string;
  readonly gracePeriodSeconds?: number;
  /** @default 'Background' */
  readonly propagationPolicy?: 'Background' | 'Foreground';
}

/** Writes used by reconcilers (and one live read). Creates return false on AlreadyExists; deletes return false on NotFound. */
export interface DaskApi {
  /** A live read (not from a cache), for the rare case a cache cannot answer; undefined on NotFound. */
  get(ref: ObjectRef): Promise<OwnedObject | undefined>;
  create(plural: Plural, namespace: string, body: object): Promise<boolean>;
  /** JSON merge patch of the main resource. Resolves with the object as stored afterwards, when known. */
  patch(ref: ObjectRef, patch: object): Promise<object | undefined>;
  /**
   * JSON merge patch of the status subresource (Dask kinds). With `resourceVersion`, the write fails with 409
   * Conflict if the object changed since (so a stale cache cannot drop a condition another run just wrote).
   * Resolves with the object as stored afterwards (what the API server answers), when known.
   */
  patchStatus(ref: ObjectRef, status: object, resourceVersion?: string): Promise<object | undefined>;
  /**
   * Deletes; with `uid`, only that incarnation (a precondition), so a recreated namesake is never hit. Children go in the
   * background unless `propagationPolicy` says `Foreground` (the object stays, deleting, until its dependents are gone).
   */
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<boolean>;
}

export function collectionPath(plural: Plural, namespace: string): string {
  const ns = encodeURIComponent(namespace);
  if (plural === 'pods' || plural === 'services') return `/api/v1/namespaces/${ns}/${plural}`;
  if (plural === 'workloads') return `/apis/${KUEUE_GROUP}/${KUEUE_VERSION}/namespaces/${ns}/${plural}`;
  return `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${plural}`;
}

export function objectPath(ref: ObjectRef): string {
  return `${collectionPath(ref.plural, ref.namespace)}/${encodeURIComponent(ref.name)}`;
}

/** True when the API server refused a write as invalid or forbidden: retrying the same request cannot help. */
export function isRejected(e: unknown): boolean {
  const code = (e as { statusCode?: number } | undefined)?.statusCode;
  return code === 422 || code === 400 || code === 403;
}

/** Field manager recorded in managedFields for everything the operator writes. */
export const FIELD_MANAGER = 'dask-operator';

export class RestDaskApi implements DaskApi {
  constructor(private readonly rest: KubeRest) {}

  async get(ref: ObjectRef): Promise<OwnedObject | undefined> {
    try {
      return await this.rest.request<OwnedObject>('GET', objectPath(ref));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async create(plural: Plural, namespace: string, body: object): Promise<boolean> {
    try {
      await this.rest.request('POST', collectionPath(plural, namespace), { body, query: { fieldManager: FIELD_MANAGER } });
      return true;
    } catch (e) {
      if (isAlreadyExists(e)) return false;
      throw e;
    }
  }

  async patch(ref: ObjectRef, patch: object): Promise<object | undefined> {
    return await this.rest.request<object>('PATCH', objectPath(ref), { body: patch, contentType: 'application/merge-patch+json', query: { fieldManager: FIELD_MANAGER } });
  }

  async patchStatus(ref: ObjectRef, status: object, resourceVersion?: string): Promise<object | undefined> {
    const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
    return await this.rest.request<object>('PATCH', `${objectPath(ref)}/status`, { body, contentType: 'application/merge-patch+json', query: { fieldManager: FIELD_MANAGER } });
  }

  async delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy ?? 'Background' };
    if (opts.uid) body.preconditions = { uid: opts.uid };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    try {
      await this.rest.request('DELETE', objectPath(ref), { body });
      return true;
    } catch (e) {
      // 409 on a uid precondition: the name now belongs to another object; nothing of ours to delete.
      if (isNotFound(e) || (e as { statusCode?: number }).statusCode === 409) return false;
      throw e;
    }
  }
}
