/**
 * Kubernetes helpers for reconcilers and the runtime: loading a KubeConfig, typed API clients,
 * error classification that works for both client-node's ApiException and KubeHttpError, and
 * merge-patch / server-side-apply helpers for custom resources and their status subresource.
 */
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { KubeHttpError, KubeRest, type KubeStatus } from './rest';
import { TokenBucket } from './rate-limit';

/** Options for {@link loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** Path of a kubeconfig file. @default $KUBECONFIG, ~/.kube/config, then in-cluster service account */
  readonly kubeconfig?: string;
  /** Context to use. @default the file's current-context */
  readonly context?: string;
}

/** Loads a KubeConfig from an explicit file, or the default chain (which ends with the in-cluster service account). */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  if (!kc.getCurrentCluster()) {
    throw new Error(`could not load a kubeconfig${opts.kubeconfig ? ` from ${opts.kubeconfig}` : ''}: no current cluster; pass --kubeconfig or run in a pod with a service account`);
  }
  return kc;
}

/** The API clients a reconciler typically needs. */
export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly coordination: CoordinationV1Api;
  /** Generic create/read/patch/delete of any object (discovers plurals). */
  readonly objects: KubernetesObjectApi;
  /** Plain JSON REST (used by informers, leases and events). */
  readonly rest: KubeRest;
}

/** Builds the typed clients for a KubeConfig. */
export interface ClientOptions {
  /** Client-side rate limit of `rest`: requests per second. @default unlimited */
  readonly qps?: number;
  /** Requests `rest` may send at once before the rate applies. @default max(1, ceil(qps)) */
  readonly burst?: number;
}

export function makeClients(kc: KubeConfig, opts: ClientOptions = {}): KubeClients {
  const rateLimiter = opts.qps !== undefined && Number.isFinite(opts.qps) ? new TokenBucket({ qps: opts.qps, burst: opts.burst }) : undefined;
  return {
    kubeConfig: kc,
    core: kc.makeApiClient(CoreV1Api),
    customObjects: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
    rest: new KubeRest(kc, { rateLimiter }),
  };
}

/** The HTTP status of an API error (ApiException.code or KubeHttpError.statusCode), if it is one. */
export function statusCodeOf(e: unknown): number | undefined {
  if (e instanceof KubeHttpError) return e.statusCode;
  if (e instanceof ApiException) return e.code;
  if (e && typeof e === 'object') {
    const o = e as { code?: unknown; statusCode?: unknown };
    if (typeof o.statusCode === 'number') return o.statusCode;
  }
  return undefined;
}

/** The Kubernetes Status carried by an API error (ApiException.body is a JSON string in client-node 1.x/2.x). */
export function kubeStatusOf(e: unknown): KubeStatus | undefined {
  if (e instanceof KubeHttpError) return e.status;
  if (e instanceof ApiException) {
    const body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        return JSON.parse(body) as KubeStatus;
      } catch {
        return undefined;
      }
    }
    if (body && typeof body === 'object') return body as KubeStatus;
  }
  return undefined;
}

/** True for 404 Not Found. */
export function isNotFound(e: unknown): boolean {
  return statusCodeOf(e) === 404;
}

/** True for 409 with reason Conflict (a stale resourceVersion), not AlreadyExists. */
export function isConflict(e: unknown): boolean {
  return statusCodeOf(e) === 409 && kubeStatusOf(e)?.reason !== 'AlreadyExists';
}

/** True for 409 with reason AlreadyExists (a create of a name that is taken). */
export function isAlreadyExists(e: unknown): boolean {
  return statusCodeOf(e) === 409 && kubeStatusOf(e)?.reason === 'AlreadyExists';
}

/** True for 410 Gone (a resourceVersion too old to watch from, or an expired continue token). */
export function isGone(e: unknown): boolean {
  return statusCodeOf(e) === 410;
}

/** Runs `fn`, returning undefined instead of throwing on 404. */
export async function ignoreNotFound<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

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
