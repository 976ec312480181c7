/**
 * `npm run cluster:up [-- --tier api|gc|full|node]`, `npm run cluster:down` and `npm run cluster:exec -- CMD`
 * (via hack/cluster/cli.js). `up` records where its state lives in `<cache>/cluster/running-<checkout>.json`, one
 * record per checkout (a hash of its path), so two checkouts never see, refuse or stop each other's cluster;
 * `down` stops exactly those processes by pid and removes what the cluster made.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterState, isOurProcess, isTier, readState, REPO_ROOT, Tier, TIERS } from './cluster';
import { enterArgs, nodeInnerMain, startTier, stopTier } from './node-tier';
import { nodeTierUnsupportedReason } from './node-sandbox';

/** The record of the cluster this checkout started (keyed by the checkout's absolute path). */
export function pointerFile(repoRoot: string = REPO_ROOT): string {
  const cache = process.env.CDK8S_DASK_CACHE ?? path.join(os.homedir(), '.cache', 'cdk8s-dask');
  const key = createHash('sha256').update(path.resolve(repoRoot)).digest('hex').slice(0, 12);
  return path.join(cache, 'cluster', `running-${key}.json`);
}

function readPointer(): ClusterState | undefined {
  const f = pointerFile();
  if (!fs.existsSync(f)) return undefined;
  const { state } = JSON.parse(fs.readFileSync(f, 'utf8')) as { state: string };
  if (!fs.existsSync(state)) return undefined;
  return readState(state);
}

const USAGE =
  `usage: cluster up [--tier ${TIERS.join('|')}] | cluster down [--state <dir>/state.json] | ` +
  'cluster exec -- CMD [ARG...] (node tier: run CMD in its network and mount namespace) | cluster node-support';

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
        `a local cluster (tier ${running.tier}) started from this checkout is already running:\n` +
          `  export KUBECONFIG=${running.kubeconfig}\nstop it first with \`npm run cluster:down\`\n`,
      );
      return 1;
    }
    if (tier === 'node') {
      const reason = nodeTierUnsupportedReason();
      if (reason) {
        process.stderr.write(`[cluster] cannot start the node tier on this machine: ${reason}\n`);
        return 1;
      }
      // The npm script builds the control plane only; the node group is built here, on first use.
      execFileSync('bash', [path.join(REPO_ROOT, 'hack', 'cluster', 'build.sh'), '--node'], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    const state = await startTier(tier);
    fs.mkdirSync(path.dirname(pointerFile()), { recursive: true });
    fs.writeFileSync(pointerFile(), JSON.stringify({ state: path.join(state.dir, 'state.json'), checkout: REPO_ROOT }) + '\n');
    process.stdout.write(`export KUBECONFIG=${state.kubeconfig}\n`);
    return 0;
  }
  if (command === 'down') {
    const explicit = flag('--state');
    const state = explicit ? readState(explicit) : readPointer();
    if (!state) {
      process.stderr.write(`[cluster] no local cluster recorded as running for this checkout (${REPO_ROOT}); nothing to stop\n`);
      if (!explicit) fs.rmSync(pointerFile(), { force: true });
      return 0;
    }
    await stopTier(state);
    if (!explicit) fs.rmSync(pointerFile(), { force: true });
    return 0;
  }
  if (command === 'exec') {
    const dashes = rest.indexOf('--');
    const cmd = dashes >= 0 ? rest.slice(dashes + 1) : rest;
    const state = readPointer();
    if (!state?.node || cmd.length === 0) {
      process.stderr.write(`[cluster] ${cmd.length === 0 ? 'no command given' : 'no node-tier cluster of this checkout is running'}; ${USAGE}\n`);
      return 2;
    }
    const [exe, ...args] = [...enterArgs(state.node), ...cmd];
    const r = spawnSync(exe, args, { stdio: 'inherit', env: { ...process.env, KUBECONFIG: state.kubeconfig } });
    return r.status ?? 1;
  }
  if (command === 'node-support') {
    const reason = nodeTierUnsupportedReason();
    process.stdout.write(reason ? `${reason}\n` : 'ok\n');
    return reason ? 3 : 0;
  }
  if (command === 'node-inner') {
    // Internal: run by node-tier.ts inside the sandbox.
    await nodeInnerMain(rest[0]);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}
