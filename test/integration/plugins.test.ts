/**
 * Operator plugins end to end (issue 4 item 5): the operator runs as a separate process with
 * --plugins=./examples/plugins/scheduler-info; when the DaskCluster's scheduler Service appears the plugin creates
 * ConfigMap `{service}-info` owned by the Service, and the garbage collector removes it with the cluster. A ConfigMap
 * of that name the plugin does not own is left alone (Warning Event), and nothing else is touched.
 */
import { eventually, itOnTier, kubectl, kubectlJson, withNamespace } from './support';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';
import { seedCluster } from './support/dask';

jest.setTimeout(180_000);

const ns = withNamespace('plugins');

interface ConfigMapLite {
  metadata: { name: string; uid: string; labels?: Record<string, string>; ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[] };
  data?: Record<string, string>;
}

function clusterManifest(name: string): string {
  return JSON.stringify(seedCluster({ name, replicas: 1 }));
}

async function configMap(name: string): Promise<ConfigMapLite | undefined> {
  const r = await kubectl(['get', 'configmap', name, '-n', ns.name, '-o', 'json', '--ignore-not-found']);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as ConfigMapLite) : undefined;
}

describe('operator plugins: examples/plugins/scheduler-info', () => {
  let op: OperatorProcess | undefined;
  let failed = false;

  beforeAll(async () => {
    await ensureOperatorBuilt();
    op = new OperatorProcess({ namespaces: [ns.name], args: ['--plugins=./examples/plugins/scheduler-info'] });
    op.start();
  });
  beforeEach(() => {
    failed = true; // cleared by the last line of each test
  });
  afterAll(async () => {
    await op?.dispose(failed);
  });

  itOnTier('full')('the operator says the plugin runs', async () => {
    await eventually(() => op!.log(), { describe: "the operator log line \"Plugin 'scheduler-info' running.\"", until: (l) => l.includes("Plugin 'scheduler-info' running."), timeoutMs: 30_000 });
    failed = false;
  });

  itOnTier('full')('a scheduler Service gets ConfigMap {service}-info, owned by it, and GC removes it with the cluster', async () => {
    // An unrelated ConfigMap that must survive everything below.
    await kubectl(['create', 'configmap', 'bystander', '-n', ns.name, '--from-literal=keep=me']);
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: clusterManifest('plug') });
    const svc = await eventually(
      () => kubectlJson<{ metadata: { uid: string } }>(['get', 'service', 'plug-scheduler', '-n', ns.name, '-o', 'json']),
      { describe: 'Service plug-scheduler', timeoutMs: 60_000 },
    );
    const cm = await eventually(() => configMap('plug-scheduler-info'), { describe: 'ConfigMap plug-scheduler-info', until: (c) => c !== undefined, timeoutMs: 60_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\noperator log:\n${op!.tail(60)}`);
    });
    expect(cm?.data).toEqual({
      'scheduler-address': `tcp://plug-scheduler.${ns.name}.svc.cluster.local:8786`,
      'dashboard-url': `http://plug-scheduler.${ns.name}.svc.cluster.local:8787`,
    });
    expect(cm?.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: 'v1', kind: 'Service', name: 'plug-scheduler', uid: svc.metadata.uid })]);
    expect(cm?.metadata.labels).toMatchObject({ 'dask.org/cluster-name': 'plug', 'app.kubernetes.io/managed-by': 'dask-operator-plugin-scheduler-info' });

    await kubectl(['delete', 'daskcluster', 'plug', '-n', ns.name, '--wait=false']);
    await eventually(() => configMap('plug-scheduler-info'), { describe: 'the garbage collector to remove ConfigMap plug-scheduler-info', until: (c) => c === undefined, timeoutMs: 90_000 });
    expect((await configMap('bystander'))?.data).toEqual({ keep: 'me' });
    failed = false;
  });

  itOnTier('full')('a ConfigMap of that name it does not own is left alone, with a Warning Event', async () => {
    await kubectl(['create', 'configmap', 'mine-scheduler-info', '-n', ns.name, '--from-literal=owner=someone-else']);
    const before = await configMap('mine-scheduler-info');
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: clusterManifest('mine') });
    const ev = await eventually(
      async () => (await kubectlJson<{ items: { type: string; reason: string; message: string }[] }>(['get', 'events', '-n', ns.name, '--field-selector', 'involvedObject.kind=Service,involvedObject.name=mine-scheduler', '-o', 'json'])).items.find((e) => e.reason === 'SchedulerInfoConflict'),
      { describe: 'a SchedulerInfoConflict Event on Service mine-scheduler', until: (e) => e !== undefined, timeoutMs: 60_000 },
    );
    expect(ev?.type).toBe('Warning');
    const after = await configMap('mine-scheduler-info');
    expect(after?.metadata.uid).toBe(before?.metadata.uid);
    expect(after?.data).toEqual({ owner: 'someone-else' });
    expect(after?.metadata.ownerReferences).toBeUndefined();
    await kubectl(['delete', 'daskcluster', 'mine', '-n', ns.name, '--wait=false']);
    failed = false;
  });
});
