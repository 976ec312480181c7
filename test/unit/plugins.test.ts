/** loadPlugins: clear errors for a missing module and for a module without setup(); the example plugin loads. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPlugins, type PluginHook, type PluginHost } from '../../operator/plugins';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-plugins-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loadPlugins', () => {
  test('a package that is not installed: says so and how to fix it', () => {
    expect(() => loadPlugins(['dask-operator-plugin-does-not-exist'], dir)).toThrow(
      /could not load plugin "dask-operator-plugin-does-not-exist": not found from .*; install it next to the operator \(npm install dask-operator-plugin-does-not-exist\) or pass a path/,
    );
  });

  test('a path with nothing there: names the resolved path', () => {
    expect(() => loadPlugins(['./missing-plugin'], dir)).toThrow(`could not load plugin "./missing-plugin": nothing at ${path.join(dir, 'missing-plugin')}`);
  });

  test('a module without setup(): names the module and what to export', () => {
    fs.writeFileSync(path.join(dir, 'no-setup.js'), 'module.exports = { name: "x", start() {} };\n');
    expect(() => loadPlugins(['./no-setup.js'], dir)).toThrow(
      `plugin ./no-setup.js (${path.join(dir, 'no-setup.js')}) exports no setup(host) function; export one, or a default object with setup()`,
    );
  });

  test('a module that throws while loading: the plugin and the cause', () => {
    fs.writeFileSync(path.join(dir, 'broken.js'), 'throw new Error("boom at import");\n');
    expect(() => loadPlugins(['./broken.js'], dir)).toThrow(/plugin \.\/broken\.js \(.*broken\.js\) failed to load: boom at import/);
  });

  test('a default export with setup() is accepted; the name defaults to the spec', () => {
    fs.writeFileSync(path.join(dir, 'esm-like.js'), 'exports.default = { setup() {} };\n');
    const [p] = loadPlugins(['./esm-like.js'], dir);
    expect(p.name).toBe('./esm-like.js');
    expect(typeof p.plugin.setup).toBe('function');
  });

  test('the example plugin loads from the repo root by path and registers one Service hook', async () => {
    const [p] = loadPlugins(['./examples/plugins/scheduler-info'], ROOT);
    expect(p.name).toBe('scheduler-info');
    const watches: { kind: string; labels?: Record<string, string>; hook: PluginHook }[] = [];
    const host = {
      logger: { info: () => undefined },
      clusterDomain: 'example.local',
      namespaces: [],
      watch: (kind: string, hook: PluginHook, options?: { labels?: Record<string, string> }) => void watches.push({ kind, hook, labels: options?.labels }),
    } as unknown as PluginHost;
    await p.plugin.setup(host);
    expect(watches.map((w) => [w.kind, w.labels])).toEqual([['Service', { 'dask.org/component': 'scheduler' }]]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { desiredConfigMap } = require(path.join(ROOT, 'examples/plugins/scheduler-info')) as { desiredConfigMap: (svc: object, domain: string) => { metadata: object; data: object } };
    const cm = desiredConfigMap({ metadata: { name: 'c-scheduler', namespace: 'ns', uid: 'u1', labels: { 'dask.org/cluster-name': 'c' } }, spec: { ports: [{ name: 'tcp-comm', port: 9000 }] } }, 'example.local');
    expect(cm.metadata).toMatchObject({ name: 'c-scheduler-info', namespace: 'ns', ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'c-scheduler', uid: 'u1' }] });
    expect(cm.data).toEqual({ 'scheduler-address': 'tcp://c-scheduler.ns.svc.example.local:9000', 'dashboard-url': 'http://c-scheduler.ns.svc.example.local:8787' });
  });
});
