/**
 * Argo CD integration: the health checks of the four Dask kinds as `argocd-cm` entries, and sync waves that order
 * a synthesized app (CRDs, then the operator, then the Dask objects). See docs/gitops.md.
 */
import { ApiObject } from 'cdk8s';
import { Construct, type IConstruct } from 'constructs';
import { HEALTH_LUA } from './argocd-health-lua';
import { ALL_KINDS, API_VERSION, GROUP } from './schema/names';

const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/** Props of {@link DaskArgoCdHealthChecks}. */
export interface DaskArgoCdHealthChecksProps {
  /**
   * Namespace Argo CD runs in.
   * @default 'argocd'
   */
  readonly namespace?: string;
  /**
   * Name of Argo CD's settings ConfigMap.
   * @default 'argocd-cm'
   */
  readonly configMapName?: string;
}

/**
 * The Argo CD health checks for DaskCluster, DaskWorkerGroup, DaskAutoscaler and DaskJob as a ConfigMap holding
 * exactly the `resource.customizations.health.kubernetes.dask.org_<Kind>` entries of `argocd-cm`.
 *
 * Apply it with server-side apply (or `kubectl apply`) next to an existing `argocd-cm`: only these keys are owned by
 * this object, the rest of Argo CD's settings stay as they are. If Argo CD is installed by Helm or Kustomize, merge
 * {@link DaskArgoCdHealthChecks.configMapData} into its values (`configs.cm`) or patch instead.
 *
 * The scripts are the files in `argocd/resource_customizations/kubernetes.dask.org/<Kind>/health.lua` of the repository
 * (Argo CD's own layout, with `health_test.yaml` cases), embedded in the package by hack/argocd/embed.js; they can
 * also be contributed to or vendored into Argo CD's built-ins.
 *
 * @example
 * new DaskArgoCdHealthChecks(new Chart(app, 'argocd-settings'), 'dask-health');
 */
export class DaskArgoCdHealthChecks extends Construct {
  /**
   * The `argocd-cm` data entries: key `resource.customizations.health.kubernetes.dask.org_<Kind>`, value the Lua
   * script. Argo CD reads a key as `resource.customizations.<type>.<group>_<kind>`.
   */
  public static configMapData(): { [key: string]: string } {
    const data: { [key: string]: string } = {};
    for (const kind of ALL_KINDS.map((k) => k.kind).sort()) {
      data[`resource.customizations.health.${GROUP}_${kind}`] = DaskArgoCdHealthChecks.healthScript(kind);
    }
    return data;
  }

  /** The health.lua of one kind (DaskCluster, DaskWorkerGroup, DaskAutoscaler or DaskJob). */
  public static healthScript(kind: string): string {
    if (!ALL_KINDS.some((k) => k.kind === kind)) {
      throw new Error(`DaskArgoCdHealthChecks.healthScript: no health check for kind '${kind}'; choose one of ${ALL_KINDS.map((k) => k.kind).join(', ')}`);
    }
    return HEALTH_LUA[kind];
  }

  /** The ConfigMap (`argocd-cm` in namespace `argocd` by default). */
  public readonly configMap: ApiObject;

  public constructor(scope: Construct, id: string, props: DaskArgoCdHealthChecksProps = {}) {
    super(scope, id);
    this.configMap = new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: props.configMapName ?? 'argocd-cm',
        namespace: props.namespace ?? 'argocd',
        // Argo CD only reads settings ConfigMaps with this label.
        labels: { 'app.kubernetes.io/part-of': 'argocd' },
      },
      data: DaskArgoCdHealthChecks.configMapData(),
    });
  }
}

/** Options of {@link ArgoCdSyncWaves.apply}. */
export interface ArgoCdSyncWavesOptions {
  /**
   * Wave of CustomResourceDefinitions and Namespaces.
   * @default -1
   */
  readonly crdWave?: number;
  /**
   * Wave of every other object that is not a Dask custom resource (the operator's ServiceAccount, RBAC, Deployment
   * and Services, monitors, ...).
   * @default 0
   */
  readonly operatorWave?: number;
  /**
   * Wave of the Dask custom resources (DaskCluster, DaskWorkerGroup, DaskAutoscaler, DaskJob).
   * @default 1
   */
  readonly daskWave?: number;
  /**
   * Also mark the Dask custom resources `SkipDryRunOnMissingResource=true`, so the first sync of an app that also
   * installs the CRDs does not fail its dry run before they exist.
   * @default true
   */
  readonly skipDryRunOnMissingResource?: boolean;
}

/**
 * Argo CD sync waves for a synthesized app: CRDs first, then the operator, then the Dask objects, so a first sync
 * never creates a DaskCluster before its CRD is established and the operator's Deployment is available (Argo CD
 * waits for each wave to be healthy before the next). Objects that already carry a sync-wave annotation keep it.
 */
export class ArgoCdSyncWaves {
  /** The annotation Argo CD orders a sync by (lower waves are applied, and must be healthy, first). */
  public static readonly SYNC_WAVE_ANNOTATION = SYNC_WAVE;
  /** The annotation carrying per-resource sync options. */
  public static readonly SYNC_OPTIONS_ANNOTATION = SYNC_OPTIONS;

  /**
   * Annotates every ApiObject under `scope` (call it once the app is complete, before `synth()`).
   * @returns the number of objects annotated
   */
  public static apply(scope: IConstruct, options: ArgoCdSyncWavesOptions = {}): number {
    const waves = { crd: options.crdWave ?? -1, operator: options.operatorWave ?? 0, dask: options.daskWave ?? 1 };
    const skipDryRun = options.skipDryRunOnMissingResource ?? true;
    let n = 0;
    for (const c of scope.node.findAll()) {
      if (!(c instanceof ApiObject)) continue;
      const isDask = c.apiVersion === API_VERSION;
      const wave = c.kind === 'CustomResourceDefinition' || c.kind === 'Namespace' ? waves.crd : isDask ? waves.dask : waves.operator;
      const annotations: Record<string, string> = c.metadata.toJson().annotations ?? {};
      if (annotations[SYNC_WAVE] === undefined) {
        c.metadata.addAnnotation(SYNC_WAVE, String(wave));
        n++;
      }
      if (isDask && skipDryRun && annotations[SYNC_OPTIONS] === undefined) {
        c.metadata.addAnnotation(SYNC_OPTIONS, 'SkipDryRunOnMissingResource=true');
      }
    }
    return n;
  }

  private constructor() {}
}
