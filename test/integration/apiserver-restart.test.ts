/**
 * The operator survives a kube-apiserver restart: its watches break, it reconnects (relisting if needed) and keeps
 * reconciling. Uses a cluster of its own (restarting the shared one would disturb the other test files).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventually } from './support';
import { REPO_ROOT, restartComponent, startCluster, stopCluster, type ClusterState } from './support/cluster';
import { seedCluster } from './support/dask';
import { ensureOperatorBuilt, OperatorProcess } from './support/operator';

jest.setTimeout(180_000);
let state: ClusterState | undefined;
let op: OperatorProcess | undefined;
const NS = 'default';

function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(path.join((state as ClusterState).binDir, 'kubectl'), [`--kubeconfig=${(state as ClusterState).kubeconfig}`, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout));
    if (input !== undefined) child.stdin?.end(input);
  });
}
const workers = async (): Promise<number> =>
  (JSON.parse(await kubectl(['get', 'pods', '-n', NS, '-l', 'dask.org/cluster-name=survivor,dask.org/component=worker', '-o', 'json'])) as { items: { status?: { phase?: string } }[] }).items.filter((p) => p.status?.phase === 'Running').length;

beforeAll(async () => {
  const crdDir = path.join(REPO_ROOT, 'crds');
  state = await startCluster({ tier: 'full', crdFiles: fs.readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(crdDir, f)) });
  await ensureOperatorBuilt();
  op = new OperatorProcess({ namespaces: [NS], args: [`--kubeconfig=${state.kubeconfig}`] });
  op.start();
});

afterAll(async () => {
  await op?.dispose(Boolean((expect.getState() as { numFailingTests?: number }).numFailingTests));
  if (state) await stopCluster(state);
});

test('reconciling continues after kube-apiserver restarts', async () => {
  await kubectl(['apply', '-n', NS, '-f', '-'], JSON.stringify(seedCluster({ name: 'survivor', replicas: 2 })));
  await eventually(async () => expect(await workers()).toBe(2), { timeoutMs: 60_000, describe: '2 workers before the restart' });

  state = await restartComponent(state as ClusterState, 'kube-apiserver');
  await eventually(() => kubectl(['get', '--raw', '/readyz']), { timeoutMs: 60_000, describe: 'kube-apiserver ready again' });

  await kubectl(['scale', 'daskcluster', 'survivor', '-n', NS, '--replicas=4']);
  await eventually(async () => expect(await workers()).toBe(4), { timeoutMs: 90_000, describe: '4 workers after the restart' });
  expect(op?.running).toBe(true);
  // The broken watches were noticed and retried (with backoff), not silently lost.
  expect(op?.log()).toMatch(/list\/watch failed; retrying/);
});
