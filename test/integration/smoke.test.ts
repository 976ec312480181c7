/**
 * Smoke tests of the local control plane itself (hack/cluster, docs/control-plane.md): CRDs install and
 * serve, the garbage collector works (gc tier), and kwok moves pods through their lifecycle (full tier).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  V1CustomResourceDefinition,
  V1Pod,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './support/cluster';
import { eventually, FAKE_NODE_NAME, itOnTier, kubeConfig, kubectl, testCluster, withNamespace } from './support';

jest.setTimeout(180_000);

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const apiext = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const ns = withNamespace('smoke');

function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

/** Resolves true once GET says 404 (the object is gone), throws otherwise so eventually() keeps polling. */
async function gone(read: () => Promise<unknown>): Promise<true> {
  try {
    await read();
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
  throw new Error('still present');
}

function podSummary(p: V1Pod): object {
  return {
    name: p.metadata?.name,
    phase: p.status?.phase,
    podIP: p.status?.podIP,
    conditions: p.status?.conditions?.map((c) => `${c.type}=${c.status}`),
    containers: p.status?.containerStatuses?.map((c) => ({ name: c.name, ready: c.ready, state: c.state })),
  };
}

const CRD_DIR = path.join(REPO_ROOT, 'crds');
const crdFiles = fs.existsSync(CRD_DIR) ? fs.readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort() : [];

describe('control plane', () => {
  it('reports the version it was built as', async () => {
    const { stdout } = await kubectl(['version', '-o', 'json']);
    const v = JSON.parse(stdout) as { serverVersion?: { gitVersion?: string } };
    expect(v.serverVersion?.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
  });

  it('has CRD manifests in crds/ to install', () => {
    expect(crdFiles.length).toBeGreaterThan(0);
  });

  describe.each(crdFiles.length > 0 ? crdFiles : ['(none)'])('CRD file %s', (file) => {
    it('applies (client-side), becomes Established and serves list', async () => {
      expect(file).not.toBe('(none)');
      const full = path.join(CRD_DIR, file);
      await kubectl(['apply', '-f', full]);
      const crds = parseAllDocuments(fs.readFileSync(full, 'utf8'))
        .map((d) => d.toJS() as V1CustomResourceDefinition | null)
        .filter((d): d is V1CustomResourceDefinition => d?.kind === 'CustomResourceDefinition');
      expect(crds.length).toBeGreaterThan(0);
      for (const crd of crds) {
        const name = crd.metadata?.name ?? '';
        await eventually(() => apiext.readCustomResourceDefinition({ name }), {
          describe: `CRD ${name} to be Established`,
          until: (c) => c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ?? false,
        });
        const { group, names, scope } = crd.spec;
        for (const version of crd.spec.versions.filter((v) => v.served)) {
          const list = (await eventually(
            () =>
              scope === 'Namespaced'
                ? custom.listNamespacedCustomObject({ group, version: version.name, namespace: ns.name, plural: names.plural })
                : custom.listClusterCustomObject({ group, version: version.name, plural: names.plural }),
            { describe: `list ${names.plural}.${group}/${version.name} to be served` },
          )) as { items?: unknown[] };
          expect(list.items).toEqual([]);
        }
      }
    });
  });
});

describe('garbage collection (gc tier)', () => {
  itOnTier('gc')('deletes an object whose owner was deleted', async () => {
    const namespace = ns.name;
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'gc-owner' } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'gc-dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'gc-owner', uid: owner.metadata!.uid! }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace, name: 'gc-owner' });
    await eventually(() => gone(() => core.readNamespacedConfigMap({ namespace, name: 'gc-dependent' })), {
      timeoutMs: 60_000,
      describe: 'configmap gc-dependent to be garbage-collected after its owner was deleted',
    });
  });

  itOnTier('gc')('finalises a deleted namespace (namespace controller)', async () => {
    const name = `${ns.name}-del`;
    await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'content' } } });
    await core.deleteNamespace({ name });
    await eventually(() => gone(() => core.readNamespace({ name })), {
      timeoutMs: 90_000,
      describe: `namespace ${name} to be finalised and removed`,
    });
  });
});

describe('pods through kwok (full tier)', () => {
  itOnTier('full')('has a Ready fake node', async () => {
    const node = await core.readNode({ name: FAKE_NODE_NAME });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(testCluster().nodeName).toBe(FAKE_NODE_NAME);
  });

  itOnTier('full')('runs a Deployment to 2/2 Running, Ready pods with IPs', async () => {
    const namespace = ns.name;
    const labels = { app: 'smoke-web' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'smoke-web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'web', image: 'registry.invalid/never-pulled:1' }] },
          },
        },
      },
    });
    await eventually(() => apps.readNamespacedDeployment({ namespace, name: 'smoke-web' }), {
      timeoutMs: 90_000,
      describe: 'deployment smoke-web to have 2 ready replicas',
      until: (d) => d.status?.readyReplicas === 2 && d.status?.availableReplicas === 2,
    });
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app=smoke-web' });
    expect(pods.items).toHaveLength(2);
    for (const p of pods.items) {
      expect(podSummary(p)).toMatchObject({ phase: 'Running', conditions: expect.arrayContaining(['Ready=True']) });
      expect(p.status?.podIP).toMatch(/^10\.244\./);
      expect(p.spec?.nodeName).toBe(FAKE_NODE_NAME);
    }
  });

  const barePod = (name: string, restartPolicy: string, annotations: Record<string, string> = {}): V1Pod => ({
    metadata: { name, annotations },
    spec: { restartPolicy, containers: [{ name: 'main', image: 'registry.invalid/never-pulled:1' }] },
  });
  const waitPhase = (namespace: string, name: string, phase: string, timeoutMs = 60_000): Promise<V1Pod> =>
    eventually(() => core.readNamespacedPod({ namespace, name }), {
      timeoutMs,
      describe: `pod ${name} to reach phase ${phase}`,
      until: (p) => p.status?.phase === phase,
    });

  itOnTier('full')('runs a bare restartPolicy=Never pod to Succeeded, keeps an Always pod Running', async () => {
    const namespace = ns.name;
    await core.createNamespacedPod({ namespace, body: barePod('always', 'Always', { 'fake.cdk8s-dask.io/run-for': '1s' }) });
    await core.createNamespacedPod({ namespace, body: barePod('once', 'Never', { 'fake.cdk8s-dask.io/run-for': '1s' }) });
    const running = await waitPhase(namespace, 'once', 'Running');
    expect(running.status?.podIP).toMatch(/^10\.244\./);
    const done = await waitPhase(namespace, 'once', 'Succeeded');
    expect(done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    const always = await core.readNamespacedPod({ namespace, name: 'always' });
    expect(podSummary(always)).toMatchObject({ phase: 'Running', conditions: expect.arrayContaining(['Ready=True']) });
  });

  itOnTier('full')('fails a bare pod on request (fake.cdk8s-dask.io/outcome: Failed)', async () => {
    const namespace = ns.name;
    await core.createNamespacedPod({
      namespace,
      body: barePod('doomed', 'Never', { 'fake.cdk8s-dask.io/outcome': 'Failed', 'fake.cdk8s-dask.io/exit-code': '3' }),
    });
    const failed = await waitPhase(namespace, 'doomed', 'Failed');
    expect(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
  });

  itOnTier('full')('holds a pod Running (outcome: Running) until released, then completes', async () => {
    const namespace = ns.name;
    await core.createNamespacedPod({
      namespace,
      body: barePod('held', 'OnFailure', { 'fake.cdk8s-dask.io/outcome': 'Running', 'fake.cdk8s-dask.io/run-for': '100ms' }),
    });
    await waitPhase(namespace, 'held', 'Running');
    await kubectl(['-n', namespace, 'annotate', '--overwrite', 'pod/held', 'fake.cdk8s-dask.io/outcome=Succeeded']);
    await waitPhase(namespace, 'held', 'Succeeded');
  });

  itOnTier('full')('removes a deleted pod', async () => {
    const namespace = ns.name;
    await core.createNamespacedPod({ namespace, body: barePod('doomed-to-delete', 'Always') });
    await waitPhase(namespace, 'doomed-to-delete', 'Running');
    await core.deleteNamespacedPod({ namespace, name: 'doomed-to-delete' });
    await eventually(() => gone(() => core.readNamespacedPod({ namespace, name: 'doomed-to-delete' })), {
      describe: 'deleted pod doomed-to-delete to disappear',
    });
  });
});
