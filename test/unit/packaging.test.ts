/**
 * What each published package needs at run time, read from the sources: every module reachable from a package's
 * entry points through value imports (type-only imports vanish at compile time) must be a file the package ships
 * or a dependency it declares. The consumer test (test/integration/consumer.test.ts) proves the same on a real
 * install; this one names the offending import in a second.
 */
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../support/yaml';

interface Manifest {
  name: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bundleDependencies?: string[];
  files?: string[];
}

const manifest = (rel: string): Manifest => JSON.parse(fs.readFileSync(path.join(ROOT, rel), 'utf8')) as Manifest;

/** Value imports of a TypeScript file: `import x from`, `export ... from`, `require()`, `import()`; not `import type`. */
function valueImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gm;
  for (const m of text.matchAll(statement)) {
    if (m[2]) continue; // import type / export type
    const clause = m[3].trim();
    // `import { type A, type B } from` is type-only too.
    const named = /^\{([^}]*)\}$/.exec(clause);
    if (named && named[1].split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '))) continue;
    specs.push(m[4]);
  }
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) specs.push(m[1]);
  for (const m of text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g)) specs.push(m[1]);
  return specs;
}

function resolveRelative(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${path.relative(ROOT, from)}: cannot resolve ${spec}`);
}

/** Every source file and every bare module reachable from the entry points. */
function closure(entries: string[]): { files: Set<string>; modules: Map<string, string> } {
  const files = new Set<string>();
  const modules = new Map<string, string>();
  const todo = entries.map((e) => path.join(ROOT, e));
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.ts')) continue;
    for (const spec of valueImports(file)) {
      if (spec.startsWith('.')) todo.push(resolveRelative(file, spec));
      else if (!modules.has(spec)) modules.set(spec, path.relative(ROOT, file));
    }
  }
  return { files, modules };
}

const packageName = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
const isBuiltin = (spec: string): boolean => spec.startsWith('node:') || builtinModules.includes(spec);

function undeclared(modules: Map<string, string>, m: Manifest): string[] {
  const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
  return [...modules].filter(([spec]) => !isBuiltin(spec) && !declared.has(packageName(spec))).map(([spec, from]) => `${spec} (imported by ${from})`);
}

describe('cdk8s-dask (lib/package.json): the constructs', () => {
  const m = manifest('lib/package.json');
  const { files, modules } = closure(['lib/index.ts']);

  test('imports only cdk8s, constructs and Node built-ins, all declared', () => {
    expect(undeclared(modules, m)).toEqual([]);
    expect([...modules.keys()].filter((s) => !isBuiltin(s)).map(packageName).sort()).toEqual(['cdk8s', 'constructs']);
  });

  test('cdk8s and constructs are peer dependencies (the app brings its own), and nothing else is a dependency', () => {
    expect(Object.keys(m.peerDependencies ?? {}).sort()).toEqual(['cdk8s', 'constructs']);
    expect(m.dependencies ?? {}).toEqual({});
  });

  test('every source it loads lives under lib/ (the package directory)', () => {
    const outside = [...files].filter((f) => !f.startsWith(path.join(ROOT, 'lib') + path.sep)).map((f) => path.relative(ROOT, f));
    expect(outside).toEqual([]);
  });

  test('runs on Node >= 20', () => {
    expect(m.engines).toEqual({ node: '>= 20' });
  });
});

describe('cdk8s-dask-operator (package.json): the operator, its bin and the TypeScript client', () => {
  const m = manifest('package.json');
  const { files, modules } = closure(['operator/main.ts', 'client/index.ts']);

  test('every runtime import is a declared (non-dev) dependency', () => {
    expect(undeclared(modules, m)).toEqual([]);
  });

  test('every source it loads is shipped (package.json files)', () => {
    // `build/<dir>` ships a compiled directory, `build/<file>.*` one compiled module.
    const shipped = (m.files ?? []).filter((f) => f.startsWith('build/')).map((f) => f.slice('build/'.length));
    const isShipped = (rel: string): boolean =>
      shipped.some((entry) => (entry.endsWith('.*') ? rel.replace(/\.(ts|json)$/, '.*') === entry : rel === entry || rel.startsWith(`${entry}/`)));
    const missing = [...files].map((f) => path.relative(ROOT, f)).filter((rel) => !isShipped(rel));
    expect(missing).toEqual([]);
  });
});

describe('cdk8s-dask-operator/client exports the client and the shared vocabulary, no internals', () => {
  test('client/index.ts', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const client = require('../../client/index') as Record<string, unknown>;
    expect(Object.keys(client).sort()).toEqual([
      'Cpu', 'DaskIdleAction', 'EnvValue', 'KubeCluster', 'KubeClusterError', 'KubeJob', 'KubeJobError', 'RestartPolicy', 'SchedulerServiceType', 'SchedulerUpdateStrategy',
    ]);
  });
});

describe('the repository imports lib/ by file, never as a directory', () => {
  // `import ... from '../lib'` resolves through lib/package.json to lib/build/ (the packed output, possibly stale),
  // not to lib/index.ts.
  test('no source file imports a bare lib directory', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!['node_modules', 'build', 'dist', '.venv', '.git'].includes(entry.name)) walk(rel);
        } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
          for (const spec of valueImports(path.join(ROOT, rel))) {
            if (spec.startsWith('.') && path.resolve(ROOT, dir, spec) === path.join(ROOT, 'lib')) offenders.push(`${rel}: ${spec}`);
          }
        }
      }
    };
    for (const dir of ['lib', 'operator', 'client', 'test', 'examples', 'scripts', 'bench']) walk(dir);
    for (const spec of valueImports(path.join(ROOT, 'main.ts'))) if (path.resolve(ROOT, spec) === path.join(ROOT, 'lib')) offenders.push(`main.ts: ${spec}`);
    expect([...new Set(offenders)]).toEqual([]);
  });
});
