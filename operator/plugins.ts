/**
 * Operator plugins: npm packages (or paths) named in --plugins, the analogue of the upstream operator's
 * `dask_operator_plugin` entry points. A plugin module exports `setup(host)` (or a default export with it) and
 * registers reconcile hooks for kinds the operator already watches; each hook runs level-triggered in its own work
 * queue, with the same retry/backoff as the core reconcilers. See docs/plugins.md.
 */
import * as path from 'node:path';
import type { Logger } from './runtime/logger';
import type { KubeObject, Request } from './runtime/object';
import type { Result } from './runtime/reconcile';
import type { KubeRest } from './runtime/rest';
import type { DaskApi } from './dask/api';
import type { EventSinkLike } from './dask/context';

export type WatchedKind = 'DaskCluster' | 'DaskWorkerGroup' | 'DaskAutoscaler' | 'DaskJob' | 'Pod' | 'Service';

/** What a plugin hook receives besides the object. */
export interface PluginContext {
  readonly logger: Logger;
  /** The operator's writes (create/patch/delete of Pods, Services and the Dask kinds). */
  readonly api: DaskApi;
  /** Raw JSON REST against the API server, for any other kind (e.g. an Istio Gateway, a ConfigMap). */
  readonly rest: KubeRest;
  readonly events: EventSinkLike;
  readonly signal: AbortSignal;
}

/**
 * A hook: called with the current object from the cache (undefined once it is gone) whenever it may have changed.
 * Throw to retry with backoff; return { requeueAfter } to run again later.
 */
export type PluginHook<T extends KubeObject = KubeObject> = (obj: T | undefined, req: Request, ctx: PluginContext) => Promise<Result | void>;

export interface WatchOptions {
  /** Only objects carrying all these labels. @default all objects of the kind the operator watches */
  readonly labels?: Record<string, string>;
}

/** What `setup()` gets. */
export interface PluginHost {
  /** The plugin's own logger. */
  readonly logger: Logger;
  /** The operator's --cluster-domain, for in-cluster DNS names (e.g. `{service}.{namespace}.svc.{clusterDomain}`). */
  readonly clusterDomain: string;
  /** The namespaces the operator watches (--namespaces); empty means all. */
  readonly namespaces: readonly string[];
  /** Registers a hook for a kind the operator watches (Pods and Services: those labelled dask.org/cluster-name). */
  watch<T extends KubeObject = KubeObject>(kind: WatchedKind, hook: PluginHook<T>, options?: WatchOptions): void;
}

export interface DaskOperatorPlugin {
  /** Shown in logs. @default the module name */
  readonly name?: string;
  setup(host: PluginHost): void | Promise<void>;
}

export interface LoadedPlugin {
  readonly name: string;
  readonly plugin: DaskOperatorPlugin;
}

/** Loads each plugin module (resolved from the working directory, then from this package). */
export function loadPlugins(specs: readonly string[], cwd = process.cwd()): LoadedPlugin[] {
  return specs.map((spec) => {
    const resolved = resolvePlugin(spec, cwd);
    let mod: { default?: unknown; setup?: unknown; name?: unknown };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(resolved) as typeof mod;
    } catch (e) {
      throw new Error(`plugin ${spec} (${resolved}) failed to load: ${(e as Error).message}`);
    }
    const candidate = (typeof mod.setup === 'function' ? mod : mod.default) as Partial<DaskOperatorPlugin> | undefined;
    if (!candidate || typeof candidate.setup !== 'function') {
      throw new Error(`plugin ${spec} (${resolved}) exports no setup(host) function; export one, or a default object with setup()`);
    }
    return { name: typeof candidate.name === 'string' ? candidate.name : spec, plugin: candidate as DaskOperatorPlugin };
  });
}

function resolvePlugin(spec: string, cwd: string): string {
  const tries = spec.startsWith('.') || path.isAbsolute(spec) ? [path.resolve(cwd, spec)] : [spec];
  for (const t of tries) {
    try {
      return require.resolve(t, { paths: [cwd, __dirname] });
    } catch {
      /* try the next */
    }
  }
  if (tries[0] !== spec) throw new Error(`could not load plugin "${spec}": nothing at ${tries[0]} (a path is resolved from ${cwd}; it must be a .js file or a directory with package.json "main" or index.js)`);
  throw new Error(`could not load plugin "${spec}": not found from ${cwd}; install it next to the operator (npm install ${spec}) or pass a path`);
}
