/**
 * Real Kueue against the test cluster: the controller manager built from the Go module proxy by hack/kueue/build.sh
 * (npm test builds it first), its CRDs and webhook manifests from the same module.
 *
 * `KueueProcess.start()` installs the CRDs, makes a CA and a serving certificate for 127.0.0.1 with openssl, starts
 * the manager (webhooks on 127.0.0.1, no leader election, internal certificate management and the visibility server
 * off, DaskJob registered as an external framework) and registers the webhooks of Kueue's own kinds with URL client
 * configs pointing at it. Kueue reads its metrics certificate from a fixed path (/etc/kueue/metrics/certs) when it
 * does not manage certificates itself, so the manager runs in a private mount namespace whose /etc is an overlay:
 * the certificate is written there and the host's /etc is never touched. `stop()` removes the webhook
 * configurations, stops the manager by pid (after checking /proc/PID/cmdline) and removes the temp dir.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './cluster';
import { testCluster } from './env';
import { eventually } from './eventually';
import { kubectl } from './kube';

const WEBHOOK_CONFIG_PREFIX = 'cdk8s-dask-kueue';

/** The Kueue cache dir (bin/kueue, crds/, webhook/), or an error saying how to build it. */
export function kueueDir(): string {
  try {
    return execFileSync('bash', [path.join(REPO_ROOT, 'hack', 'kueue', 'build.sh'), '--print-dir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    throw new Error('Kueue is not built: run `bash hack/kueue/build.sh` (npm test does it before Jest)');
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A CA and a serving certificate for 127.0.0.1 (the apiserver dials the webhooks there). */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  fs.mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-days', '2', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=cdk8s-dask-kueue-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature']);
  fs.writeFileSync(path.join(dir, 'tls.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, ['req', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=kueue-webhook']);
  openssl(dir, ['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'tls.crt', '-extfile', 'tls.ext']);
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key') };
}

interface Webhook { name: string; clientConfig: Record<string, unknown>; rules?: { apiGroups?: string[] }[]; [k: string]: unknown }
interface WebhookConfig { apiVersion: string; kind: string; metadata: { name: string }; webhooks: Webhook[] }

/** Kueue's own webhooks (rules on kueue.x-k8s.io) from the module's manifests, pointed at https://127.0.0.1:port. */
function webhookConfigs(manifests: string, port: number, caBundle: string): WebhookConfig[] {
  return parseAllDocuments(manifests).map((d) => d.toJSON() as WebhookConfig).filter((d) => d?.webhooks).map((cfg) => ({
    apiVersion: cfg.apiVersion,
    kind: cfg.kind,
    metadata: { name: `${WEBHOOK_CONFIG_PREFIX}-${cfg.kind === 'MutatingWebhookConfiguration' ? 'mutating' : 'validating'}` },
    webhooks: cfg.webhooks
      .filter((w) => (w.rules ?? []).some((r) => (r.apiGroups ?? []).includes('kueue.x-k8s.io')))
      .map((w) => {
        const svc = (w.clientConfig as { service?: { path?: string } }).service;
        return { ...w, clientConfig: { url: `https://127.0.0.1:${port}${svc?.path ?? ''}`, caBundle } };
      }),
  }));
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

export class KueueProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly logFile: string,
    private readonly exited: Promise<void>,
  ) {}

  /** Installs Kueue's CRDs and webhooks and starts its controller manager; resolves once it is ready. */
  static async start(): Promise<KueueProcess> {
    const root = kueueDir();
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', path.join(root, 'crds')], { timeoutMs: 120_000 });
    await kubectl(['wait', '--for', 'condition=established', '--timeout=60s', '-f', path.join(root, 'crds')], { timeoutMs: 70_000 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-dask-kueue-'));
    const certs = makeCerts(path.join(dir, 'certs'));
    const [webhookPort, healthPort] = [await freePort(), await freePort()];
    const config = [
      'apiVersion: config.kueue.x-k8s.io/v1beta2',
      'kind: Configuration',
      'namespace: kueue-system',
      'health:', `  healthProbeBindAddress: 127.0.0.1:${healthPort}`,
      'metrics:', '  bindAddress: "0"',
      'webhook:', `  host: 127.0.0.1`, `  port: ${webhookPort}`, `  certDir: ${path.join(dir, 'certs')}`,
      'leaderElection:', '  leaderElect: false',
      'internalCertManagement:', '  enable: false',
      'manageJobsWithoutQueueName: false',
      'integrations:', '  frameworks: ["batch/job"]', '  externalFrameworks: ["DaskJob.v1.kubernetes.dask.org"]',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'config.yaml'), config);
    const logFile = path.join(dir, 'kueue.log');
    const fd = fs.openSync(logFile, 'a');
    const upper = path.join(dir, 'etc-upper');
    const work = path.join(dir, 'etc-work');
    fs.mkdirSync(upper);
    fs.mkdirSync(work);
    const script = [
      'set -e',
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${upper},workdir=${work} /etc`,
      'mkdir -p /etc/kueue/metrics/certs',
      `cp ${certs.cert} ${certs.key} /etc/kueue/metrics/certs/`,
      `exec ${path.join(root, 'bin', 'kueue')} --config=${path.join(dir, 'config.yaml')} --feature-gates=VisibilityOnDemand=false --zap-log-level=info`,
    ].join('\n');
    const unshare = process.getuid?.() === 0 ? ['-m', '--propagation', 'private'] : ['-r', '-m', '--propagation', 'private'];
    const child = spawn('unshare', [...unshare, '--', 'sh', '-c', script], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, KUBECONFIG: testCluster().kubeconfig },
    });
    fs.closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const onExit = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    process.once('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    const kueue = new KueueProcess(child, dir, logFile, exited);
    try {
      await eventually(async () => {
        if (child.exitCode !== null) throw new Error(`kueue exited with ${child.exitCode}:\n${kueue.tail(40)}`);
        expect(await httpStatus(`http://127.0.0.1:${healthPort}/readyz`)).toBe(200);
      }, { timeoutMs: 120_000, intervalMs: 500, describe: 'the Kueue manager ready (/readyz)' });
      const caBundle = fs.readFileSync(certs.ca).toString('base64');
      const configs = webhookConfigs(fs.readFileSync(path.join(root, 'webhook', 'manifests.yaml'), 'utf8'), webhookPort, caBundle);
      await kubectl(['apply', '-f', '-'], { input: configs.map((c) => JSON.stringify(c)).join('\n') });
    } catch (e) {
      await kueue.stop();
      throw e;
    }
    return kueue;
  }

  tail(lines = 60): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '';
    }
  }

  /** Removes the webhook configurations, stops the manager (SIGTERM, then SIGKILL) and removes the temp dir. */
  async stop(): Promise<void> {
    await kubectl(['delete', `mutatingwebhookconfiguration/${WEBHOOK_CONFIG_PREFIX}-mutating`, `validatingwebhookconfiguration/${WEBHOOK_CONFIG_PREFIX}-validating`, '--ignore-not-found'], { allowFailure: true });
    const pid = this.child.pid;
    if (pid && this.child.exitCode === null && this.child.signalCode === null && isKueue(pid)) {
      process.kill(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000)))]);
      clearTimeout(timer);
      if (!gone && isKueue(pid)) process.kill(pid, 'SIGKILL');
      await this.exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether `pid` is still our Kueue manager (never signal a reused pid). */
function isKueue(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kueue');
  } catch {
    return false;
  }
}
