/**
 * Comparing a desired object with what the API server stored, and the merge patch between them.
 *
 * The API server fills in the CRD schema's defaults (a port's `protocol: TCP`, `replicas: 1`, …), so a rendered spec
 * never equals the stored one as is: `withSchemaDefaults` applies the same defaults (from lib/schema, which generates
 * the CRDs) before comparing. `mergeDiff` is the JSON merge patch that turns the stored value into the desired one,
 * including `null` for every key the desired value no longer has (a plain merge patch of the desired value would keep
 * them: removals would never reach the object).
 */
import type { JSONSchema } from '../../lib/schema/json-schema';
import { KIND_SCHEMAS } from '../../lib/schema/dask';
import { objectSchema } from '../../lib/schema/crds';
import { jsonEqual } from './conditions';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The schema of a kind's `spec`, as it is in the CRD. */
export function specSchema(kind: string): JSONSchema {
  const k = KIND_SCHEMAS.find((s) => s.names.kind === kind);
  if (!k) throw new Error(`specSchema: ${kind} is not one of the Dask kinds`);
  return (objectSchema(k).properties as Record<string, JSONSchema>).spec!;
}

/** `value` with the schema's defaults filled in where a field is missing, as the API server does on write. */
export function withSchemaDefaults(node: JSONSchema, value: unknown): unknown {
  if (Array.isArray(value)) return node.items ? value.map((v) => withSchemaDefaults(node.items as JSONSchema, v)) : value;
  if (!isObject(value)) return value;
  const out: Json = { ...value };
  const props = (node.properties ?? {}) as Record<string, JSONSchema>;
  for (const [key, prop] of Object.entries(props)) {
    if (out[key] === undefined && prop.default !== undefined) out[key] = structuredClone(prop.default);
    if (out[key] !== undefined) out[key] = withSchemaDefaults(prop, out[key]);
  }
  if (isObject(node.additionalProperties)) {
    for (const key of Object.keys(out)) if (!(key in props)) out[key] = withSchemaDefaults(node.additionalProperties as JSONSchema, out[key]);
  }
  return out;
}

/** The JSON merge patch (RFC 7386) that turns `from` into `to`: changed keys, and null for keys `to` lacks. */
export function mergeDiff(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Json = {};
  for (const [key, v] of Object.entries(to)) {
    if (v === undefined) continue;
    if (!(key in from) || from[key] === undefined) patch[key] = v;
    else if (!jsonEqual(from[key], v)) patch[key] = mergeDiff(from[key], v);
  }
  for (const key of Object.keys(from)) if (from[key] !== undefined && (!(key in to) || to[key] === undefined)) patch[key] = null;
  return patch;
}
