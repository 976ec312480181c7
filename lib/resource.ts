import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import type { ObjectMeta } from './schema/generated/types';
import { API_VERSION } from './schema/names';
import { crdProblems } from './validation/crd-schema';

/** Labels and annotations for a Dask custom resource. */
export interface DaskMetadataProps {
  /** Labels on the custom resource (copied by the operator onto the objects it creates). @default - none */
  readonly labels?: Record<string, string>;
  /** Annotations on the custom resource (copied by the operator, except kopf.zalando.org/* and kubectl.kubernetes.io/*). @default - none */
  readonly annotations?: Record<string, string>;
}

/** Props every Dask resource construct accepts. */
export interface DaskResourceProps {
  /** metadata.name of the resource. @default - the construct id */
  readonly name?: string;
  /** Namespace. @default - the chart's namespace */
  readonly namespace?: string;
  /** Labels and annotations of the resource itself. @default - none */
  readonly metadata?: DaskMetadataProps;
}

/**
 * Base of the four L2 constructs: owns one ApiObject whose body is produced lazily at synth time by `renderBody()`,
 * and checks it against the CRD schema so `cdk8s synth` fails (with the construct path) rather than emitting YAML
 * the API server would reject.
 */
export abstract class DaskResource extends Construct {
  /** metadata.name of the resource. */
  public readonly name: string;
  /** Namespace of the resource, if any (the chart's namespace otherwise applies). */
  public readonly namespace?: string;
  /** The underlying ApiObject (escape hatch: `apiObject.addJsonPatch(...)`). */
  public readonly apiObject: ApiObject;

  protected constructor(scope: Construct, id: string, kind: string, props: DaskResourceProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const metadata: ObjectMeta = { name: this.name };
    if (props.namespace) metadata.namespace = props.namespace;
    if (props.metadata?.labels) metadata.labels = { ...props.metadata.labels };
    if (props.metadata?.annotations) metadata.annotations = { ...props.metadata.annotations };
    this.apiObject = new ApiObject(this, 'Resource', {
      apiVersion: API_VERSION,
      kind,
      metadata,
      spec: Lazy.any({ produce: () => this.renderSpec() }),
    });
    this.node.addValidation({ validate: () => this.validateResource() });
  }

  /** The `spec` of the resource, computed at synth time (so `add*()` calls made after construction are included). */
  protected abstract renderSpec(): Record<string, unknown>;

  /** Construct-specific checks, phrased for the construct's user (what is wrong and how to fix it). */
  protected abstract validateProps(): string[];

  private validateResource(): string[] {
    const own = this.validateProps();
    if (own.length > 0) return own;
    const json = this.apiObject.toJson() as Record<string, unknown>;
    return crdProblems(json).map((p) => `${json.kind} "${this.name}": ${p}`);
  }
}

/** Problems with a resources map: only `requests` and `limits` are meaningful. */
export function resourcesProblems(what: string, resources: object | undefined): string[] {
  if (!resources) return [];
  const bad = Object.keys(resources).filter((k) => k !== 'requests' && k !== 'limits');
  return bad.map((k) => `${what}: resources has key "${k}"; only "requests" and "limits" are allowed (e.g. { requests: { memory: '16Gi' }, limits: { memory: '16Gi' } })`);
}

export function replicasProblems(what: string, n: number | undefined): string[] {
  if (n === undefined) return [];
  return Number.isInteger(n) && n >= 0 ? [] : [`${what}: worker count must be a whole number >= 0, got ${n}`];
}
