/** One fresh namespace per test file, created before its tests and deleted after them. */
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { kubeConfig } from './kube';

export interface TestNamespace {
  /** The namespace name; valid inside tests and beforeEach/afterEach (throws before beforeAll ran). */
  readonly name: string;
}

/**
 * Registers beforeAll/afterAll hooks in the calling test file: creates `<prefix>-<random>` and deletes it
 * afterwards (the delete is not awaited to completion: on the api tier nothing finalises namespaces).
 */
export function withNamespace(prefix = 'it'): TestNamespace {
  let name: string | undefined;
  const api = (): CoreV1Api => kubeConfig().makeApiClient(CoreV1Api);
  beforeAll(async () => {
    const candidate = `${prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
    await api().createNamespace({
      body: { metadata: { name: candidate, labels: { 'cdk8s-dask.io/test-namespace': 'true' } } },
    });
    name = candidate;
  });
  afterAll(async () => {
    if (name) await api().deleteNamespace({ name });
  });
  return {
    get name(): string {
      if (!name) throw new Error('withNamespace(): the namespace exists only inside tests (after beforeAll)');
      return name;
    },
  };
}
