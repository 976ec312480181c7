/**
 * A snapshot of the host state a real node could leave behind, to compare before `up` and after `down` of the
 * node tier (test/node/host-state.test.ts): cgroups named kubepods / k8s.io / cdk8s-dask-* in every hierarchy,
 * the host's mount table, named network namespaces, the fixed paths containerd, libcni and kubelet write to,
 * and the host-global sysctls kubelet sets. Other activity on the machine can change these too (another
 * checkout's cluster, image builds); the snapshot therefore names each entry, so a difference says what it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupHierarchies, KUBELET_SYSCTLS } from './node-sandbox';

/** Paths that kubelet, containerd 1.6 and libcni use whatever their configuration says. */
export const FIXED_PATHS: readonly string[] = [
  '/run/containerd',
  '/run/netns',
  '/var/run/netns',
  '/var/lib/kubelet',
  '/var/lib/cni',
  '/var/lib/containerd',
  '/var/log/containers',
  '/var/log/pods',
  '/opt/containerd',
  '/etc/cni/net.d',
  '/run/xtables.lock',
];

const CGROUP_NAME = /^(kubepods.*|k8s\.io|cdk8s-dask-.*)$/;

/** key -> value; keys say what each entry is (e.g. "cgroup /sys/fs/cgroup/pids/kubepods"). */
export type HostSnapshot = ReadonlyMap<string, string>;

function listTree(root: string, out: Map<string, string>, limit = 2000): void {
  const walk = (p: string): void => {
    if (out.size > limit) return;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    out.set(`path ${p}`, st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : `file ${st.size} bytes`);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    }
  };
  walk(root);
}

function cgroups(out: Map<string, string>): void {
  for (const h of cgroupHierarchies()) {
    const walk = (dir: string, depth: number): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        const p = path.join(dir, e.name);
        if (CGROUP_NAME.test(e.name)) out.set(`cgroup ${p}`, 'present');
        // Deep enough for <cgroupRoot>/kubepods/<qos>; Pod cgroups below come and go with Pods.
        else if (depth < 2) walk(p, depth + 1);
      }
    };
    walk(h, 0);
  }
}

function mounts(out: Map<string, string>): void {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const sep = f.indexOf('-');
    out.set(`mount ${f[4]} (${f[3]})`, sep > 0 ? `${f[sep + 1]} ${f[sep + 2]}` : '?');
  }
}

export function snapshotHostState(): HostSnapshot {
  const out = new Map<string, string>();
  cgroups(out);
  mounts(out);
  for (const p of FIXED_PATHS) listTree(p, out);
  for (const s of KUBELET_SYSCTLS) {
    try {
      out.set(`sysctl ${s.replace(/\//g, '.')}`, fs.readFileSync(path.join('/proc/sys', s), 'utf8').trim());
    } catch {
      /* not on this kernel */
    }
  }
  try {
    out.set('file /run/mount/utab', fs.readFileSync('/run/mount/utab', 'utf8'));
  } catch {
    /* absent */
  }
  for (const e of fs.readdirSync('/tmp')) if (e.startsWith('containerd-mount')) out.set(`path /tmp/${e}`, 'present');
  return out;
}

/** Human-readable differences: "+ key = value" (appeared), "- key" (vanished), "~ key: a -> b" (changed). */
export function diffHostState(before: HostSnapshot, after: HostSnapshot): string[] {
  const lines: string[] = [];
  for (const [k, v] of after) {
    if (!before.has(k)) lines.push(`+ ${k} = ${v}`);
    else if (before.get(k) !== v) lines.push(`~ ${k}: ${before.get(k)} -> ${v}`);
  }
  for (const k of before.keys()) if (!after.has(k)) lines.push(`- ${k}`);
  return lines.sort();
}

/** Processes whose command line mentions `needle` (e.g. a cluster's temp dir): "pid argv…". */
export function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (argv.includes(needle)) out.push(`${e} ${argv.split('\0').join(' ').trim()}`);
    } catch {
      /* gone */
    }
  }
  return out;
}
