/**
 * The real CRDs of the projects the constructs compose with (prometheus-operator, Istio, cert-manager, Argo CD),
 * fetched from their Go modules by hack/crds/fetch.sh (which `npm test` runs before Jest), and a structural-schema
 * validator for objects of those kinds: types, required fields, enums, patterns, closed objects (unknown fields
 * are errors, as with kubectl's strict field validation). CEL rules are left to the API server
 * (test/integration/thirdparty-dry-run.test.ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..', '..');
type Json = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

let dir: string | undefined;
/** The cache dir holding `<group>_<plural>.yaml` (fetched on first use when missing: that needs the Go module proxy). */
export function thirdPartyCrdDir(): string {
  dir ??= execFileSync('bash', [path.join(ROOT, 'hack', 'crds', 'fetch.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return dir;
}

/** Every fetched CRD file. */
export function thirdPartyCrdFiles(): string[] {
  return fs.readdirSync(thirdPartyCrdDir()).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(thirdPartyCrdDir(), f));
}

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Json } }[] };
}

const crds = new Map<string, Crd>();
function crdFor(apiVersion: string, kind: string): Crd | undefined {
  if (crds.size === 0) {
    for (const f of thirdPartyCrdFiles()) {
      const crd = parse(fs.readFileSync(f, 'utf8')) as Crd;
      crds.set(`${crd.spec.group}/${crd.spec.names.kind}`, crd);
    }
  }
  return crds.get(`${apiVersion.split('/')[0]}/${kind}`);
}

/** Does a fetched CRD define this apiVersion/kind? */
export function hasThirdPartySchema(apiVersion: string, kind: string): boolean {
  const crd = crdFor(apiVersion, kind);
  return crd !== undefined && crd.spec.versions.some((v) => `${crd.spec.group}/${v.name}` === apiVersion && v.served);
}

/** A Kubernetes structural schema as plain JSON Schema: int-or-string as a union, closed objects, no formats. */
function toAjv(node: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'format' || key === 'description' || key === 'example' || key === 'nullable') continue;
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, toAjv(v as Json)]));
    else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object') || key === 'not') out[key] = toAjv(value as Json);
    else if (key === 'allOf' || key === 'anyOf' || key === 'oneOf') out[key] = (value as Json[]).map(toAjv);
    else out[key] = value;
  }
  if (node['x-kubernetes-int-or-string']) out.type = ['integer', 'string'];
  const open = node['x-kubernetes-preserve-unknown-fields'] || node.additionalProperties !== undefined;
  if (node.type === 'object' && node.properties && !open) out.additionalProperties = false;
  if (node.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validators = new Map<string, ValidateFunction>();

function describe(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum') return `${where}: ${e.message} (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** Problems of `obj` against the real CRD of its kind (empty when valid); throws when no fetched CRD defines it. */
export function thirdPartySchemaProblems(obj: Json): string[] {
  const crd = crdFor(obj.apiVersion, obj.kind);
  const version = crd?.spec.versions.find((v) => `${crd.spec.group}/${v.name}` === obj.apiVersion);
  if (!crd || !version?.schema) throw new Error(`no fetched CRD defines ${obj.apiVersion} ${obj.kind} (see hack/crds/fetch.sh)`);
  const key = `${obj.apiVersion}/${obj.kind}`;
  let fn = validators.get(key);
  if (!fn) {
    const schema = toAjv(version.schema.openAPIV3Schema);
    // The API server always accepts apiVersion, kind and metadata (validated as ObjectMeta, not by the CRD schema).
    schema.properties = { ...(schema.properties ?? {}), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
    fn = ajv.compile(schema);
    validators.set(key, fn);
  }
  return fn(obj) ? [] : (fn.errors ?? []).map(describe);
}
