/**
 * The packages as a user gets them: `npm pack` both packages, install each tarball into a fresh project outside the
 * repository with production dependencies only and the user's own cdk8s and constructs (hack/consumer/projects.json:
 * the lowest versions our peer ranges allow on the system Node 20, the current ones next to cdk8s-plus-33 on the
 * pinned Node 24), compile and run a cdk8s app that uses every construct (test/fixtures/consumer/app.ts), and
 * `kubectl apply --dry-run=server` its output. Nothing here loads the repository's sources: the app resolves
 * `cdk8s-dask` from the temp project's node_modules.
 *
 * npm runs with --offline inside the test's network namespace: hack/test.sh fills the npm cache beforehand
 * (hack/consumer/warm-cache.js), so every package comes from the registry through the cache.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kubectl, withNamespace } from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { consumerProjects, npmCli, packageManifests, ROOT } = require('../../hack/consumer/projects.js') as {
  consumerProjects(): { name: string; node: string; nodeKind: string; packages: string[]; dependencies: Record<string, string> }[];
  npmCli(): string;
  packageManifests(): Record<string, { dir: string; dependencies?: Record<string, string> }>;
  ROOT: string;
};

jest.setTimeout(300_000);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `node args` with `node` first on PATH (so npm's child scripts use it too) and no inherited NODE_OPTIONS. */
function run(node: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      node,
      args,
      {
        cwd,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: 240_000,
        env: { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH}`, NODE_OPTIONS: '', NODE_PATH: '', ...env },
      },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

function ok(what: string, r: Run): Run {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr || r.stdout}`);
  return r;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-consumer-'));
const tarballs: Record<string, string> = {};
const projects = consumerProjects();
const timings: string[] = [];
const ns = withNamespace('consumer');

beforeAll(async () => {
  expect(path.relative(ROOT, work).startsWith('..')).toBe(true);
  const tarDir = path.join(work, 'tarballs');
  fs.mkdirSync(tarDir);
  // Pack with the pinned Node. cdk8s-dask's prepack runs jsii into lib/build/; the root package is packed from the
  // build/ hack/test.sh compiled (its prepack would rewrite build/ while other test files start the operator from it).
  for (const [name, m] of Object.entries(packageManifests())) {
    const scripts = m.dir === ROOT ? ['--ignore-scripts'] : [];
    const r = ok(`npm pack (${name})`, await run(process.execPath, [npmCli(), 'pack', '--json', ...scripts, '--pack-destination', tarDir], m.dir));
    const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as { filename: string }[];
    tarballs[name] = path.join(tarDir, info.filename);
    timings.push(`pack ${name}: ${r.ms} ms`);
  }
  // Install each project with its own Node and npm, offline from the cache, production dependencies only.
  await Promise.all(projects.map(async (p) => {
    const dir = path.join(work, p.name);
    fs.mkdirSync(dir);
    const dependencies = { ...p.dependencies, ...Object.fromEntries(p.packages.map((pkg) => [pkg, `file:${tarballs[pkg]}`])) };
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: p.name, version: '1.0.0', private: true, dependencies }, null, 2));
    const r = ok(`npm install (${p.name})`, await run(p.node, [npmCli(), 'install', '--offline', '--omit=dev', '--engine-strict', '--no-audit', '--no-fund'], dir));
    timings.push(`npm install ${p.name} (${p.nodeKind} node): ${r.ms} ms`);
  }));
});

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
  process.stderr.write(`[consumer] ${timings.join('; ')}\n`);
});

const constructProjects = projects.filter((p) => p.packages.includes('cdk8s-dask'));

describe('cdk8s-dask installed from its tarball', () => {
  test('the projects run on the Node versions they claim (system Node 20, pinned Node 24)', async () => {
    const versions = await Promise.all(constructProjects.map(async (p) => ok('node --version', await run(p.node, ['--version'], work)).stdout.trim()));
    expect(versions.map((v) => v.split('.')[0]).sort()).toEqual(['v20', 'v24']);
  });

  test.each(constructProjects.map((p) => [p.name, p] as const))('%s: only the constructs and what the user brought are installed; its peers resolve to the cdk8s and constructs the project brought', async (_name, p) => {
    const dir = path.join(work, p.name);
    const r = ok('npm ls', await run(p.node, [npmCli(), 'ls', '--all', '--omit=dev', '--json', '--offline'], dir));
    const tree = JSON.parse(r.stdout) as { dependencies: Record<string, { version: string; dependencies?: object }> };
    expect(Object.keys(tree.dependencies).sort()).toEqual(['cdk8s-dask', ...Object.keys(p.dependencies)].sort());
    // Its only edges are its peers, resolved to the user's own copies.
    const own = tree.dependencies['cdk8s-dask'].dependencies as Record<string, { version: string }>;
    expect(Object.fromEntries(Object.entries(own).map(([k, v]) => [k, v.version]))).toEqual({ cdk8s: p.dependencies.cdk8s, constructs: p.dependencies.constructs });
    for (const [dep, version] of Object.entries(p.dependencies)) expect(tree.dependencies[dep].version).toBe(version);
    expect(fs.existsSync(path.join(dir, 'node_modules', '@kubernetes'))).toBe(false);
  });

  test.each(constructProjects.map((p) => [p.name, p] as const))('%s: an app using every construct type-checks against the published typings and synthesizes', async (_name, p) => {
    const dir = path.join(work, p.name);
    for (const f of ['app.ts', 'tsconfig.json']) fs.copyFileSync(path.join(ROOT, 'test/fixtures/consumer', f), path.join(dir, f));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    ok(`tsc (${p.name})`, await run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir));
    const r = ok(`node app.js (${p.name})`, await run(p.node, ['app.js'], dir, { CONSUMER_NAMESPACE: ns.name, CDK8S_OUTDIR: 'dist' }));
    timings.push(`synth ${p.name}: ${r.ms} ms`);
    expect(fs.readdirSync(path.join(dir, 'dist')).sort()).toEqual(['0000-dask-operator.k8s.yaml', '0001-analytics.k8s.yaml']);
  });

  test('the tarball meets Construct Hub\'s conditions: keyword cdk8s, Apache-2.0, a .jsii assembly with a Python target, API.md', () => {
    const dir = path.join(work, constructProjects[0].name, 'node_modules', 'cdk8s-dask');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { keywords: string[]; license: string; version: string };
    expect(manifest.keywords).toContain('cdk8s');
    expect(manifest.license).toBe('Apache-2.0');
    const assembly = JSON.parse(fs.readFileSync(path.join(dir, '.jsii'), 'utf8')) as { schema: string; name: string; version: string; license: string; targets: { python: object }; types: Record<string, unknown> };
    expect(assembly).toMatchObject({ schema: 'jsii/0.10.0', name: 'cdk8s-dask', version: manifest.version, license: 'Apache-2.0', targets: { python: { distName: 'cdk8s-dask', module: 'cdk8s_dask' } } });
    expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining(['cdk8s-dask.DaskCluster', 'cdk8s-dask.DaskJob', 'cdk8s-dask.IDaskCluster', 'cdk8s-dask.EnvValue']));
    expect(fs.readFileSync(path.join(dir, 'API.md'), 'utf8')).toContain('### DaskCluster');
    // Sources and build leftovers stay out of the tarball.
    expect(fs.existsSync(path.join(dir, 'cluster.ts'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
  });

  test('Node 20 with the lowest cdk8s/constructs and Node 24 with the current ones give byte-identical YAML', () => {
    const outputs = constructProjects.map((p) => {
      const dist = path.join(work, p.name, 'dist');
      return fs.readdirSync(dist).sort().map((f) => `# ${f}\n${fs.readFileSync(path.join(dist, f), 'utf8')}`).join('');
    });
    expect(outputs[0].length).toBeGreaterThan(1000);
    for (const o of outputs.slice(1)) expect(o).toBe(outputs[0]);
  });

  test('the API server accepts every synthesized object (kubectl apply --dry-run=server, strict field validation)', async () => {
    const dist = path.join(work, constructProjects[0].name, 'dist');
    const r = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', dist], { allowFailure: true });
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => l && !l.includes('missing the kubectl.kubernetes.io/last-applied-configuration')) }).toEqual({ code: 0, stderr: [] });
    const kinds = r.stdout.trim().split('\n').map((l) => l.split('/')[0]);
    for (const kind of ['customresourcedefinition.apiextensions.k8s.io', 'deployment.apps', 'daskcluster.kubernetes.dask.org', 'daskworkergroup.kubernetes.dask.org', 'daskautoscaler.kubernetes.dask.org', 'daskjob.kubernetes.dask.org']) {
      expect(kinds).toContain(kind);
    }
  });
});

describe('cdk8s-dask-operator installed from its tarball (Node 24)', () => {
  const p = projects.find((x) => x.packages.includes('cdk8s-dask-operator'));

  test('the dask-operator bin starts (--help) and the TypeScript client loads', async () => {
    if (!p) throw new Error('hack/consumer/projects.json has no project installing cdk8s-dask-operator');
    const dir = path.join(work, p.name);
    const help = ok('dask-operator --help', await run(p.node, [path.join(dir, 'node_modules', '.bin', 'dask-operator'), '--help'], dir));
    expect(help.stdout).toMatch(/--scheduler-access/);
    const client = ok('require client', await run(p.node, ['-e', "const c = require('cdk8s-dask-operator/client'); console.log(typeof c.KubeCluster.create, typeof c.KubeCluster.fromName)"], dir));
    expect(client.stdout.trim()).toBe('function function');
    expect(fs.existsSync(path.join(dir, 'node_modules', 'cdk8s-dask-operator', 'crds', 'kubernetes.dask.org_daskclusters.yaml'))).toBe(true);
  });
});
