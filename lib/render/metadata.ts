import type { ObjectMeta, OwnerReference, SimpleObjectMeta } from '../schema/generated/types';
import { LABEL_ISTIO_INJECT, NON_PROPAGATED_ANNOTATION_PREFIXES } from '../schema/names';

/** What render functions need of a parent object. */
export interface Parent {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
}

/** Annotations a child inherits: everything except kopf.zalando.org/* and kubectl.kubernetes.io/*. */
export function inheritedAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!NON_PROPAGATED_ANNOTATION_PREFIXES.some((p) => k.startsWith(p))) out[k] = v;
  }
  return out;
}

/** Later maps win: parent < template metadata < operator labels. */
export function merge(...maps: (Record<string, string> | undefined)[]): Record<string, string> {
  return Object.assign({}, ...maps.filter(Boolean));
}

/** Adds the entries of `extra` whose keys are not present yet (non-overriding). */
export function addMissing(base: Record<string, string>, extra: Record<string, string> | undefined): Record<string, string> {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra ?? {})) if (!(k in out)) out[k] = v;
  return out;
}

/** A controller ownerReference to `owner`: children are garbage-collected with it. */
export function controllerReference(owner: Parent): OwnerReference {
  if (!owner.metadata.uid || !owner.metadata.name) {
    throw new Error(`cannot reference ${owner.kind} ${owner.metadata.name ?? '(unnamed)'} as an owner: it has no uid yet (read it from the API server first)`);
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** Metadata of a child: labels/annotations inherited from the parent and a template, operator labels last. */
export function childMetadata(
  parent: Parent,
  name: string,
  template: SimpleObjectMeta | undefined,
  operatorLabels: Record<string, string>,
): ObjectMeta {
  const meta: ObjectMeta = {
    name,
    namespace: parent.metadata.namespace,
    labels: merge(parent.metadata.labels, template?.labels, operatorLabels),
    ownerReferences: [controllerReference(parent)],
  };
  const annotations = merge(inheritedAnnotations(parent.metadata.annotations), template?.annotations);
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  return meta;
}

/**
 * `sidecar.istio.io/inject: "false"` unless the labels already say otherwise: Dask's own comms do not go through an
 * Istio sidecar (upstream sets the label), but a user who set it (on the object or its template) decides.
 */
export function withDefaultIstioInject(labels: Record<string, string>): Record<string, string> {
  return LABEL_ISTIO_INJECT in labels ? labels : { ...labels, [LABEL_ISTIO_INJECT]: 'false' };
}

/**
 * `automountServiceAccountToken: false` unless the Pod spec sets it: the scheduler and workers do not call the
 * Kubernetes API, so they get no token to leak (a spec that sets true, or false, is left as it is).
 */
export function withoutServiceAccountToken<T extends { automountServiceAccountToken?: boolean }>(spec: T): T {
  return spec.automountServiceAccountToken === undefined ? { ...spec, automountServiceAccountToken: false } : spec;
}
