import type { JSONSchema } from './json-schema';
import { KIND_SCHEMAS, KindSchema } from './dask';
import { expandK8s } from './k8s-openapi';
import { GROUP, VERSION } from './names';

/** A CustomResourceDefinition as plain JSON (apiextensions.k8s.io/v1). */
export interface CustomResourceDefinitionManifest {
  readonly apiVersion: 'apiextensions.k8s.io/v1';
  readonly kind: 'CustomResourceDefinition';
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec: Record<string, unknown>;
}

/** Replaces every project-only `$k8s` node by the expanded Kubernetes schema, keeping its description. */
export function expandSchema(node: JSONSchema): JSONSchema {
  if (node.$k8s) {
    const expanded = expandK8s(node.$k8s);
    for (const [key, value] of Object.entries(node.$defaults ?? {})) {
      const prop = expanded.properties?.[key];
      if (!prop) throw new Error(`$defaults: ${node.$k8s} has no property ${key}`);
      prop.default = value;
    }
    return { ...(node.description ? { description: node.description } : {}), ...expanded };
  }
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(node) as [keyof JSONSchema, unknown][]) {
    if (value === undefined || key === '$type') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JSONSchema>).map(([k, v]) => [k, expandSchema(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      (out as Record<string, unknown>)[key] = expandSchema(value as JSONSchema);
    } else {
      (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

/** The whole-object schema of one kind, as it goes into the CRD. */
export function objectSchema(kind: KindSchema): JSONSchema {
  const spec = expandSchema(kind.spec);
  return {
    type: 'object',
    description: kind.description,
    ...(kind.specRequired ? { required: ['spec'] } : {}),
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      // name is declared (and only name: the API server allows no other metadata schema) so that the name rules below
      // can say fieldPath '.metadata.name', which the API server checks against this schema.
      ...(kind.rules ? { metadata: { type: 'object', properties: { name: { type: 'string' } } } } : { metadata: { type: 'object' } }),
      spec,
      status: expandSchema(kind.status),
    },
    ...(kind.rules ? { 'x-kubernetes-validations': [...kind.rules] } : {}),
  };
}

export const crdName = (kind: KindSchema): string => `${kind.names.plural}.${GROUP}`;

/** The CRD of one kind: served and stored v1, status subresource, scale where it applies, printer columns. */
export function customResourceDefinition(kind: KindSchema): CustomResourceDefinitionManifest {
  const { names } = kind;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(kind) },
    spec: {
      group: GROUP,
      names: {
        kind: names.kind,
        plural: names.plural,
        singular: names.singular,
        ...(names.shortNames.length > 0 ? { shortNames: [...names.shortNames] } : {}),
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: objectSchema(kind) },
          subresources: { status: {}, ...(kind.scale ? { scale: { ...kind.scale } } : {}) },
          additionalPrinterColumns: kind.columns.map((c) => ({ ...c })),
        },
      ],
    },
  };
}

/** All four CRDs, in a stable order. */
export function customResourceDefinitions(): CustomResourceDefinitionManifest[] {
  return KIND_SCHEMAS.map(customResourceDefinition);
}
