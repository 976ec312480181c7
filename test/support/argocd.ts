/**
 * The Argo CD health checks shipped in argocd/resource_customizations/kubernetes.dask.org/<Kind>/health.lua, run by
 * argocd-health (hack/argocd: Argo CD's health Lua environment on gopher-lua, built by hack/argocd/build.sh, which
 * `npm test` runs before Jest).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';

export const ROOT = path.join(__dirname, '..', '..');
export const CUSTOMIZATIONS = path.join(ROOT, 'argocd', 'resource_customizations');
export const DASK_KINDS = ['DaskCluster', 'DaskWorkerGroup', 'DaskAutoscaler', 'DaskJob'] as const;
export type DaskKind = (typeof DASK_KINDS)[number];

export interface Health {
  readonly status: string;
  readonly message: string;
}

export const checkDir = (kind: DaskKind): string => path.join(CUSTOMIZATIONS, 'kubernetes.dask.org', kind);
export const healthScript = (kind: DaskKind): string => path.join(checkDir(kind), 'health.lua');

let tool: string | undefined;
/** The argocd-health binary (built on first use when missing: the build needs the Go module proxy). */
export function healthTool(): string {
  tool ??= execFileSync('bash', [path.join(ROOT, 'hack', 'argocd', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return tool;
}

/** Evaluates a kind's health.lua on each object, as Argo CD would. */
export function evaluateHealth(kind: DaskKind, objects: readonly object[]): (Health | null)[] {
  const r = spawnSync(healthTool(), ['eval', healthScript(kind)], { input: JSON.stringify(objects), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`argocd-health eval ${kind} failed (${r.status}): ${r.stderr}`);
  const results = JSON.parse(r.stdout) as { health: Health | null; error?: string }[];
  return results.map((x, i) => {
    if (x.error) throw new Error(`health.lua of ${kind} failed on object ${i}: ${x.error}`);
    return x.health;
  });
}

export interface CaseResult {
  readonly check: string;
  readonly input: string;
  readonly expected: Health;
  readonly actual: Health | null;
  readonly error?: string;
  readonly ok: boolean;
}

/** Runs every health_test.yaml under argocd/resource_customizations (Argo CD's test layout). */
export function runHealthTests(): { readonly code: number; readonly cases: CaseResult[]; readonly stderr: string } {
  const r = spawnSync(healthTool(), ['test', CUSTOMIZATIONS], { encoding: 'utf8' });
  const cases = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as CaseResult);
  return { code: r.status ?? -1, cases, stderr: r.stderr };
}

/** The health_test.yaml cases of a kind. */
export function healthTestCases(kind: DaskKind): { inputPath: string; healthStatus: Health }[] {
  const file = path.join(checkDir(kind), 'health_test.yaml');
  if (!fs.existsSync(file)) return [];
  return (require('yaml').parse(fs.readFileSync(file, 'utf8')) as { tests: { inputPath: string; healthStatus: Health }[] }).tests;
}

/**
 * A live object made fit for testdata: server-side bookkeeping dropped (uid, resourceVersion, managedFields,
 * last-applied annotation), owner uids replaced, and the test's namespace renamed so messages stay stable.
 */
export function sanitizeForTestdata(obj: Record<string, any>, namespace: string, as = 'analytics'): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = JSON.stringify(obj).split(namespace).join(as);
  const o = JSON.parse(text);
  const m = o.metadata ?? {};
  delete m.uid;
  delete m.resourceVersion;
  delete m.managedFields;
  if (m.annotations) {
    delete m.annotations['kubectl.kubernetes.io/last-applied-configuration'];
    if (Object.keys(m.annotations).length === 0) delete m.annotations;
  }
  for (const r of m.ownerReferences ?? []) r.uid = '00000000-0000-0000-0000-000000000000';
  return o;
}

/** Writes one captured case: testdata/<name>.yaml and its entry in health_test.yaml (replacing one of the same input). */
export function writeCase(kind: DaskKind, name: string, obj: object, health: Health, comment?: string): void {
  const dir = checkDir(kind);
  fs.mkdirSync(path.join(dir, 'testdata'), { recursive: true });
  const header = comment ? `# ${comment}\n` : '';
  fs.writeFileSync(path.join(dir, 'testdata', `${name}.yaml`), header + stringify(obj, { lineWidth: 0 }));
  const inputPath = `testdata/${name}.yaml`;
  const cases = healthTestCases(kind).filter((c) => c.inputPath !== inputPath);
  cases.push({ healthStatus: { status: health.status, message: health.message }, inputPath });
  cases.sort((a, b) => a.inputPath.localeCompare(b.inputPath));
  fs.writeFileSync(path.join(dir, 'health_test.yaml'), stringify({ tests: cases }, { lineWidth: 0 }));
}
