/**
 * Validates objects against the CRD schemas with a JSON-schema validator (ajv), the way the API server would:
 * structural types, required fields, int-or-string, patterns and minimums, plus the CRDs' CEL rules re-stated in
 * TypeScript. Unknown fields are reported (the API server would prune them, or reject them under kubectl's strict
 * field validation), so nothing a user writes is silently lost.
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import type { JSONSchema } from '../schema/json-schema';
import { KIND_SCHEMAS, KindSchema } from '../schema/dask';
import { objectSchema } from '../schema/crds';
import { clusterNameProblem, MAX_WORKER_GROUP_NAME_LENGTH } from '../schema/names';

type Json = { [key: string]: unknown };

/** Rewrites a structural schema into plain JSON Schema: int-or-string as a type union, closed objects. */
function toAjv(node: JSONSchema): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'format' || key === 'description') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JSONSchema>).map(([k, v]) => [k, toAjv(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toAjv(value as JSONSchema);
    } else {
      out[key] = value;
    }
  }
  if (node['x-kubernetes-int-or-string']) out.type = ['integer', 'string'];
  const open = node['x-kubernetes-preserve-unknown-fields'] || node.additionalProperties !== undefined;
  if (node.type === 'object' && node.properties && !open) out.additionalProperties = false;
  if (node.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  delete out.nullable;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(kind: KindSchema): ValidateFunction {
  let fn = compiled.get(kind.names.kind);
  if (!fn) {
    const schema = toAjv(objectSchema(kind));
    // The root metadata is an ObjectMeta, which the API server validates itself (the CRD may only declare name).
    (schema.properties as Json).metadata = { type: 'object' };
    fn = ajv.compile(schema);
    compiled.set(kind.names.kind, fn);
  }
  return fn;
}

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}" (the API server would drop it)`;
    case 'required':
      return `${where}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
    default:
      return `${where}: ${e.message ?? e.keyword}`;
  }
}

/** Re-statement of the CEL rules in lib/schema/dask.ts (the API server evaluates those; this catches them at synth). */
function celProblems(kind: KindSchema, obj: Json): string[] {
  const name = (obj.metadata as { name?: string } | undefined)?.name;
  const spec = obj.spec as Json | undefined;
  const problems: string[] = [];
  if (name !== undefined) {
    if (kind.names.kind === 'DaskCluster' || kind.names.kind === 'DaskJob') {
      const p = clusterNameProblem(name);
      if (p) problems.push(`metadata.name: ${p}`);
    }
    if (kind.names.kind === 'DaskWorkerGroup' && name.length > MAX_WORKER_GROUP_NAME_LENGTH) {
      problems.push(`metadata.name: "${name}" is ${name.length} characters long; a DaskWorkerGroup name may have at most ${MAX_WORKER_GROUP_NAME_LENGTH}`);
    }
  }
  if (kind.names.kind === 'DaskAutoscaler' && spec && typeof spec.minimum === 'number' && typeof spec.maximum === 'number' && spec.minimum > spec.maximum) {
    problems.push(`spec: minimum (${spec.minimum}) must be less than or equal to maximum (${spec.maximum})`);
  }
  return problems;
}

/** Problems the API server would report for this object (empty when it would be accepted as written). */
export function crdProblems(obj: Json): string[] {
  const kind = KIND_SCHEMAS.find((k) => k.names.kind === obj.kind);
  if (!kind) throw new Error(`crdProblems: ${String(obj.kind)} is not one of the Dask kinds`);
  const fn = validatorFor(kind);
  const problems = fn(obj) ? [] : (fn.errors ?? []).map(describe);
  return [...new Set([...problems, ...celProblems(kind, obj)])];
}

/** Removes `null` values the way the API server prunes nulls of non-nullable fields before validating. */
export function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropNulls) as unknown as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)])) as T;
  }
  return value;
}
