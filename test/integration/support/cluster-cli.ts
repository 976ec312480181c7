/**
 * `npm run cluster:up [-- --tier api|gc|full]` and `npm run cluster:down` (via hack/cluster/cli.js).
 * `up` records where its state lives in `<cache>/cluster/running.json`; `down` stops exactly those
 * processes by pid and removes the temp dir.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterState, isOurProcess, isTier, readState, startCluster, stopCluster, Tier } from './cluster';

function pointerFile(): string {
  const cache = process.env.CDK8S_DASK_CACHE ?? path.join(os.homedir(), '.cache', 'cdk8s-dask');
  return path.join(cache, 'cluster', 'running.json');
}

function readPointer(): ClusterState | undefined {
  const f = pointerFile();
  if (!fs.existsSync(f)) return undefined;
  const { state } = JSON.parse(fs.readFileSync(f, 'utf8')) as { state: string };
  if (!fs.existsSync(state)) return undefined;
  return readState(state);
}

const USAGE = 'usage: cluster up [--tier api|gc|full] | cluster down [--state <dir>/state.json]';

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const flag = (name: string): string | undefined => {
    const i = rest.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (i < 0) return undefined;
    const a = rest[i];
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[i + 1];
  };
  if (command === 'up') {
    const tierArg = flag('--tier') ?? 'full';
    if (!isTier(tierArg)) {
      process.stderr.write(`unknown tier "${tierArg}"; ${USAGE}\n`);
      return 2;
    }
    const tier: Tier = tierArg;
    const running = readPointer();
    if (running && running.processes.some((p) => isOurProcess(p))) {
      process.stderr.write(
        `a local cluster (tier ${running.tier}) is already running:\n  export KUBECONFIG=${running.kubeconfig}\n` +
          'stop it first with `npm run cluster:down`\n',
      );
      return 1;
    }
    const state = await startCluster({ tier });
    fs.mkdirSync(path.dirname(pointerFile()), { recursive: true });
    fs.writeFileSync(pointerFile(), JSON.stringify({ state: path.join(state.dir, 'state.json') }) + '\n');
    process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
    return 0;
  }
  if (command === 'down') {
    const explicit = flag('--state');
    const state = explicit ? readState(explicit) : readPointer();
    if (!state) {
      process.stderr.write('[cluster] no local cluster recorded as running; nothing to stop\n');
      if (!explicit) fs.rmSync(pointerFile(), { force: true });
      return 0;
    }
    await stopCluster(state);
    if (!explicit) fs.rmSync(pointerFile(), { force: true });
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}
