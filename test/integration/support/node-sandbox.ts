/**
 * The namespaces the node tier runs in, and how they are taken down without leaving host state behind.
 *
 * A "holder" process (`unshare --net --mount --propagation private -- sleep infinity`) owns one new network
 * namespace and one private mount namespace; every process of the node tier (control plane included) is started
 * inside both (`nsenter --target <holder> --net --mount`). In that mount namespace, tmpfs is mounted over /run,
 * /var/lib and /var/log (containerd shims, libcni, host-local IPAM and kubelet write to fixed paths there: they
 * land in memory and vanish with the namespace) and plain files are bind-mounted over the host-global sysctls
 * kubelet sets at start-up. The network namespace holds the bridge `cni0` with the node address.
 *
 * Host state the node tier does create, and removes on the way down: one cgroup `cdk8s-dask-<id>` in every cgroup
 * hierarchy (kubelet's cgroupRoot: kubepods and every container live below it) and its temp dir. Processes are
 * stopped by pid after checking /proc/<pid>; leftovers (containerd shims, container processes) are found by what
 * ties them to this sandbox: our cgroup tree, our containerd socket on their command line, our mount namespace.
 *
 * Only Node built-ins (and types) are imported so that hack/cluster/cli.js can load it without a build.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterProcess } from './cluster';

/** What a node-tier ClusterState records about its real node and namespaces (state.json `node`). */
export interface NodeTierInfo {
  readonly sandboxId: string;
  /** The holder process; `nsenter --target <pid> --net --mount` enters the tier's namespaces. */
  readonly holder: ClusterProcess;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly dnsIp: string;
  /** kubelet's cgroupRoot, e.g. /cdk8s-dask-1a2b3c4d. */
  readonly cgroupRoot: string;
  /** That cgroup in every hierarchy (absolute paths under /sys/fs/cgroup), created by the tier. */
  readonly cgroupDirs: readonly string[];
  readonly containerdSocket: string;
  /** Images imported into containerd (namespace k8s.io), with the OCI archive each came from. */
  readonly images: readonly { readonly ref: string; readonly archive: string }[];
  /** The apiserver's UNIX socket (inside the temp dir) that the caller-side forwarder connects to. */
  readonly apiserverSocket: string;
}

/** The Linux facts the sandbox relies on, checked before anything starts. */
const SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;
/** Host-global sysctls kubelet writes at start-up (pkg/kubelet/cm setupKernelTunables); shadowed in the sandbox. */
export const KUBELET_SYSCTLS: readonly string[] = SYSCTLS;
/** Paths the node tier's processes write regardless of configuration; tmpfs over them inside the sandbox. */
export const SANDBOX_TMPFS: readonly string[] = ['/run', '/var/lib', '/var/log'];

const CNI_BIN_DIR = '/usr/lib/cni';

function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Absolute path of a required command, or an error saying which Debian package provides it. */
export function requireCommand(cmd: string, pkg: string): string {
  const f = which(cmd);
  if (!f) throw new Error(`the node tier needs \`${cmd}\` (Debian package ${pkg}); install it: apt-get install ${pkg}`);
  return f;
}

/** The cgroup hierarchies mounted on this machine (v1 controllers, named ones, the unified v2 one). */
export function cgroupHierarchies(): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-');
    if (sep < 0) continue;
    const fstype = fields[sep + 1];
    const mountPoint = fields[4];
    if ((fstype === 'cgroup' || fstype === 'cgroup2') && mountPoint.startsWith('/sys/fs/cgroup')) out.push(mountPoint);
  }
  return [...new Set(out)].sort();
}

function realRoot(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    // Inside a user namespace (e.g. hack/netns.sh as non-root: unshare -r) uid 0 is mapped, not real.
    const map = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return map[0] === '0' && map[1] === '0' && map[2] === '4294967295';
  } catch {
    return false;
  }
}

/** Why this machine cannot run the node tier, or undefined when it can. One line, for a skip message. */
export function nodeTierUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux') return `the node tier runs containers with Linux namespaces; this is ${process.platform}`;
  if (!realRoot()) return 'the node tier needs real root (uid 0 outside any user namespace) to run containerd, runc and kubelet';
  const cmds: [string, string][] = [
    ['containerd', 'containerd'],
    ['containerd-shim-runc-v2', 'containerd'],
    ['ctr', 'containerd'],
    ['runc', 'runc'],
    ['unshare', 'util-linux'],
    ['nsenter', 'util-linux'],
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ];
  const missing = cmds.filter(([c]) => !which(c));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(' ');
    return `missing ${missing.map(([c]) => c).join(', ')} (apt-get install ${pkgs})`;
  }
  const plugins = ['bridge', 'host-local', 'loopback'].filter((p) => !fs.existsSync(path.join(CNI_BIN_DIR, p)));
  if (plugins.length > 0) {
    return `missing CNI plugins ${plugins.join(', ')} in ${CNI_BIN_DIR} (apt-get install containernetworking-plugins)`;
  }
  if (!/\soverlay$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'))) return 'the kernel offers no overlay filesystem (containerd snapshotter)';
  const hierarchies = cgroupHierarchies();
  if (hierarchies.length === 0) return 'no cgroup hierarchy is mounted under /sys/fs/cgroup';
  const probe = path.join(hierarchies[0], `cdk8s-dask-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
  } catch (err) {
    return `cannot create cgroups in ${hierarchies[0]} (${(err as Error).message}); the node tier needs a writable /sys/fs/cgroup`;
  }
  return undefined;
}

/** Creates `/<name>` in every hierarchy (cpuset: with the parent's cpus and mems, or children could not run). */
function createCgroups(name: string): string[] {
  const created: string[] = [];
  try {
    for (const h of cgroupHierarchies()) {
      const dir = path.join(h, name);
      fs.mkdirSync(dir);
      created.push(dir);
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const parent = path.join(h, f);
        if (fs.existsSync(parent) && fs.existsSync(path.join(dir, f))) {
          fs.writeFileSync(path.join(dir, f), fs.readFileSync(parent, 'utf8').trim());
        }
      }
    }
  } catch (err) {
    removeCgroupsSync(created, 0);
    throw new Error(`could not create the node tier's cgroup ${name}: ${(err as Error).message}`);
  }
  return created;
}

/** Every directory of a cgroup tree, deepest first. */
function cgroupTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  walk(dir);
  return out;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** rmdir each cgroup tree bottom-up, retrying for up to `waitMs` while exiting tasks still hold one. */
export function removeCgroupsSync(dirs: readonly string[], waitMs = 10_000): string[] {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left: string[] = [];
    for (const root of dirs) {
      for (const d of cgroupTree(root)) {
        try {
          fs.rmdirSync(d);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(`${d}: ${(err as Error).message}`);
        }
      }
    }
    if (left.length === 0 || Date.now() >= deadline) return left;
    sleepSync(100);
  }
}

function readCmdline(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

function nsId(pid: number, ns: 'mnt' | 'net'): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

function isHolderAlive(holder: ClusterProcess): boolean {
  const argv = readCmdline(holder.pid);
  return argv !== undefined && argv[0] === holder.exe;
}

/**
 * Processes this sandbox left behind once its recorded processes are stopped: everything in its cgroup tree
 * (container processes), containerd shims started for its containerd socket, anything else still in its mount
 * namespace (while the holder, checked by its command line, keeps that namespace's identity unambiguous).
 */
export function sandboxLeftovers(info: Pick<NodeTierInfo, 'holder' | 'cgroupDirs' | 'containerdSocket'>): number[] {
  const found = new Set<number>();
  for (const root of info.cgroupDirs) {
    for (const d of cgroupTree(root)) {
      try {
        for (const line of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) found.add(Number(line));
      } catch {
        /* gone */
      }
    }
  }
  const mnt = isHolderAlive(info.holder) ? nsId(info.holder.pid, 'mnt') : undefined;
  for (const pid of allPids()) {
    if (pid === info.holder.pid || pid === process.pid) continue;
    const argv = readCmdline(pid);
    if (!argv || argv.length === 0) continue;
    const a = argv.indexOf('-address');
    if (a >= 0 && argv[a + 1] === info.containerdSocket && path.basename(argv[0]).startsWith('containerd-shim')) found.add(pid);
    else if (mnt !== undefined && nsId(pid, 'mnt') === mnt) found.add(pid);
  }
  found.delete(process.pid);
  found.delete(info.holder.pid);
  return [...found].sort((x, y) => x - y);
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGKILLs the sandbox's leftovers (repeatedly: a dying shim may still fork) and waits until none is left. */
export function killLeftoversSync(info: Pick<NodeTierInfo, 'holder' | 'cgroupDirs' | 'containerdSocket'>, log: (l: string) => void): void {
  const deadline = Date.now() + 10_000;
  let reported = false;
  for (;;) {
    const pids = sandboxLeftovers(info).filter(alive);
    if (pids.length === 0) return;
    if (!reported) {
      const names = pids.map((p) => `${p}:${path.basename(readCmdline(p)?.[0] ?? '?')}`);
      log(`killing ${pids.length} leftover process(es) of the sandbox (shims, containers): ${names.join(' ')}`);
      reported = true;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (Date.now() >= deadline) {
      log(`WARNING: processes still alive after SIGKILL: ${pids.join(' ')}`);
      return;
    }
    sleepSync(100);
  }
}

export interface Sandbox {
  readonly id: string;
  readonly holder: ClusterProcess;
  readonly cgroupRoot: string;
  readonly cgroupDirs: readonly string[];
  /** argv prefix that runs a command inside the sandbox: [nsenter, --target, pid, --net, --mount, --]. */
  readonly enter: readonly string[];
}

/**
 * Creates the cgroups, starts the holder and sets the namespaces up: loopback, the bridge `cni0` with `nodeCidr`
 * (e.g. 10.250.0.1/24), a route for the service CIDR through it, tmpfs over SANDBOX_TMPFS, and copies of the
 * KUBELET_SYSCTLS (in `dir`/sysctl) bind-mounted over the real ones. On failure everything created is undone.
 */
export async function startSandbox(dir: string, nodeCidr: string, serviceCidr: string, log: (l: string) => void): Promise<Sandbox> {
  const unshare = requireCommand('unshare', 'util-linux');
  const nsenter = requireCommand('nsenter', 'util-linux');
  const sleep = requireCommand('sleep', 'coreutils');
  const id = randomBytes(4).toString('hex');
  const cgroupRoot = `/cdk8s-dask-${id}`;
  const cgroupDirs = createCgroups(cgroupRoot.slice(1));
  const logFile = path.join(dir, 'logs', 'sandbox.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(unshare, ['--net', '--mount', '--propagation', 'private', '--', sleep, 'infinity'], {
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  if (child.pid === undefined) {
    removeCgroupsSync(cgroupDirs, 0);
    throw new Error(`could not start ${unshare}`);
  }
  child.unref();
  const holder: ClusterProcess = { name: 'sandbox', pid: child.pid, exe: sleep, log: logFile };
  const enter = [nsenter, `--target=${holder.pid}`, '--net', '--mount', '--'];
  const undo = (): void => {
    try {
      process.kill(holder.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    removeCgroupsSync(cgroupDirs, 2_000);
  };
  try {
    const ownNet = nsId(process.pid, 'net');
    const deadline = Date.now() + 5_000;
    while (!(isHolderAlive(holder) && nsId(holder.pid, 'net') !== ownNet)) {
      if (Date.now() > deadline) throw new Error(`the sandbox holder (${unshare} … ${sleep}, pid ${holder.pid}) did not start; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const sysctlDir = path.join(dir, 'sysctl');
    fs.mkdirSync(sysctlDir, { recursive: true });
    const binds: string[] = [];
    for (const s of KUBELET_SYSCTLS) {
      const real = path.join('/proc/sys', s);
      if (!fs.existsSync(real)) continue;
      const copy = path.join(sysctlDir, s.replace(/\//g, '.'));
      // Not copyFileSync: procfs files report size 0, and a size-based copy yields an empty file.
      fs.writeFileSync(copy, fs.readFileSync(real, 'utf8'));
      binds.push(copy, real);
    }
    // Positional parameters carry every path, so nothing is interpolated into the script text.
    const script = [
      'node_cidr=$1 service_cidr=$2 tmpfs_count=$3; shift 3',
      'ip link set lo up',
      'ip link add cni0 type bridge',
      'ip addr add "$node_cidr" dev cni0',
      'ip link set cni0 up',
      'ip route add "$service_cidr" dev cni0',
      'i=0; while [ "$i" -lt "$tmpfs_count" ]; do mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$1"; shift; i=$((i+1)); done',
      'while [ "$#" -gt 1 ]; do mount --bind "$1" "$2"; shift 2; done',
    ].join('\n');
    execFileSync(enter[0], [...enter.slice(1), '/bin/sh', '-ec', script, 'sandbox-setup', nodeCidr, serviceCidr,
      String(SANDBOX_TMPFS.length), ...SANDBOX_TMPFS, ...binds], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    undo();
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`could not set up the node tier's namespaces: ${(err as Error).message}${stderr ? `\n${stderr}` : ''}`);
  }
  log(`sandbox ${id}: holder pid ${holder.pid} (network + private mount namespace), cgroup ${cgroupRoot}`);
  return { id, holder, cgroupRoot, cgroupDirs, enter };
}
