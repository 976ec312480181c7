/**
 * Bounded soak: 15 scale cycles (0 ↔ 12 workers) through one operator process; its open file descriptors must stay
 * flat (client-node once leaked a socket per request, kubernetes-client/javascript#2893), and it must end converged.
 */
import * as fs from 'node:fs';
import { eventually, kubectl, withNamespace } from './support';
import { apply, isRunning, seedCluster, withOperator, workerPods } from './support/dask';

jest.setTimeout(240_000);
const ns = withNamespace('op-soak');
const op = withOperator(ns);
const CYCLES = 15;

const openFds = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

op.it(`keeps its file descriptors flat over ${CYCLES} scale cycles`, async () => {
  await apply(ns.name, seedCluster({ name: 'soak', replicas: 0 }));
  const settle = (n: number) => eventually(() => workerPods(ns.name, 'soak-default'), { describe: `${n} Running workers`, until: (pods) => pods.length === n && pods.every(isRunning), timeoutMs: 60_000 });
  await eventually(() => kubectl(['get', 'daskworkergroup', 'soak-default', '-n', ns.name]), { timeoutMs: 30_000, describe: 'default worker group' });
  // Warm-up cycle: connections, caches and the Event recorder reach their steady state.
  await kubectl(['scale', 'daskworkergroup', 'soak-default', '-n', ns.name, '--replicas=12']);
  await settle(12);
  await kubectl(['scale', 'daskworkergroup', 'soak-default', '-n', ns.name, '--replicas=0']);
  await settle(0);
  const pid = op.process.pid as number;
  const before = openFds(pid);
  for (let i = 0; i < CYCLES; i++) {
    await kubectl(['scale', 'daskworkergroup', 'soak-default', '-n', ns.name, '--replicas=12']);
    await settle(12);
    await kubectl(['scale', 'daskworkergroup', 'soak-default', '-n', ns.name, '--replicas=0']);
    await settle(0);
  }
  const after = openFds(pid);
  process.stderr.write(`[soak] operator fds: ${before} before, ${after} after ${CYCLES} cycles (${CYCLES * 24} Pod creates/deletes)\n`);
  expect(after - before).toBeLessThanOrEqual(5);
});
