/**
 * Kubernetes helpers for reconcilers and the runtime: loading a KubeConfig, typed API clients,
 * error classification that works for both client-node's ApiException and KubeHttpError, and
 * merge-patch / server-side-apply helpers for custom resources and their status subresource.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeRest } from './rest';
export { ignoreNotFound, isAlreadyExists, isConflict, isGone, isNotFound, kubeStatusOf, statusCodeOf } from './kube-errors';
import { TokenBucket } from './rate-limit';

/** Options for {@link loadKubeConfig}. */
export interface LoadKubeConfigOptions {
  /** Path of a kubeconfig file. @default $KUBECONFIG, ~/.kube/config, then the in-cluster ServiceAccount */
  readonly kubeconfig?: string;
  /** Context to use. @default the file's current-context */
  readonly context?: string;
  /** For tests: the environment. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For tests: the in-cluster ServiceAccount token file. @default /var/run/secrets/kubernetes.io/serviceaccount/token */
  readonly tokenFile?: string;
  /** For tests: the home directory. @default os.homedir() */
  readonly home?: string;
}

export const IN_CLUSTER_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads a KubeConfig: an explicit file, else $KUBECONFIG or ~/.kube/config, else the in-cluster ServiceAccount. Never
 * falls back to client-node's default of http://localhost:8080: with nothing to load it says what is missing.
 */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  const homeConfig = path.join(opts.home ?? os.homedir(), '.kube', 'config');
  if (opts.kubeconfig) {
    kc.loadFromFile(opts.kubeconfig);
  } else if (env.KUBECONFIG || fs.existsSync(homeConfig)) {
    kc.loadFromDefault();
  } else if (env.KUBERNETES_SERVICE_HOST) {
    const tokenFile = opts.tokenFile ?? IN_CLUSTER_TOKEN_FILE;
    if (!fs.existsSync(tokenFile)) {
      throw new Error(
        `running in a Pod (KUBERNETES_SERVICE_HOST is set) but there is no ServiceAccount token at ${tokenFile}: ` +
          'set automountServiceAccountToken: true on the operator Pod or its ServiceAccount (the DaskOperator construct does), ' +
          'and check that the cluster runs the ServiceAccount admission plugin; or pass --kubeconfig',
      );
    }
    kc.loadFromCluster();
  } else {
    throw new Error(`no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ${homeConfig}, or run the operator in a Pod with a ServiceAccount`);
  }
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
