/**
 * Tier `node`: the full tier plus one real node (containerd + runc, CNI bridge, kubelet, kube-proxy, CoreDNS), all
 * inside a network namespace and a private mount namespace of its own (node-sandbox.ts). This module is the
 * OUTER side: it makes the sandbox, runs the inner start in it (`hack/cluster/cli.js node-inner`, which calls
 * startCluster with the real-node hooks of real-node.ts), and starts the forwarder that makes the apiserver reachable
 * at https://127.0.0.1:<port> in the CALLER's network namespace (the host's, or the Jest run's), through a UNIX socket.
 * The apiserver listens on the same port inside the sandbox, so one kubeconfig serves both sides.
 *
 * Also the tier-agnostic entry points used by the CLI and the Jest setups: startTier, stopTier, killTierSync.
 *
 * Only Node built-ins (and types) are imported so that hack/cluster/cli.js can load it without a build.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  defaultLog,
  freePort,
  httpsRequest,
  isOurProcess,
  killClusterSync,
  pollUntil,
  readState,
  REPO_ROOT,
  resolveBinDir,
  rmTree,
  SERVICE_CIDR,
  startCluster,
  stopCluster,
  stopProcess,
  type ClusterProcess,
  type ClusterState,
  type StartOptions,
  type Tier,
} from './cluster';
import { killLeftoversSync, nodeTierUnsupportedReason, removeCgroupsSync, startSandbox, type NodeTierInfo } from './node-sandbox';
import { FORWARDER_SCRIPT, realNodeHooks, type ImageArchive, type RealNodeRequest } from './real-node';
import { NODE_CIDR, NODE_IP, PAUSE_IMAGE } from './real-node-config';

export const CLI_SCRIPT = path.join(REPO_ROOT, 'hack', 'cluster', 'cli.js');
export const IMAGES_SCRIPT = path.join(REPO_ROOT, 'hack', 'images', 'build.sh');
/** kwok's fake node carries this taint in the node tier: Pods land on the real node unless they tolerate it. */
export const FAKE_NODE_TAINT = { key: 'cdk8s-dask.io/fake-node', value: 'kwok', effect: 'NoSchedule' } as const;

export interface NodeTierOptions {
  readonly binDir?: string;
  readonly tmpRoot?: string;
  readonly crdFiles?: readonly string[];
  /** Default: the lines of `bash hack/images/build.sh` (env CDK8S_DASK_NODE_IMAGES: which images, e.g. "pause"). */
  readonly images?: readonly ImageArchive[];
  readonly log?: (line: string) => void;
}

/** Env: a file with the lines `bash hack/images/build.sh` printed (hack/test.sh sets it; nothing is built then). */
export const IMAGE_LIST_ENV = 'CDK8S_DASK_NODE_IMAGE_LIST';

/**
 * The images to import: the lines of the file in CDK8S_DASK_NODE_IMAGE_LIST if set, else of
 * `bash hack/images/build.sh [names]` (builds what is missing; progress on stderr), where CDK8S_DASK_NODE_IMAGES
 * (space-separated names such as "pause dask") limits what is built and imported.
 */
export function resolveImages(): ImageArchive[] {
  const listFile = process.env[IMAGE_LIST_ENV];
  let out: string;
  if (listFile) {
    if (!fs.existsSync(listFile)) throw new Error(`${IMAGE_LIST_ENV}=${listFile}: no such file (it should hold the output of hack/images/build.sh)`);
    out = fs.readFileSync(listFile, 'utf8');
  } else {
    if (!fs.existsSync(IMAGES_SCRIPT)) {
      throw new Error(`${IMAGES_SCRIPT} is missing: the node tier imports the images it lists (registry.k8s.io/pause at least)`);
    }
    const names = (process.env.CDK8S_DASK_NODE_IMAGES ?? '').split(/\s+/).filter(Boolean);
    try {
      out = execFileSync('bash', [IMAGES_SCRIPT, ...names], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    } catch (err) {
      throw new Error(`bash hack/images/build.sh ${names.join(' ')} failed (${(err as Error).message}); its progress is above`);
    }
  }
  const images = out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [ref, archive] = l.split('\t');
      if (!ref || !archive) throw new Error(`hack/images/build.sh printed "${l}", expected "<image ref>\\t<archive path>"`);
      return { ref, archive };
    });
  if (!images.some((i) => i.ref === PAUSE_IMAGE)) {
    throw new Error(`hack/images/build.sh did not list ${PAUSE_IMAGE}, the node's sandbox image (got: ${images.map((i) => i.ref).join(', ') || 'nothing'})`);
  }
  return images;
}

interface InnerRequest extends RealNodeRequest {
  readonly binDir: string;
  readonly crdFiles: readonly string[];
}

/** `hack/cluster/cli.js node-inner <dir>`: runs inside the sandbox; starts the control plane and the real node. */
export async function nodeInnerMain(dir: string): Promise<void> {
  const req = JSON.parse(fs.readFileSync(path.join(dir, 'node-request.json'), 'utf8')) as InnerRequest;
  const options: StartOptions = {
    tier: 'node',
    dir,
    binDir: req.binDir,
    crdFiles: req.crdFiles,
    apiserverPort: req.apiserverPort,
    // Inside the sandbox only: loopback (components, forwarder) and cni0 (Pods, via the kubernetes Service).
    bindAddress: '0.0.0.0',
    advertiseAddress: NODE_IP,
    serverIpSans: [NODE_IP],
    // logs/exec/port-forward: dial the node by its InternalIP, not by its name (there is no DNS for node names).
    apiserverArgs: ['--kubelet-preferred-address-types=InternalIP'],
    // Pods get their ServiceAccount token (the operator Pod's in-cluster config needs it), as in any real cluster.
    serviceAccountAdmission: true,
    fakeNodeTaints: [FAKE_NODE_TAINT],
    hooks: realNodeHooks(req),
  };
  await startCluster(options);
}

/** Runs a command inside a running node tier's namespaces (what `npm run cluster:exec` does). */
export function enterArgs(info: NodeTierInfo): string[] {
  if (!isOurProcess(info.holder)) throw new Error(`the node tier's sandbox holder (pid ${info.holder.pid}) is not running`);
  return ['nsenter', `--target=${info.holder.pid}`, '--net', '--mount', '--'];
}

function startForwarder(dir: string, port: number, socket: string, log: (l: string) => void): ClusterProcess {
  const logFile = path.join(dir, 'logs', 'apiserver-forward.log');
  const fd = fs.openSync(logFile, 'a');
  const exe = process.execPath;
  const child = spawn(exe, [FORWARDER_SCRIPT, `tcp:127.0.0.1:${port}`, `unix:${socket}`], { detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${exe} ${FORWARDER_SCRIPT}`);
  child.unref();
  log(`started apiserver-forward (pid ${child.pid}): 127.0.0.1:${port} here -> ${socket} -> apiserver in the sandbox`);
  return { name: 'apiserver-forward', pid: child.pid, exe, log: logFile };
}

/** Starts the node tier (see the file comment). On failure, stops everything it started and removes what it made. */
export async function startNodeTier(options: NodeTierOptions = {}): Promise<ClusterState> {
  const log = options.log ?? defaultLog;
  const reason = nodeTierUnsupportedReason();
  if (reason) throw new Error(`cannot start the node tier on this machine: ${reason}`);
  const binDir = options.binDir ?? resolveBinDir(true);
  for (const b of ['kubelet', 'kube-proxy', 'coredns']) {
    if (!fs.existsSync(path.join(binDir, b))) throw new Error(`missing ${path.join(binDir, b)}: run \`bash hack/cluster/build.sh --node\``);
  }
  const ti = Date.now();
  const images = options.images ?? resolveImages();
  if (!options.images) log(`images listed by hack/images/build.sh in ${Date.now() - ti} ms`);
  // Start-up time from here: image builds (minutes when their inputs changed) are not part of it.
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(options.tmpRoot ?? os.tmpdir(), 'cdk8s-dask-cluster-'));
  fs.mkdirSync(path.join(dir, 'logs'));
  const port = await freePort();
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
  let forwarder: ClusterProcess | undefined;
  let inner: ClusterState | undefined;
  // Interrupted while starting (Ctrl-C on cluster:up): everything is in the sandbox or our cgroups by then.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (sandbox) {
      const sb = sandbox;
      killLeftoversSync({ holder: sb.holder, cgroupDirs: sb.cgroupDirs, containerdSocket: path.join(dir, 'node', 'containerd.sock') }, log);
      try {
        process.kill(sb.holder.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      removeCgroupsSync(sb.cgroupDirs, 5_000);
    }
    rmTree(dir);
    log(`interrupted by ${signal} while starting the node tier; removed what it had made`);
    process.kill(process.pid, signal);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const handlers = signals.map((sig) => {
    const h = (): void => {
      for (const [i, s2] of signals.entries()) process.removeListener(s2, handlers[i]);
      onSignal(sig);
    };
    process.once(sig, h);
    return h;
  });
  try {
    sandbox = await startSandbox(dir, NODE_CIDR, SERVICE_CIDR, log);
    const req: InnerRequest = {
      apiserverPort: port,
      sandbox: { id: sandbox.id, holder: sandbox.holder, cgroupRoot: sandbox.cgroupRoot, cgroupDirs: sandbox.cgroupDirs },
      images,
      nodeExe: process.execPath,
      binDir,
      crdFiles: options.crdFiles ?? [],
    };
    fs.writeFileSync(path.join(dir, 'node-request.json'), JSON.stringify(req, null, 2) + '\n');
    const [exe, ...args] = [...sandbox.enter, process.execPath, CLI_SCRIPT, 'node-inner', dir];
    // stdout goes to our stderr too: the CLI's stdout carries only `export KUBECONFIG=...`.
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(exe, args, { stdio: ['ignore', 2, 2] });
      child.on('error', reject);
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    const stateFile = path.join(dir, 'state.json');
    if (code !== 0 || !fs.existsSync(stateFile)) throw new Error(`the start inside the sandbox failed (exit ${code}); its output is above`);
    inner = readState(stateFile);
    if (!inner.node) throw new Error(`${stateFile} has no node section`);
    forwarder = startForwarder(dir, port, inner.node.apiserverSocket, log);
    const pki = path.join(dir, 'pki');
    const [ca, cert, key] = ['ca.crt', 'admin.crt', 'admin.key'].map((f) => fs.readFileSync(path.join(pki, f)));
    const fwd = forwarder;
    await pollUntil('kube-apiserver /readyz through the forwarder', 10_000, async () => {
      if (!isOurProcess(fwd)) throw new Error(`apiserver-forward exited; see ${fwd.log}`);
      return (await httpsRequest(`${inner!.server}/readyz`, { ca, cert, key })).status === 200 ? true : undefined;
    });
    const state: ClusterState = {
      ...inner,
      processes: [sandbox.holder, ...inner.processes, forwarder],
      startedAt: new Date(t0).toISOString(),
      startupMs: Date.now() - t0,
    };
    fs.writeFileSync(stateFile, JSON.stringify(state, null, 2) + '\n');
    log(`node tier up in ${state.startupMs} ms (kubeconfig ${state.kubeconfig}; inside the sandbox: nsenter --target=${sandbox.holder.pid} --net --mount)`);
    return state;
  } catch (err) {
    log(`node tier start failed: ${err instanceof Error ? err.message : String(err)}`);
    if (forwarder) await stopProcess(forwarder, log).catch(() => undefined);
    for (const p of [...(inner?.processes ?? [])].reverse()) await stopProcess(p, log).catch(() => undefined);
    if (sandbox) {
      killLeftoversSync({ holder: sandbox.holder, cgroupDirs: sandbox.cgroupDirs, containerdSocket: path.join(dir, 'node', 'containerd.sock') }, log);
      await stopProcess(sandbox.holder, log).catch(() => undefined);
      const left = removeCgroupsSync(sandbox.cgroupDirs);
      if (left.length > 0) log(`WARNING: could not remove cgroups:\n  ${left.join('\n  ')}`);
    }
    rmTree(dir);
    throw err;
  } finally {
    for (const [i, sig] of signals.entries()) process.removeListener(sig, handlers[i]);
  }
}

/** Stops a node tier: recorded processes newest first, then leftovers (shims, containers), the holder, cgroups, dir. */
export async function stopNodeTier(state: ClusterState, log: (l: string) => void = defaultLog): Promise<void> {
  const info = state.node;
  if (!info) throw new Error(`${state.dir} is not a node-tier cluster`);
  for (const p of [...state.processes].reverse()) {
    if (p.pid === info.holder.pid) continue;
    await stopProcess(p, log);
    log(`stopped ${p.name} (pid ${p.pid})`);
  }
  killLeftoversSync(info, log);
  await stopProcess(info.holder, log);
  log(`stopped sandbox holder (pid ${info.holder.pid})`);
  const left = removeCgroupsSync(info.cgroupDirs);
  if (left.length > 0) log(`WARNING: could not remove cgroups:\n  ${left.join('\n  ')}`);
  else log(`removed cgroup ${info.cgroupRoot} from ${info.cgroupDirs.length} hierarchies`);
  rmTree(state.dir);
  log(`removed ${state.dir}`);
}

/** Starts a cluster of any tier (node: startNodeTier; others: startCluster). */
export function startTier(tier: Tier, options: Omit<StartOptions, 'tier'> & NodeTierOptions = {}): Promise<ClusterState> {
  return tier === 'node' ? startNodeTier(options) : startCluster({ ...options, tier });
}

/** Stops a cluster of any tier, as recorded in its state. */
export function stopTier(state: ClusterState, log: (l: string) => void = defaultLog): Promise<void> {
  return state.node ? stopNodeTier(state, log) : stopCluster(state, log);
}

/** Last-resort synchronous cleanup for `process.on('exit')` (SIGKILL, then the same sweep as stopNodeTier). */
export function killTierSync(state: ClusterState): void {
  const info = state.node;
  if (!info) return killClusterSync(state);
  for (const p of [...state.processes].reverse()) {
    if (p.pid === info.holder.pid || !isOurProcess(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  killLeftoversSync(info, () => undefined);
  if (isOurProcess(info.holder)) {
    try {
      process.kill(info.holder.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  removeCgroupsSync(info.cgroupDirs, 5_000);
  rmTree(state.dir);
}
