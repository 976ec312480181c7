/**
 * Refreshes lib/schema/k8s/core-v1.json: the Kubernetes core/v1 OpenAPI v3 definitions that the Dask CRDs embed
 * (PodSpec, ServiceSpec and everything they reference), taken from the k8s.io/kubernetes Go module
 * (api/openapi-spec/v3/api__v1_openapi.json) through the Go module proxy.
 *
 *   npm run refresh:k8s-schema                 # uses K8S_SCHEMA_VERSION below
 *   K8S_SCHEMA_VERSION=v1.37.2 npm run refresh:k8s-schema
 *
 * Descriptions are dropped to keep the CRDs under the client-side-apply annotation cap; everything else is kept
 * verbatim. Run `npm run gen` afterwards to regenerate crds/, imports/ and the generated types.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const VERSION = process.env.K8S_SCHEMA_VERSION ?? 'v1.36.3';
const ROOTS = ['io.k8s.api.core.v1.PodSpec', 'io.k8s.api.core.v1.ServiceSpec'];
const OUT = path.join(__dirname, '..', '..', 'lib', 'schema', 'k8s', 'core-v1.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function moduleDir(version: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], {
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
  });
  const info = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download k8s.io/kubernetes@${version} failed: ${info.Error ?? out}`);
  return info.Dir;
}

function stripDescriptions(node: Json): Json {
  if (Array.isArray(node)) return node.map(stripDescriptions);
  if (node && typeof node === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(node).sort()) {
      if (key === 'description') continue;
      out[key] = stripDescriptions(node[key]);
    }
    return out;
  }
  return node;
}

function main(): void {
  const file = path.join(moduleDir(VERSION), 'api', 'openapi-spec', 'v3', 'api__v1_openapi.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { components: { schemas: Record<string, Json> } };
  const all = doc.components.schemas;
  const keep = new Set<string>();
  const visit = (name: string): void => {
    if (keep.has(name)) return;
    const def = all[name];
    if (def === undefined) throw new Error(`definition ${name} not found in ${file}`);
    keep.add(name);
    for (const m of JSON.stringify(def).matchAll(/#\/components\/schemas\/([^"]+)/g)) visit(m[1]);
  };
  ROOTS.forEach(visit);
  const definitions: Record<string, Json> = {};
  for (const name of [...keep].sort()) definitions[name] = stripDescriptions(all[name]);
  const out = { source: `k8s.io/kubernetes@${VERSION} api/openapi-spec/v3/api__v1_openapi.json`, roots: ROOTS, definitions };
  fs.writeFileSync(OUT, JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), OUT)}: ${keep.size} definitions from k8s.io/kubernetes@${VERSION}`);
}

main();
