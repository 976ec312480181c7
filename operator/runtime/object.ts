/**
 * The minimal shape of a Kubernetes object the runtime relies on, and the
 * `namespace/name` keys the work queue carries.
 *
 * Objects delivered by informers are plain JSON as the API server sent them
 * (timestamps are strings, not Dates), whatever type parameter you give them.
 */

/** An ownerReference (only the fields the runtime reads). */
export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

/** Object metadata (only the fields the runtime reads). */
export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly OwnerReference[];
  readonly deletionTimestamp?: string | Date;
}

/** Any Kubernetes object. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

/** The work item of a controller: which object to reconcile. It carries no event or object content on purpose. */
export interface Request {
  /** Empty string for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name;
}

/** The key of an object (`namespace/name`). Throws if the object has no name. */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`could not compute the key of a ${obj.kind ?? 'object'} without metadata.name`);
  return keyOf({ namespace: obj.metadata?.namespace ?? '', name });
}

/** Splits a key back into a Request. */
export function parseKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The ownerReference with `controller: true`, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** apiVersion plus kind: identifies a resource type in ownerReferences. */
export interface GroupVersionKind {
  /** e.g. `kubernetes.dask.org/v1` or `v1`. */
  readonly apiVersion: string;
  readonly kind: string;
}
