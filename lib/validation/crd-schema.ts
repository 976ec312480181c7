/**
 * Validates objects against the CRD schemas the way the API server would: structural types, required fields,
 * int-or-string, enums, patterns, bounds and lengths, plus the CRDs' CEL rules re-stated in TypeScript. Unknown
 * fields are reported (the API server would prune them, or reject them under kubectl's strict field validation),
 * so nothing a user writes is silently lost.
 *
 * A small walker over the structural-schema subset CRDs allow, rather than a general JSON-Schema library: the
 * constructs must run wherever cdk8s runs (Node >= 20, and through jsii in Python), with `cdk8s` and `constructs`
 * as their only dependencies.
 */
import type { JSONSchema } from '../schema/json-schema';
import { KIND_SCHEMAS, KindSchema } from '../schema/dask';
import { objectSchema } from '../schema/crds';
import { expandK8s } from '../schema/k8s-openapi';
import { clusterNameProblem, MAX_WORKER_GROUP_NAME_LENGTH } from '../schema/names';

type Json = { [key: string]: unknown };

const schemas = new Map<string, JSONSchema>();
const patterns = new Map<string, RegExp>();

function schemaFor(kind: KindSchema): JSONSchema {
  let schema = schemas.get(kind.names.kind);
  if (!schema) {
    const full = objectSchema(kind);
    // The root metadata is an ObjectMeta, which the API server validates itself (the CRD may only declare name, for
    // the CEL rules' fieldPath): checked here as an open object.
    schema = { ...full, properties: { ...full.properties, metadata: { type: 'object' } } };
    schemas.set(kind.names.kind, schema);
  }
  return schema;
}

function regex(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    patterns.set(pattern, re);
  }
  return re;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function hasType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Appends the problems of `value` at `path` (dotted, array indexes as numbers) to `out`. */
function check(node: JSONSchema, value: unknown, path: string, out: string[]): void {
  const where = path || '(root)';
  if (value === null) {
    if (!node.nullable) out.push(`${where}: must be ${node['x-kubernetes-int-or-string'] ? 'integer,string' : node.type ?? 'a value'}`);
    return;
  }
  if (node['x-kubernetes-int-or-string']) {
    if (!hasType(value, 'integer') && !hasType(value, 'string')) {
      out.push(`${where}: must be integer,string`);
      return;
    }
  } else if (node.type && !hasType(value, node.type)) {
    out.push(`${where}: must be ${node.type}`);
    return;
  }
  if (node.enum && !node.enum.includes(value as string | number)) out.push(`${where}: must be equal to one of the allowed values`);
  if (typeof value === 'string') {
    if (node.pattern !== undefined && !regex(node.pattern).test(value)) out.push(`${where}: must match pattern "${node.pattern}"`);
    if (node.minLength !== undefined && [...value].length < node.minLength) out.push(`${where}: must NOT have fewer than ${node.minLength} characters`);
    if (node.maxLength !== undefined && [...value].length > node.maxLength) out.push(`${where}: must NOT have more than ${node.maxLength} characters`);
  }
  if (typeof value === 'number') {
    if (node.minimum !== undefined && value < node.minimum) out.push(`${where}: must be >= ${node.minimum}`);
    if (node.maximum !== undefined && value > node.maximum) out.push(`${where}: must be <= ${node.maximum}`);
  }
  if (Array.isArray(value)) {
    if (node.minItems !== undefined && value.length < node.minItems) out.push(`${where}: must NOT have fewer than ${node.minItems} items`);
    if (node.maxItems !== undefined && value.length > node.maxItems) out.push(`${where}: must NOT have more than ${node.maxItems} items`);
    if (node.items) value.forEach((item, i) => check(node.items as JSONSchema, item, path ? `${path}.${i}` : String(i), out));
    return;
  }
  if (typeof value === 'object') checkObject(node, value as Json, path, out);
}

function checkObject(node: JSONSchema, value: Json, path: string, out: string[]): void {
  const where = path || '(root)';
  for (const key of node.required ?? []) {
    if (value[key] === undefined) out.push(`${where}: missing required field "${key}"`);
  }
  const open = node['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    const childPath = path ? `${path}.${key}` : key;
    const prop = node.properties?.[key];
    if (prop) {
      check(prop, child, childPath, out);
    } else if (typeof node.additionalProperties === 'object') {
      check(node.additionalProperties, child, childPath, out);
    } else if ((node.additionalProperties === false || (node.properties && node.additionalProperties === undefined)) && !open) {
      out.push(`${where}: unknown field "${key}" (the API server would drop it)`);
    }
  }
}

/** Re-statement of the CEL rules in lib/schema/dask.ts (the API server evaluates those; this catches them at synth). */
function celProblems(kind: KindSchema, obj: Json): string[] {
  const metadata = obj.metadata as { name?: unknown } | undefined;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
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
  const problems: string[] = [];
  check(schemaFor(kind), obj, '', problems);
  return [...new Set([...problems, ...celProblems(kind, obj)])];
}

const k8sSchemas = new Map<string, JSONSchema>();

/**
 * Problems the API server would report for `value` as the Kubernetes definition `definition` (one of the embedded
 * core/v1 closure, e.g. `io.k8s.api.core.v1.PodSpec`), with paths under `path`.
 */
export function k8sProblems(definition: string, value: unknown, path = ''): string[] {
  let schema = k8sSchemas.get(definition);
  if (!schema) {
    schema = expandK8s(definition);
    k8sSchemas.set(definition, schema);
  }
  const problems: string[] = [];
  check(schema, value, path, problems);
  return [...new Set(problems)];
}

/** Removes `null` values the way the API server prunes nulls of non-nullable fields before validating. */
export function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropNulls) as unknown as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)])) as T;
  }
  return value;
}
