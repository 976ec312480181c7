/**
 * The real node of the node tier, started from INSIDE its sandbox (node-sandbox.ts) as startCluster hooks:
 * before the control plane, containerd starts and the images are imported in the background; after kwok's fake
 * node is Ready, kubelet, kube-proxy and CoreDNS start, then the forwarder from the apiserver's UNIX socket to the
 * apiserver. node-tier.ts runs this through `hack/cluster/cli.js node-inner` and does everything outside.
 *
 * Only Node built-ins (and types) are imported so that hack/cluster/cli.js can load it without a build.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { httpGet, REPO_ROOT, SERVICE_CIDR, type ClusterProcess, type StartContext, type StartHooks } from './cluster';
import type { NodeTierInfo } from './node-sandbox';
import * as cfg from './real-node-config';

const run = promisify(execFile);

/** One line of `bash hack/images/build.sh`: an image reference and the OCI archive that holds it. */
export interface ImageArchive {
  readonly ref: string;
  readonly archive: string;
}

/** What the outer side (node-tier.ts) hands to the inner start, as `<dir>/node-request.json`. */
export interface RealNodeRequest {
  readonly apiserverPort: number;
  readonly sandbox: {
    readonly id: string;
    readonly holder: ClusterProcess;
    readonly cgroupRoot: string;
    readonly cgroupDirs: readonly string[];
  };
  readonly images: readonly ImageArchive[];
  readonly nodeExe: string;
}

export const FORWARDER_SCRIPT = path.join(REPO_ROOT, 'hack', 'cluster', 'forward.js');

function which(cmd: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/bin', '/sbin', ...(process.env.PATH ?? '').split(':')]) {
    const f = path.join(dir, cmd);
    if (dir && fs.existsSync(f)) return f;
  }
  throw new Error(`the node tier needs \`${cmd}\` on PATH (apt-get install containerd)`);
}

/**
 * Imports every archive once (two references may share one), unpacked for the overlayfs snapshotter so that a Pod's
 * first start does not pay for it. The pause image's archive goes first (kubelet waits for it only); the others then
 * import concurrently. `all` also checks that every reference is listed afterwards. Neither promise rejects: errors
 * are returned, so that an import failing while the control plane starts is reported where it is awaited.
 */
function importImages(ctr: string, socket: string, images: readonly ImageArchive[], log: (l: string) => void): {
  pause: Promise<Error | undefined>;
  all: Promise<Error | undefined>;
} {
  const one = async (archive: string): Promise<void> => {
    if (!fs.existsSync(archive)) throw new Error(`image archive ${archive} is missing: run \`bash hack/images/build.sh\``);
    const s = Date.now();
    try {
      await run(ctr, ['--address', socket, '-n', 'k8s.io', 'images', 'import', archive], { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`ctr images import ${archive} failed: ${e.stderr || e.message}`);
    }
    const refs = images.filter((i) => i.archive === archive).map((i) => i.ref);
    log(`imported ${refs.join(', ')} (${(fs.statSync(archive).size / 1048576).toFixed(1)} MiB) in ${Date.now() - s} ms`);
  };
  const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
  const pauseArchive = images.find((i) => i.ref === cfg.PAUSE_IMAGE)?.archive;
  const pause = (pauseArchive ? one(pauseArchive) : Promise.reject(new Error(`no archive for ${cfg.PAUSE_IMAGE}`))).then(
    () => undefined,
    asError,
  );
  const all = pause.then(async (failed) => {
    if (failed) return failed;
    try {
      await Promise.all([...new Set(images.map((i) => i.archive))].filter((a) => a !== pauseArchive).map(one));
      const { stdout } = await run(ctr, ['--address', socket, '-n', 'k8s.io', 'images', 'ls', '-q']);
      const listed = new Set(stdout.split('\n').map((l) => l.trim()));
      const missing = images.filter((i) => !listed.has(i.ref)).map((i) => `${i.ref} (from ${i.archive})`);
      if (missing.length > 0) {
        throw new Error(`after import, containerd does not list ${missing.join(', ')}: the archive's index.json lacks the ` +
          'io.containerd.image.name annotation for that reference (hack/images)');
      }
      return undefined;
    } catch (err) {
      return asError(err);
    }
  });
  return { pause, all };
}

const ok200 = async (url: string): Promise<true | undefined> => ((await httpGet(url)).status === 200 ? true : undefined);

function connects(socketPath: string): Promise<true | undefined> {
  return new Promise((resolve) => {
    const c = net.connect({ path: socketPath }, () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(undefined));
  });
}

/** The startCluster hooks that add the real node. Must run inside the sandbox (network + mount namespace). */
export function realNodeHooks(req: RealNodeRequest): StartHooks {
  let imports: ReturnType<typeof importImages> | undefined;
  const containerdExe = which('containerd');
  const ctr = which('ctr');
  return {
    async beforeControlPlane(ctx: StartContext): Promise<void> {
      const node = path.join(ctx.dir, 'node');
      const socket = path.join(node, 'containerd.sock');
      const cniConfDir = path.join(node, 'cni');
      const tmp = path.join(node, 'tmp');
      for (const d of [cniConfDir, tmp]) fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(cniConfDir, '10-cdk8s-dask.conflist'), cfg.cniConflist());
      const config = path.join(node, 'containerd.toml');
      fs.writeFileSync(
        config,
        cfg.containerdConfig({ root: path.join(node, 'containerd', 'root'), state: path.join(node, 'containerd', 'state'), socket, cniConfDir }),
      );
      // TMPDIR: containerd's temporary mounts (image unpack) go below the temp dir, not /tmp.
      const containerd = ctx.start('containerd', containerdExe, ['--config', config], { ...process.env, TMPDIR: tmp });
      await ctx.step('containerd', 30_000, containerd, async () => {
        if (!fs.existsSync(socket)) return undefined;
        await run(ctr, ['--address', socket, 'version']);
        return true;
      });
      // The imports (seconds for the Dask image) overlap with the control plane's and the node's start.
      imports = importImages(ctr, socket, req.images, ctx.log);
    },

    async afterNodes(ctx: StartContext): Promise<{ node: NodeTierInfo }> {
      const node = path.join(ctx.dir, 'node');
      const socket = path.join(node, 'containerd.sock');
      if (!imports) throw new Error('realNodeHooks: afterNodes ran before beforeControlPlane');
      const pauseError = await imports.pause;
      if (pauseError) throw pauseError;

      const resolvConf = path.join(node, 'resolv.conf');
      fs.writeFileSync(resolvConf, cfg.nodeResolvConf());
      const kubeletConfig = path.join(node, 'kubelet.yaml');
      fs.writeFileSync(kubeletConfig, cfg.kubeletConfig({ containerdSocket: socket, resolvConf, cgroupRoot: req.sandbox.cgroupRoot }));
      const env = { ...process.env, TMPDIR: path.join(node, 'tmp') };
      const kubelet = ctx.start('kubelet', ctx.bin('kubelet'), [
        `--config=${kubeletConfig}`,
        `--kubeconfig=${ctx.kubeconfig}`,
        // tmpfs inside the sandbox (its fixed sub-paths such as device-plugins included).
        '--root-dir=/var/lib/kubelet',
        `--cert-dir=${path.join(node, 'kubelet-pki')}`,
        `--node-ip=${cfg.NODE_IP}`,
        `--hostname-override=${cfg.REAL_NODE_NAME}`,
        '--v=1',
      ], env);
      await ctx.step(`node ${cfg.REAL_NODE_NAME} Ready (kubelet)`, 90_000, kubelet, async () => {
        const r = await ctx.api('GET', `/api/v1/nodes/${cfg.REAL_NODE_NAME}`);
        if (r.status === 404) return undefined;
        if (r.status !== 200) throw new Error(`GET node: HTTP ${r.status}`);
        const n = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string; message?: string }[] } };
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status === 'True') return true;
        throw new Error(`Ready=${ready?.status ?? 'unknown'}: ${ready?.message ?? ''}`);
      });

      const proxyConfig = path.join(node, 'kube-proxy.yaml');
      fs.writeFileSync(proxyConfig, cfg.kubeProxyConfig(ctx.kubeconfig));
      const proxy = ctx.start('kube-proxy', ctx.bin('kube-proxy'), [`--config=${proxyConfig}`, '--v=1'], env);
      await ctx.step('kube-proxy /healthz', 60_000, proxy, () => ok200(`http://127.0.0.1:${cfg.KUBE_PROXY_HEALTHZ_PORT}/healthz`));

      const corefile = path.join(node, 'Corefile');
      fs.writeFileSync(corefile, cfg.corefile(ctx.kubeconfig, 'cdk8s-dask-local'));
      const dns = ctx.start('coredns', ctx.bin('coredns'), ['-conf', corefile], env);
      await ctx.step('CoreDNS /ready', 60_000, dns, () => ok200(`http://127.0.0.1:${cfg.COREDNS_READY_PORT}/ready`));

      const s = Date.now();
      const importError = await imports.all;
      if (importError) throw importError;
      ctx.log(`all ${req.images.length} image reference(s) imported (waited ${Date.now() - s} ms for the last ones)`);

      const apiserverSocket = path.join(ctx.dir, 'apiserver.sock');
      const fwd = ctx.start('apiserver-socket', req.nodeExe, [FORWARDER_SCRIPT, `unix:${apiserverSocket}`, `tcp:127.0.0.1:${req.apiserverPort}`]);
      await ctx.step('apiserver UNIX socket', 10_000, fwd, () => connects(apiserverSocket));

      return {
        node: {
          sandboxId: req.sandbox.id,
          holder: req.sandbox.holder,
          nodeName: cfg.REAL_NODE_NAME,
          nodeIp: cfg.NODE_IP,
          podCidr: cfg.POD_CIDR,
          serviceCidr: SERVICE_CIDR,
          dnsIp: cfg.NODE_IP,
          cgroupRoot: req.sandbox.cgroupRoot,
          cgroupDirs: req.sandbox.cgroupDirs,
          containerdSocket: socket,
          images: req.images,
          apiserverSocket,
        },
      };
    },
  };
}
