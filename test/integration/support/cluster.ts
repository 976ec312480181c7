/**
 * A real, local Kubernetes control plane on loopback: etcd + kube-apiserver (+ kube-controller-manager,
 * + kube-scheduler and kwok with one fake node), from the binaries `hack/cluster/build.sh` caches.
 *
 * Used by the Jest global setup of the integration project and by `npm run cluster:up|cluster:down`
 * (hack/cluster/cli.js). Only Node built-ins are imported so the CLI can load this file without a build.
 * See docs/control-plane.md.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeTierInfo } from './node-sandbox';

/** api = etcd + kube-apiserver; gc = + kube-controller-manager (garbage collector, namespace controller);
 * full = + every default controller, kube-scheduler, kwok and one fake node;
 * node = full + one real node (containerd, kubelet, kube-proxy, CoreDNS) in namespaces of its own (node-tier.ts). */
export type Tier = 'api' | 'gc' | 'full' | 'node';
/** Ordered: each tier includes the ones before it. */
export const TIERS: readonly Tier[] = ['api', 'gc', 'full', 'node'];

export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}

/** One process the cluster started. `exe` guards against pid reuse when stopping. */
export interface ClusterProcess {
  readonly name: string;
  readonly pid: number;
  readonly exe: string;
  readonly log: string;
}

/** Everything a client or a later `stop` needs; written as JSON to `<dir>/state.json`. */
export interface ClusterState {
  readonly tier: Tier;
  /** Temp dir holding PKI, kubeconfig, logs, etcd data and this state; removed by stopCluster. */
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly binDir: string;
  /** Name of the fake node (full and node tiers). */
  readonly nodeName?: string;
  /** The real node and the namespaces it runs in (node tier only). */
  readonly node?: NodeTierInfo;
  readonly ports: Readonly<Record<string, number>>;
  readonly processes: readonly ClusterProcess[];
  readonly startedAt: string;
  readonly startupMs: number;
}

export interface StartOptions {
  readonly tier?: Tier;
  /** Directory with the binaries; default: `bash hack/cluster/build.sh --print-dir`. */
  readonly binDir?: string;
  /** Parent of the temp dir; default os.tmpdir(). */
  readonly tmpRoot?: string;
  /** CRD manifests applied right after the apiserver is ready, before kube-controller-manager starts,
   * so the garbage collector watches those kinds from the start (it only rediscovers types every 30 s). */
  readonly crdFiles?: readonly string[];
  /** Progress lines; default: stderr. */
  readonly log?: (line: string) => void;
  /** An existing, empty dir to use instead of a new temp dir; the caller owns it (it is not removed on failure). */
  readonly dir?: string;
  /** kube-apiserver's port instead of a free one (the node tier uses the same port on both sides of its forwarder). */
  readonly apiserverPort?: number;
  /** kube-apiserver --bind-address / --advertise-address; default 127.0.0.1 for both. */
  readonly bindAddress?: string;
  readonly advertiseAddress?: string;
  /** Extra IP SANs of the apiserver serving cert (127.0.0.1 and the service IP are always in). */
  readonly serverIpSans?: readonly string[];
  /** Extra kube-apiserver flags. */
  readonly apiserverArgs?: readonly string[];
  /**
   * Run the ServiceAccount admission plugin, which gives Pods their ServiceAccount token volume, as every real cluster
   * does (in-cluster clients such as the operator Pod need it). Off by default: on the kwok tiers no Pod runs a
   * process, and the plugin rejects Pods created in a fresh namespace before its default ServiceAccount exists.
   * @default false
   */
  readonly serviceAccountAdmission?: boolean;
  /**
   * How many kwok fake nodes (kwok-node-0, -1, …; 110 Pods each, as a kubelet's default). Benchmarks at scale use more.
   * @default 1
   */
  readonly fakeNodes?: number;
  /** Taints of kwok's fake node (the node tier taints it so that Pods land on the real node). */
  readonly fakeNodeTaints?: readonly { key: string; value?: string; effect: string }[];
  /** Called before etcd starts and after the fake node is Ready (node tier: the real node). */
  readonly hooks?: StartHooks;
}

/** What startCluster lends to its hooks: its process starter, its timed poll step and the cluster's files. */
export interface StartContext {
  readonly tier: Tier;
  readonly dir: string;
  readonly logs: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly ports: Record<string, number>;
  readonly log: (line: string) => void;
  bin(name: string): string;
  start(name: string, exe: string, args: string[], env?: NodeJS.ProcessEnv): ClusterProcess;
  step<T>(what: string, timeoutMs: number, p: ClusterProcess | undefined, probe: () => Promise<T | undefined>): Promise<T>;
  /** Admin-authenticated apiserver call (after the apiserver is up). */
  api(method: string, path: string, body?: unknown): Promise<HttpResult>;
}

export interface StartHooks {
  beforeControlPlane?(ctx: StartContext): Promise<void>;
  afterNodes?(ctx: StartContext): Promise<{ node?: NodeTierInfo }>;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const FAKE_NODE_NAME = 'kwok-node-0';
export const SERVICE_CIDR = '10.96.0.0/16';
const POD_CIDR = '10.244.0.0/16';
const STAGES_FILE = path.join(REPO_ROOT, 'hack', 'cluster', 'kwok', 'stages.yaml');

/** Thrown from a probe to stop polling at once (e.g. the process being waited for has exited). */
export class FatalProbeError extends Error {}

/** Poll `probe` until it returns a value other than undefined, or throw after `timeoutMs` with the last error/value. */
export async function pollUntil<T>(
  describe: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'not ready';
    } catch (err) {
      if (err instanceof FatalProbeError) throw new Error(`while waiting for ${describe}: ${err.message}`);
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe}; last seen: ${last}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The cached bin dir from hack/cluster/build.sh (does not build). */
export function resolveBinDir(node = false): string {
  const fromEnv = process.env.CDK8S_DASK_CLUSTER_BIN;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('bash', [path.join(REPO_ROOT, 'hack', 'cluster', 'build.sh'), '--print-dir', ...(node ? ['--node'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    const cmd = node ? 'bash hack/cluster/build.sh --node' : 'npm run cluster:build';
    throw new Error(`${node ? 'node tier' : 'control plane'} binaries are not built: run \`${cmd}\` first.\n${stderr}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function openssl(cwd: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`openssl ${args.join(' ')} failed in ${cwd}: ${stderr}`);
  }
}

interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly saKey: string;
  readonly saPub: string;
}

/** One ECDSA P-256 CA signs the apiserver serving cert and the admin client cert (O=system:masters). */
function makePki(dir: string, extraIpSans: readonly string[] = []): Pki {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, [
    'req', '-x509', ...ec, '-days', '7', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=cdk8s-dask-local-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  const issue = (name: string, subject: string, ext: string): void => {
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    openssl(dir, [
      'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '7',
      '-out', `${name}.crt`, '-extfile', `${name}.ext`,
    ]);
  };
  issue(
    'apiserver',
    '/CN=kube-apiserver',
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:127.0.0.1,IP:10.96.0.1,${extraIpSans.map((ip) => `IP:${ip},`).join('')}` +
        'DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local',
      '',
    ].join('\n'),
  );
  issue(
    'admin',
    '/O=system:masters/CN=cdk8s-dask-admin',
    ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth', ''].join('\n'),
  );
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key']);
  openssl(dir, ['ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  const p = (f: string): string => path.join(dir, f);
  return {
    dir,
    ca: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

function writeKubeconfig(file: string, server: string, pki: Pki): void {
  const b64 = (f: string): string => fs.readFileSync(f).toString('base64');
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: cdk8s-dask-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.ca)}`,
    'users:',
    '- name: cdk8s-dask-admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    'contexts:',
    '- name: cdk8s-dask-local',
    '  context: {cluster: cdk8s-dask-local, user: cdk8s-dask-admin, namespace: default}',
    'current-context: cdk8s-dask-local',
    '',
  ].join('\n');
  fs.writeFileSync(file, text, { mode: 0o600 });
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** One HTTP(S) request (http: URLs go over plain HTTP), with a 5 s socket timeout; resolves with status and body. */
export function httpsRequest(
  url: string,
  opts: { method?: string; body?: string; ca?: Buffer; cert?: Buffer; key?: Buffer; insecure?: boolean },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('http:') ? http : https).request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        // Only for kcm/scheduler health probes on 127.0.0.1, whose serving certs are self-signed.
        rejectUnauthorized: !opts.insecure,
        headers: opts.body ? { 'content-type': 'application/json' } : undefined,
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

export function httpGet(url: string): Promise<HttpResult> {
  return httpsRequest(url, {});
}

/** Admin-authenticated JSON calls against the apiserver, for readiness checks (tests use client-node/kubectl). */
class AdminApi {
  private readonly ca: Buffer;
  private readonly cert: Buffer;
  private readonly key: Buffer;
  constructor(
    readonly server: string,
    pki: Pki,
  ) {
    this.ca = fs.readFileSync(pki.ca);
    this.cert = fs.readFileSync(pki.adminCert);
    this.key = fs.readFileSync(pki.adminKey);
  }
  request(method: string, p: string, body?: unknown): Promise<HttpResult> {
    return httpsRequest(this.server + p, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      ca: this.ca,
      cert: this.cert,
      key: this.key,
    });
  }
}

export function tail(file: string, lines = 40): string {
  try {
    const all = fs.readFileSync(file, 'utf8').split('\n');
    return all.slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Is `pid` alive and still running `exe` (guards against pid reuse)? */
export function isOurProcess(p: Pick<ClusterProcess, 'pid' | 'exe'>): boolean {
  try {
    const argv0 = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0];
    if (argv0 !== p.exe) return false;
    const stat = fs.readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function stopProcess(p: ClusterProcess, log: (l: string) => void): Promise<void> {
  if (!isOurProcess(p)) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await pollUntil(`${p.name} (pid ${p.pid}) to exit after SIGTERM`, 10_000, async () => (isOurProcess(p) ? undefined : true), 100);
  } catch {
    log(`${p.name} (pid ${p.pid}) ignored SIGTERM for 10 s; sending SIGKILL`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await pollUntil(`${p.name} (pid ${p.pid}) to exit after SIGKILL`, 5_000, async () => (isOurProcess(p) ? undefined : true), 100);
  }
}

/** Stops exactly the processes in `state` (by pid, newest first) and removes its temp dir. */
export async function stopCluster(state: ClusterState, log: (l: string) => void = defaultLog): Promise<void> {
  for (const p of [...state.processes].reverse()) {
    await stopProcess(p, log);
    log(`stopped ${p.name} (pid ${p.pid})`);
  }
  rmTree(state.dir);
  log(`removed ${state.dir}`);
}

/**
 * Last-resort synchronous cleanup for `process.on('exit')`: SIGKILLs whichever of the state's processes are
 * still ours and removes the temp dir. A no-op after a normal stopCluster.
 */
export function killClusterSync(state: ClusterState): void {
  for (const p of [...state.processes].reverse()) {
    if (!isOurProcess(p)) continue;
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  rmTree(state.dir);
}

export function rmTree(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

export function defaultLog(line: string): void {
  process.stderr.write(`[cluster] ${line}\n`);
}

/** Starts a cluster of the given tier. On failure, prints each component's log tail, stops what it started and throws. */
export async function startCluster(options: StartOptions = {}): Promise<ClusterState> {
  const tier: Tier = options.tier ?? 'full';
  if (tier === 'node' && !options.hooks?.afterNodes) {
    throw new Error('tier "node" needs its sandbox: start it with startNodeTier() (test/integration/support/node-tier.ts)');
  }
  const log = options.log ?? defaultLog;
  const t0 = Date.now();
  const binDir = options.binDir ?? resolveBinDir();
  const bin = (name: string): string => {
    const f = path.join(binDir, name);
    if (!fs.existsSync(f)) throw new Error(`missing ${f}: run \`npm run cluster:build\``);
    return f;
  };
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? fs.mkdtempSync(path.join(options.tmpRoot ?? os.tmpdir(), 'cdk8s-dask-cluster-'));
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const withNodes = TIERS.indexOf(tier) >= TIERS.indexOf('full');
  const processes: ClusterProcess[] = [];
  const children: ChildProcess[] = [];
  const ports: Record<string, number> = {};

  const start = (name: string, exe: string, args: string[], env?: NodeJS.ProcessEnv): ClusterProcess => {
    const logFile = path.join(logs, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    // detached: own process group, so the CLI can exit and leave the cluster running; stopped later by pid.
    const child = spawn(exe, args, { detached: true, stdio: ['ignore', fd, fd], cwd: dir, env: env ?? process.env });
    fs.closeSync(fd);
    if (child.pid === undefined) throw new Error(`could not start ${exe}`);
    child.unref();
    children.push(child);
    const p: ClusterProcess = { name, pid: child.pid, exe, log: logFile };
    processes.push(p);
    log(`started ${name} (pid ${p.pid}), log ${logFile}`);
    return p;
  };
  const alive = (p: ClusterProcess): void => {
    if (!isOurProcess(p)) throw new FatalProbeError(`${p.name} exited (the tail of its log follows)`);
  };
  const step = async <T>(what: string, timeoutMs: number, p: ClusterProcess | undefined, probe: () => Promise<T | undefined>): Promise<T> => {
    const s = Date.now();
    const v = await pollUntil(what, timeoutMs, async () => {
      if (p) alive(p);
      return probe();
    });
    log(`${what}: ok in ${Date.now() - s} ms`);
    return v;
  };

  try {
    if (options.apiserverPort !== undefined) ports.apiserver = options.apiserverPort;
    for (const k of ['etcd', 'etcdPeer', 'apiserver', 'controllerManager', 'scheduler']) {
      while (ports[k] === undefined) {
        const port = await freePort();
        if (!Object.values(ports).includes(port)) ports[k] = port;
      }
    }
    const pki = makePki(path.join(dir, 'pki'), options.serverIpSans);
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, server, pki);
    let adminApi: AdminApi | undefined;
    const ctx: StartContext = {
      tier, dir, logs, kubeconfig, server, ports, log, bin, start, step,
      api: (method, p, body) => {
        if (!adminApi) throw new Error('StartContext.api used before kube-apiserver started');
        return adminApi.request(method, p, body);
      },
    };
    await options.hooks?.beforeControlPlane?.(ctx);

    // etcd
    const etcdUrl = `http://127.0.0.1:${ports.etcd}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    const etcd = start('etcd', bin('etcd'), [
      '--name=local',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=local=${peerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await step('etcd /readyz', 30_000, etcd, async () => ((await httpGet(`${etcdUrl}/readyz`)).status === 200 ? true : undefined));

    // kube-apiserver
    const apiserver = start('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${options.bindAddress ?? '127.0.0.1'}`,
      `--advertise-address=${options.advertiseAddress ?? '127.0.0.1'}`,
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${path.join(dir, 'apiserver')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.ca}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=RBAC',
      // ServiceAccount admission would race pod creation in fresh namespaces against the default SA (kept where
      // Pods really run: serviceAccountAdmission); TaintNodesByCondition would keep the fake node tainted not-ready
      // until node-lifecycle catches up.
      `--disable-admission-plugins=${options.serviceAccountAdmission ? '' : 'ServiceAccount,'}TaintNodesByCondition`,
      // As hardened clusters (OpenShift and others) run it: setting ownerReferences needs delete on the object, and
      // blockOwnerDeletion needs update on the owner's finalizers, so the operator's RBAC is tested against both.
      '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      ...(options.apiserverArgs ?? []),
      '--v=1',
    ]);
    const api = new AdminApi(server, pki);
    adminApi = api;
    await step('kube-apiserver /readyz', 120_000, apiserver, async () => ((await api.request('GET', '/readyz')).status === 200 ? true : undefined));
    // The default namespace and the kubernetes Service appear shortly after readyz.
    await step('namespace default', 30_000, apiserver, async () => ((await api.request('GET', '/api/v1/namespaces/default')).status === 200 ? true : undefined));

    if (options.crdFiles && options.crdFiles.length > 0) {
      const s = Date.now();
      const args = ['--kubeconfig', kubeconfig, 'apply', '-f', '-'];
      const input = options.crdFiles.map((f) => fs.readFileSync(f, 'utf8')).join('\n---\n');
      execFileSync(bin('kubectl'), args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
      log(`applied ${options.crdFiles.length} CRD file(s) in ${Date.now() - s} ms`);
      // The garbage collector only learns resource types from discovery at start (then every 30 s): make sure every
      // CRD is Established and served in discovery before kube-controller-manager starts, or cascade deletion of
      // custom resources stalls for up to 30 s.
      await step('CRDs Established and in discovery', 60_000, apiserver, async () => {
        const r = await api.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
        if (r.status !== 200) return undefined;
        type Crd = { spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] }; status?: { conditions?: { type: string; status: string }[] } };
        const crds = (JSON.parse(r.body) as { items: Crd[] }).items;
        for (const crd of crds) {
          if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return undefined;
          for (const v of crd.spec.versions.filter((x) => x.served)) {
            const d = await api.request('GET', `/apis/${crd.spec.group}/${v.name}`);
            if (d.status !== 200) return undefined;
            const names = (JSON.parse(d.body) as { resources?: { name: string }[] }).resources?.map((x) => x.name) ?? [];
            if (!names.includes(crd.spec.names.plural)) return undefined;
          }
        }
        return true;
      });
    }

    if (tier !== 'api') {
      const controllers =
        tier === 'gc'
          ? ['--controllers=garbage-collector-controller,namespace-controller']
          : ['--controllers=*', `--root-ca-file=${pki.ca}`, `--service-account-private-key-file=${pki.saKey}`,
             `--cluster-signing-cert-file=${pki.ca}`, `--cluster-signing-key-file=${pki.caKey}`];
      const kcm = start('kube-controller-manager', bin('kube-controller-manager'), [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.controllerManager}`,
        `--cert-dir=${path.join(dir, 'kube-controller-manager')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        ...controllers,
        '--v=1',
      ]);
      await step('kube-controller-manager /healthz', 60_000, kcm, async () =>
        (await httpsRequest(`https://127.0.0.1:${ports.controllerManager}/healthz`, { insecure: true })).status === 200 ? true : undefined,
      );
    }

    let nodeName: string | undefined;
    if (withNodes) {
      const schedConfig = path.join(dir, 'kube-scheduler.yaml');
      fs.writeFileSync(
        schedConfig,
        [
          'apiVersion: kubescheduler.config.k8s.io/v1',
          'kind: KubeSchedulerConfiguration',
          'clientConnection:',
          `  kubeconfig: ${JSON.stringify(kubeconfig)}`,
          'leaderElection:',
          '  leaderElect: false',
          '',
        ].join('\n'),
      );
      const sched = start('kube-scheduler', bin('kube-scheduler'), [
        `--config=${schedConfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.scheduler}`,
        `--cert-dir=${path.join(dir, 'kube-scheduler')}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--v=1',
      ]);
      await step('kube-scheduler /healthz', 60_000, sched, async () =>
        (await httpsRequest(`https://127.0.0.1:${ports.scheduler}/healthz`, { insecure: true })).status === 200 ? true : undefined,
      );

      const kwok = start('kwok', bin('kwok'), [
        `--kubeconfig=${kubeconfig}`,
        `--config=${STAGES_FILE}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        `--cidr=${POD_CIDR}`,
        '--node-ip=127.0.0.1',
        '--node-lease-duration-seconds=40',
      ]);
      nodeName = FAKE_NODE_NAME;
      const count = options.fakeNodes ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new Error(`startCluster: fakeNodes must be a positive integer, got ${count}`);
      const names = Array.from({ length: count }, (_, i) => (i === 0 ? FAKE_NODE_NAME : `kwok-node-${i}`));
      await step(count === 1 ? 'fake node created' : `${count} fake nodes created`, 30_000, kwok, async () => {
        for (const name of names) {
          const r = await api.request('POST', '/api/v1/nodes', fakeNode(name, options.fakeNodeTaints ?? []));
          if (r.status !== 201 && r.status !== 409) throw new Error(`POST node ${name}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
        }
        return true;
      });
      await step(count === 1 ? `node ${nodeName} Ready (kwok)` : `${count} fake nodes Ready (kwok)`, 60_000, kwok, async () => {
        for (const name of names) {
          const r = await api.request('GET', `/api/v1/nodes/${name}`);
          if (r.status !== 200) throw new Error(`GET node ${name}: HTTP ${r.status}`);
          const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
          if (!node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
        }
        return true;
      });
    }

    const extra = (await options.hooks?.afterNodes?.(ctx)) ?? {};

    const state: ClusterState = {
      tier,
      dir,
      kubeconfig,
      server,
      binDir,
      nodeName,
      ...extra,
      ports,
      processes,
      startedAt: new Date(t0).toISOString(),
      startupMs: Date.now() - t0,
    };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
    log(`cluster (tier ${tier}) up in ${state.startupMs} ms`);
    return state;
  } catch (err) {
    log(`cluster start failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const p of processes) log(`---- last lines of ${p.name} (${p.log}) ----\n${tail(p.log)}`);
    for (const p of [...processes].reverse()) await stopProcess(p, log).catch(() => undefined);
    if (ownDir) rmTree(dir);
    throw err;
  }
}

function fakeNode(name: string, taints: readonly { key: string; value?: string; effect: string }[]): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    ...(taints.length > 0 ? { spec: { taints } } : {}),
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        type: 'kwok',
      },
    },
  };
}

export function readState(file: string): ClusterState {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterState;
}

/**
 * Restarts one component of a running cluster with the same command line and log file (e.g. to prove that clients
 * survive a kube-apiserver restart). Returns the updated state; pass that one to stopCluster.
 */
export async function restartComponent(state: ClusterState, name: string, log: (l: string) => void = defaultLog): Promise<ClusterState> {
  const p = state.processes.find((x) => x.name === name);
  if (!p) throw new Error(`no component ${name} in this cluster (have ${state.processes.map((x) => x.name).join(', ')})`);
  if (!isOurProcess(p)) throw new Error(`${name} (pid ${p.pid}) is not running`);
  const [exe, ...args] = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').filter((s, i, a) => i < a.length - 1 || s !== '');
  await stopProcess(p, log);
  const fd = fs.openSync(p.log, 'a');
  // Node tier: back into the sandbox's namespaces (nsenter execs the command: the pid stays the component's).
  const argv = state.node ? ['nsenter', `--target=${state.node.holder.pid}`, '--net', '--mount', '--', exe, ...args] : [exe, ...args];
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], cwd: state.dir });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not restart ${name}`);
  child.unref();
  log(`restarted ${name} (pid ${p.pid} -> ${child.pid})`);
  const next: ClusterProcess = { ...p, pid: child.pid };
  return { ...state, processes: state.processes.map((x) => (x === p ? next : x)) };
}
