import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import type { DaskMetadata } from './options';
import type { ObjectMeta } from './schema/generated/types';
import { API_VERSION } from './schema/names';
import { crdProblems } from './validation/crd-schema';

/** Props every Dask resource construct accepts. */
export interface DaskResourceProps {
  /** metadata.name of the resource. @default - the construct id */
  readonly name?: string;
  /** Namespace. @default - the chart's namespace */
  readonly namespace?: string;
  /** Labels and annotations of the resource itself (the operator copies them onto the objects it creates). @default - none */
  readonly metadata?: DaskMetadata;
}

/**
 * Base of the four custom-resource constructs: owns one ApiObject whose spec is produced at synth time (so `add*()`
 * calls made after construction are included), and checks it against the CRD schema so `cdk8s synth` fails with the
 * construct path rather than emitting YAML the API server would reject.
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
      spec: Lazy.any({ produce: () => this._renderSpec() }),
    });
    this.node.addValidation({ validate: () => this.validateResource() });
  }

  /** @internal The `spec` of the resource, computed at synth time. */
  public abstract _renderSpec(): object;

  /** @internal Construct-specific checks, phrased for the construct's user (what is wrong and how to fix it). */
  public abstract _validateProps(): string[];

  private validateResource(): string[] {
    const own = this._validateProps();
    if (own.length > 0) return own;
    const json = this.apiObject.toJson() as Record<string, unknown>;
    return crdProblems(json).map((p) => `${json.kind} "${this.name}": ${p}`);
  }
}
