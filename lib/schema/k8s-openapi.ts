import type { JSONSchema } from './json-schema';
// Kubernetes core/v1 OpenAPI v3 definitions (PodSpec, ServiceSpec and their closure), refreshed by
// `npm run refresh:k8s-schema` from the k8s.io/kubernetes Go module. Descriptions are stripped.
import * as coreV1 from './k8s/core-v1.json';

type Raw = { [key: string]: unknown };

/** Where the embedded Kubernetes schemas come from, e.g. "k8s.io/kubernetes@v1.36.3 api/openapi-spec/v3/...". */
export const K8S_SCHEMA_SOURCE: string = coreV1.source;

const definitions = coreV1.definitions as unknown as Record<string, Raw>;
const REF_PREFIX = '#/components/schemas/';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
/** The Quantity grammar (resource.k8s.io's serialization format); integers are also accepted. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** Names of all embedded definitions, sorted (used by the type generator). */
export function k8sDefinitionNames(): string[] {
  return Object.keys(definitions).sort();
}

/** The raw (OpenAPI v3, descriptions stripped) definition, for the type generator. */
export function k8sDefinition(name: string): Raw {
  const def = definitions[name];
  if (!def) throw new Error(`unknown Kubernetes definition ${name}; run npm run refresh:k8s-schema with it added to ROOTS`);
  return def;
}

export function refName(ref: unknown): string | undefined {
  return typeof ref === 'string' && ref.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

/** The `$ref` a property points at, whether written directly or wrapped in `allOf: [{$ref}]`. */
export function targetRef(node: Raw): string | undefined {
  const direct = refName(node.$ref);
  if (direct) return direct;
  const allOf = node.allOf as Raw[] | undefined;
  if (allOf && allOf.length === 1) return refName(allOf[0].$ref);
  return undefined;
}

/** Fields that are schema-valid but useless (or rejected) in a pod template; kept open to save CRD bytes. */
const OPAQUE_POD_FIELDS = new Set(['ephemeralContainers']);

/**
 * Expands a Kubernetes definition into a self-contained structural schema a CRD accepts:
 * $refs inlined, IntOrString and Quantity as x-kubernetes-int-or-string, strategic-merge and union extensions
 * dropped, and defaults kept only where a list-map key needs one (container and service port `protocol: TCP`).
 */
export function expandK8s(name: string): JSONSchema {
  if (name === INT_OR_STRING) return { 'x-kubernetes-int-or-string': true };
  if (name === QUANTITY) return { 'x-kubernetes-int-or-string': true, pattern: QUANTITY_PATTERN };
  return convert(k8sDefinition(name), name);
}

function convert(node: Raw, where: string): JSONSchema {
  const ref = targetRef(node);
  if (ref) return expandK8s(ref);
  const out: JSONSchema = {};
  if (typeof node.type === 'string') out.type = node.type as JSONSchema['type'];
  if (typeof node.format === 'string' && node.format !== 'int-or-string') out.format = node.format;
  if (node.format === 'int-or-string') return { 'x-kubernetes-int-or-string': true };
  if (Array.isArray(node.enum)) out.enum = node.enum as string[];
  if (node.properties) {
    const props = node.properties as Record<string, Raw>;
    out.properties = {};
    for (const key of Object.keys(props).sort()) {
      out.properties[key] =
        where === 'io.k8s.api.core.v1.PodSpec' && OPAQUE_POD_FIELDS.has(key)
          ? { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }
          : convert(props[key], `${where}.${key}`);
    }
  }
  if (Array.isArray(node.required) && node.required.length > 0) out.required = [...(node.required as string[])];
  if (node.additionalProperties !== undefined) {
    out.additionalProperties =
      typeof node.additionalProperties === 'boolean' ? node.additionalProperties : convert(node.additionalProperties as Raw, `${where}[*]`);
  }
  if (node.items) out.items = convert(node.items as Raw, `${where}[]`);
  for (const ext of ['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type'] as const) {
    if (node[ext] !== undefined) (out as Record<string, unknown>)[ext] = node[ext];
  }
  // A list-map key that is not required must have a default, or the API server rejects the CRD.
  const keys = node['x-kubernetes-list-map-keys'] as string[] | undefined;
  if (keys && out.items?.properties) {
    for (const key of keys) {
      const prop = out.items.properties[key];
      const rawItem = itemDefinition(node);
      const rawDefault = (rawItem?.properties as Record<string, Raw> | undefined)?.[key]?.default;
      if (prop && !(out.items.required ?? []).includes(key) && rawDefault !== undefined) prop.default = rawDefault;
    }
  }
  return out;
}

function itemDefinition(node: Raw): Raw | undefined {
  const items = node.items as Raw | undefined;
  if (!items) return undefined;
  const ref = targetRef(items);
  return ref ? definitions[ref] : items;
}
