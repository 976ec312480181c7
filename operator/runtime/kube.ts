/**
 * Merge-patch and server-side-apply helpers for client-node's typed clients (the TypeScript client and tests use
 * them). The operator process itself never loads this module: it talks JSON through KubeRest over a KubeTarget
 * (kubeconfig.ts), and classifies errors with kube-errors.ts.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Request options that make a generated `patch*` method send a JSON merge patch. */
export function mergePatchOptions(): ReturnType<typeof setHeaderOptions> {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
}

/** Request options that make a generated `patch*` method send a server-side apply patch. */
export function applyPatchOptions(): ReturnType<typeof setHeaderOptions> {
  return setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
}

/** Identifies a namespaced custom resource. */
export interface CustomObjectRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace: string;
  readonly name: string;
}

/** JSON-merge-patches a namespaced custom object (main resource). */
export async function mergePatchCustomObject(co: CustomObjectsApi, ref: CustomObjectRef, patch: object): Promise<object> {
  return (await co.patchNamespacedCustomObject({ ...ref, body: patch }, mergePatchOptions())) as object;
}

/** JSON-merge-patches the status subresource of a namespaced custom object: pass `{ status: {...} }`. */
export async function mergePatchCustomObjectStatus(co: CustomObjectsApi, ref: CustomObjectRef, patch: { status: object }): Promise<object> {
  return (await co.patchNamespacedCustomObjectStatus({ ...ref, body: patch }, mergePatchOptions())) as object;
}

/**
 * Server-side-applies `body` (a full object with apiVersion/kind/metadata.name) to a namespaced custom
 * object as `fieldManager`, forcing ownership of conflicting fields.
 */
export async function applyCustomObject(co: CustomObjectsApi, ref: CustomObjectRef, body: object, fieldManager: string): Promise<object> {
  return (await co.patchNamespacedCustomObject({ ...ref, body, fieldManager, force: true }, applyPatchOptions())) as object;
}

/** Server-side-applies the status subresource (body: apiVersion, kind, metadata.name, status). */
export async function applyCustomObjectStatus(co: CustomObjectsApi, ref: CustomObjectRef, body: object, fieldManager: string): Promise<object> {
  return (await co.patchNamespacedCustomObjectStatus({ ...ref, body, fieldManager, force: true }, applyPatchOptions())) as object;
}
