/**
 * The subset of OpenAPI v3 / JSON Schema that CustomResourceDefinitions accept (structural schemas),
 * plus one project-only key, `$k8s`, naming an embedded Kubernetes definition (e.g. PodSpec). `$k8s` nodes are
 * expanded when CRDs are written (lib/schema/k8s-openapi.ts) and become named types in the generated TypeScript.
 */
export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  properties?: Record<string, JSONSchema>;
  additionalProperties?: JSONSchema | boolean;
  items?: JSONSchema;
  required?: string[];
  enum?: (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  nullable?: boolean;
  anyOf?: JSONSchema[];
  oneOf?: JSONSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; reason?: string; fieldPath?: string }[];
  /** Project-only: expand the named Kubernetes definition here (removed from the CRD output). */
  $k8s?: string;
  /** Project-only: name of the generated TypeScript type for this node (removed from the CRD output). */
  $type?: string;
  /** Project-only: defaults for top-level properties of the expanded `$k8s` definition. */
  $defaults?: Record<string, unknown>;
}
