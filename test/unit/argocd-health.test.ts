/**
 * The Argo CD health checks, replayed on their testdata (objects read from the local control plane by
 * test/integration/argocd-health.test.ts) with Argo CD's health Lua environment (hack/argocd, gopher-lua), in Argo
 * CD's own layout and test format (health_test.yaml); plus the properties of that environment the scripts rely on,
 * and the DaskArgoCdHealthChecks construct that ships them as argocd-cm entries.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { parse } from 'yaml';
import { ArgoCdSyncWaves, DaskArgoCdHealthChecks, DaskCluster, DaskOperator } from '../../lib/index';
import { checkDir, DASK_KINDS, evaluateHealth, healthScript, healthTestCases, healthTool, runHealthTests, type DaskKind } from '../support/argocd';

const testdata = (kind: DaskKind, name: string): Record<string, any> => parse(fs.readFileSync(path.join(checkDir(kind), 'testdata', `${name}.yaml`), 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any

describe('argocd/resource_customizations/kubernetes.dask.org', () => {
  test('every health_test.yaml case gives the expected status and message', () => {
    const r = runHealthTests();
    expect(r.cases.filter((c) => !c.ok)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.cases.length).toBeGreaterThanOrEqual(25);
  });

  test.each(DASK_KINDS)('%s: health.lua, health_test.yaml and testdata in Argo CD\'s layout, covering Healthy, Progressing and Degraded', (kind) => {
    expect(fs.existsSync(healthScript(kind))).toBe(true);
    const cases = healthTestCases(kind);
    for (const c of cases) expect(fs.existsSync(path.join(checkDir(kind), c.inputPath))).toBe(true);
    const statuses = new Set(cases.map((c) => c.healthStatus.status));
    for (const s of ['Healthy', 'Progressing', 'Degraded']) expect(statuses).toContain(s);
    if (kind === 'DaskJob') expect(statuses).toContain('Suspended');
    // Every testdata file is used by a case.
    const used = new Set(cases.map((c) => path.basename(c.inputPath)));
    expect(fs.readdirSync(path.join(checkDir(kind), 'testdata')).filter((f) => !used.has(f))).toEqual([]);
  });

  test.each(DASK_KINDS)('%s: the script uses only the base and table libraries (Argo CD opens no string or math library)', (kind) => {
    const code = fs.readFileSync(healthScript(kind), 'utf8').replace(/--.*$/gm, '');
    expect(code).not.toMatch(/\b(string|math|io|debug|coroutine)\.|:\s*(format|find|match|gsub|sub|lower|upper)\s*\(/);
  });

  test('the states the operator writes map to the intended health (container failures Degraded, rollouts Progressing)', () => {
    const status = (kind: DaskKind, name: string) => evaluateHealth(kind, [testdata(kind, name)])[0]?.status;
    expect(status('DaskCluster', 'scheduler-failed')).toBe('Degraded');
    expect(testdata('DaskCluster', 'scheduler-failed').status.conditions.find((c: { type: string }) => c.type === 'SchedulerReady').reason).toBe('StartError');
    expect(status('DaskCluster', 'workers-failed')).toBe('Degraded');
    expect(status('DaskCluster', 'error-phase')).toBe('Degraded');
    expect(status('DaskCluster', 'rolling-out')).toBe('Progressing');
    expect(status('DaskWorkerGroup', 'containers-failing')).toBe('Degraded');
    expect(status('DaskWorkerGroup', 'rolling-out')).toBe('Progressing');
    expect(status('DaskJob', 'failed')).toBe('Degraded');
  });

  test('any kubelet reason for a container that cannot start is Degraded, not only the ones seen today', () => {
    const obj = testdata('DaskCluster', 'scheduler-failed');
    for (const reason of ['CrashLoopBackOff', 'OOMKilled', 'ErrImagePull', 'ImagePullBackOff', 'CreateContainerConfigError', 'SomeFutureReason']) {
      const o = structuredClone(obj);
      o.status.conditions = o.status.conditions.map((c: { type: string }) => (c.type === 'SchedulerReady' ? { ...c, reason } : c.type === 'Ready' ? { ...c, reason: 'SchedulerNotReady' } : c));
      expect(evaluateHealth('DaskCluster', [o])[0]).toMatchObject({ status: 'Degraded', message: expect.stringMatching(new RegExp(`^${reason}: `)) });
    }
  });

  test('a condition written for an older generation is not trusted', () => {
    const o = testdata('DaskWorkerGroup', 'ready');
    o.metadata.generation = 7;
    expect(evaluateHealth('DaskWorkerGroup', [o])[0]).toEqual({ status: 'Progressing', message: 'Waiting for the Dask operator to observe generation 7' });
    const a = testdata('DaskAutoscaler', 'steady');
    delete a.status.observedGeneration;
    expect(evaluateHealth('DaskAutoscaler', [a])[0]?.status).toBe('Progressing');
  });
});

describe('argocd-health: the Lua environment of Argo CD\'s health checks', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'argocd-health-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (lua: string, objs: object[] = [{}]) => {
    const file = path.join(dir, 'h.lua');
    fs.writeFileSync(file, lua);
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const r = spawnSync(healthTool(), ['eval', file], { input: JSON.stringify(objs), encoding: 'utf8' });
    return JSON.parse(r.stdout) as { health: { status: string; message: string } | null; error?: string }[];
  };

  test('no string or math library; base, table and os.time are there', () => {
    expect(run('return { status = string.format("%s", "Healthy") }')[0].error).toMatch(/attempt to index a non-table object\(nil\) with key 'format'/);
    expect(run('return { status = tostring(math.max(1, 2)) }')[0].error).toMatch(/attempt to index a non-table object\(nil\) with key 'max'/);
    expect(run('local t = {} table.insert(t, "Healthy") return { status = t[1], message = tostring(os.time() > 0) }')[0].health).toEqual({ status: 'Healthy', message: 'true' });
    expect(run('return { status = "Healthy", message = tostring(os.execute) .. " " .. tostring(os.getenv) .. " " .. tostring(io) }')[0].health).toEqual({ status: 'Healthy', message: 'nil nil nil' });
  });

  test('an invalid status becomes Unknown; nil means no health; a non-table is an error', () => {
    expect(run('return { status = "Fine" }')[0].health).toEqual({ status: 'Unknown', message: 'Lua returned an invalid health status' });
    expect(run('return nil')[0]).toEqual({ health: null });
    expect(run('return "Healthy"')[0].error).toMatch(/expect table output from Lua script, not string/);
  });

  test('the object is the global obj; JSON numbers are Lua numbers, arrays are 1-based', () => {
    expect(run('return { status = "Healthy", message = tostring(obj.a[1] + obj.b) }', [{ a: [2], b: 3 }])[0].health).toEqual({ status: 'Healthy', message: '5' });
  });

  test('a script that never returns is stopped (Argo CD gives each evaluation 1 s)', () => {
    const t0 = Date.now();
    expect(run('while true do end')[0].error).toMatch(/context deadline exceeded|canceled/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('DaskArgoCdHealthChecks', () => {
  test('argocd-cm entries resource.customizations.health.kubernetes.dask.org_<Kind> holding the shipped scripts', () => {
    const data = DaskArgoCdHealthChecks.configMapData();
    expect(Object.keys(data)).toEqual(['DaskAutoscaler', 'DaskCluster', 'DaskJob', 'DaskWorkerGroup'].map((k) => `resource.customizations.health.kubernetes.dask.org_${k}`));
    for (const kind of DASK_KINDS) expect(data[`resource.customizations.health.kubernetes.dask.org_${kind}`]).toBe(fs.readFileSync(healthScript(kind), 'utf8'));
    expect(() => DaskArgoCdHealthChecks.healthScript('Pod')).toThrow(/no health check for kind 'Pod'; choose one of DaskCluster/);
  });

  test('a ConfigMap argocd-cm in namespace argocd with the label Argo CD reads settings by', () => {
    const chart = new Chart(new App(), 'settings');
    new DaskArgoCdHealthChecks(chart, 'health');
    const [cm] = chart.toJson();
    expect(cm.metadata).toEqual({ name: 'argocd-cm', namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'argocd' } });
    expect(Object.keys(cm.data)).toHaveLength(4);
  });
});

describe('ArgoCdSyncWaves', () => {
  test('CRDs and Namespaces in wave -1, the operator in 0, Dask objects in 1 with SkipDryRunOnMissingResource', () => {
    const app = new App();
    {
      new DaskOperator(new Chart(app, 'op'), 'operator');
      const team = new Chart(app, 'team', { namespace: 'data' });
      new DaskCluster(team, 'c', { workers: 1 }).adapt({ maximum: 3 });
      expect(ArgoCdSyncWaves.apply(app)).toBeGreaterThan(10);
      const docs = app.charts.flatMap((c) => c.toJson()) as { kind: string; metadata: { annotations?: Record<string, string> } }[];
      const wave = (kind: string) => [...new Set(docs.filter((d) => d.kind === kind).map((d) => d.metadata.annotations?.['argocd.argoproj.io/sync-wave']))];
      expect(wave('CustomResourceDefinition')).toEqual(['-1']);
      expect(wave('Namespace')).toEqual(['-1']);
      for (const k of ['ServiceAccount', 'ClusterRole', 'Deployment', 'Service']) expect(wave(k)).toEqual(['0']);
      for (const k of ['DaskCluster', 'DaskAutoscaler']) {
        expect(wave(k)).toEqual(['1']);
        expect(docs.find((d) => d.kind === k)?.metadata.annotations?.['argocd.argoproj.io/sync-options']).toBe('SkipDryRunOnMissingResource=true');
      }
      // Idempotent, and an explicit wave wins.
      expect(ArgoCdSyncWaves.apply(app)).toBe(0);
    }
  });
});
