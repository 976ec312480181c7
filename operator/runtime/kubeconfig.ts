/**
 * Where the operator's API server is and how to authenticate to it, without @kubernetes/client-node.
 *
 * Importing client-node loads its generated API models: about 80 MiB of resident memory before the operator has
 * done anything (measured: 42 MiB for a bare Node 24 process, 122 MiB after `require('@kubernetes/client-node')`;
 * bench/results/operator-memory-*.md). The operator itself only needs a server URL, TLS material and a credential,
 * so this module reads kubeconfig files and the in-cluster ServiceAccount itself, and loads client-node only for
 * credentials it does not implement (exec plugins, auth providers), where it hands over to client-node's KubeConfig.
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';

/** The API server and how to reach it: what KubeRest and the service-proxy fetcher need. */
export interface KubeTarget {
  /** Base URL of the API server, e.g. https://10.96.0.1:443. */
  readonly server: string;
  /** Sets TLS material, credentials and the connection agent on the options of one request. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

/** The part of client-node's KubeConfig a KubeTarget can be made from (tests and the client pass one). */
export type KubeConfigLike = Pick<KubeConfig, 'getCurrentCluster' | 'applyToHTTPSOptions'>;

/** A KubeTarget, or client-node's KubeConfig (adapted). */
export function toKubeTarget(t: KubeTarget | KubeConfigLike): KubeTarget {
  if ('server' in t) return t;
  const kc = t;
  return {
    get server(): string {
      const server = kc.getCurrentCluster()?.server;
      if (!server) throw new Error('could not call the API server: the kubeconfig has no current cluster');
      return server;
    },
    applyToHTTPSOptions: (opts) => kc.applyToHTTPSOptions(opts),
  };
}

/** Options for {@link loadKubeTarget}. */
export interface LoadKubeTargetOptions {
  /** Path of a kubeconfig file. @default $KUBECONFIG (a list: the first file naming an entry wins), ~/.kube/config, then the in-cluster ServiceAccount */
  readonly kubeconfig?: string;
  /** Context to use. @default the file's current-context */
  readonly context?: string;
  /** For tests: the environment. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For tests: the ServiceAccount directory (token, ca.crt). @default /var/run/secrets/kubernetes.io/serviceaccount */
  readonly serviceAccountDir?: string;
  /** For tests: the home directory. @default os.homedir() */
  readonly home?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is read again when its copy is older than this (bound tokens are rotated by the kubelet). */
const TOKEN_REREAD_MS = 60_000;
/** Idle keep-alive connections to the API server kept for reuse (active ones, watches included, are not limited). */
export const MAX_IDLE_API_CONNECTIONS = 4;

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  'current-context'?: string;
}

/**
 * Loads the API server and credentials: an explicit file, else $KUBECONFIG or ~/.kube/config, else the in-cluster
 * ServiceAccount. Never falls back to http://localhost:8080: with nothing to load it says what is missing.
 */
export async function loadKubeTarget(opts: LoadKubeTargetOptions = {}): Promise<KubeTarget> {
  const env = opts.env ?? process.env;
  const homeConfig = path.join(opts.home ?? os.homedir(), '.kube', 'config');
  const files = opts.kubeconfig ? [opts.kubeconfig] : env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter).filter(Boolean) : fs.existsSync(homeConfig) ? [homeConfig] : [];
  if (files.length > 0) return fromFiles(files, opts.context);
  if (env.KUBERNETES_SERVICE_HOST) return inCluster(env, opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  throw new Error(`no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ${homeConfig}, or run the operator in a Pod with a ServiceAccount`);
}

function inCluster(env: Readonly<Record<string, string | undefined>>, dir: string): KubeTarget {
  const tokenFile = path.join(dir, 'token');
  if (!fs.existsSync(tokenFile)) {
    throw new Error(
      `running in a Pod (KUBERNETES_SERVICE_HOST is set) but there is no ServiceAccount token at ${tokenFile}: ` +
        'set automountServiceAccountToken: true on the operator Pod or its ServiceAccount (the DaskOperator construct does), ' +
        'and check that the cluster runs the ServiceAccount admission plugin; or pass --kubeconfig',
    );
  }
  const host = env.KUBERNETES_SERVICE_HOST as string;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const caFile = path.join(dir, 'ca.crt');
  return new StaticTarget(`https://${host.includes(':') ? `[${host}]` : host}:${port}`, {
    ca: fs.existsSync(caFile) ? fs.readFileSync(caFile) : undefined,
    tokenFile,
  });
}

async function fromFiles(files: string[], context: string | undefined): Promise<KubeTarget> {
  // The first file that names an entry wins (kubectl's merge rule for KUBECONFIG lists); relative paths inside a file
  // are relative to that file.
  const clusters = new Map<string, { cluster: Record<string, unknown>; dir: string }>();
  const users = new Map<string, { user: Record<string, unknown>; dir: string }>();
  const contexts = new Map<string, { cluster?: string; user?: string }>();
  let current: string | undefined;
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    let doc: KubeconfigFile;
    try {
      doc = (parse(fs.readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
    } catch (e) {
      throw new Error(`could not read the kubeconfig ${file}: ${(e as Error).message}`);
    }
    const dir = path.dirname(path.resolve(file));
    for (const c of doc.clusters ?? []) if (!clusters.has(c.name)) clusters.set(c.name, { cluster: c.cluster ?? {}, dir });
    for (const u of doc.users ?? []) if (!users.has(u.name)) users.set(u.name, { user: u.user ?? {}, dir });
    for (const c of doc.contexts ?? []) if (!contexts.has(c.name)) contexts.set(c.name, c.context ?? {});
    current ??= doc['current-context'] || undefined;
  }
  const where = files.join(path.delimiter);
  const name = context ?? current;
  if (!name) throw new Error(`the kubeconfig ${where} has no current-context; pass --context`);
  const ctx = contexts.get(name);
  if (!ctx) throw new Error(`context "${name}" is not in the kubeconfig ${where}; contexts there: ${[...contexts.keys()].join(', ') || 'none'}`);
  const cluster = ctx.cluster ? clusters.get(ctx.cluster) : undefined;
  if (!cluster || typeof cluster.cluster.server !== 'string') {
    throw new Error(`could not load a kubeconfig from ${where}: context "${name}" names no cluster with a server; fix the file or pass --kubeconfig`);
  }
  const user = ctx.user ? users.get(ctx.user) : undefined;
  const u = user?.user ?? {};
  if (u.exec || u['auth-provider'] || cluster.cluster['proxy-url']) {
    // Credentials this module does not implement: client-node's KubeConfig does (and costs its memory).
    const { KubeConfig: ClientKubeConfig } = await import('@kubernetes/client-node');
    const kc = new ClientKubeConfig();
    if (files.length === 1) kc.loadFromFile(files[0]);
    else kc.loadFromDefault();
    kc.setCurrentContext(name);
    return toKubeTarget(kc);
  }
  const c = cluster.cluster;
  const read = (inline: unknown, file: unknown, base: string): Buffer | undefined => {
    if (typeof inline === 'string' && inline) return Buffer.from(inline, 'base64');
    if (typeof file === 'string' && file) return fs.readFileSync(path.resolve(base, file));
    return undefined;
  };
  return new StaticTarget(c.server as string, {
    ca: read(c['certificate-authority-data'], c['certificate-authority'], cluster.dir),
    insecure: c['insecure-skip-tls-verify'] === true,
    servername: typeof c['tls-server-name'] === 'string' ? c['tls-server-name'] : undefined,
    cert: read(u['client-certificate-data'], u['client-certificate'], user?.dir ?? '.'),
    key: read(u['client-key-data'], u['client-key'], user?.dir ?? '.'),
    token: typeof u.token === 'string' ? u.token : undefined,
    tokenFile: typeof u.tokenFile === 'string' ? path.resolve(user?.dir ?? '.', u.tokenFile) : undefined,
    basic: typeof u.username === 'string' ? `${u.username}:${typeof u.password === 'string' ? u.password : ''}` : undefined,
  });
}

interface Credentials {
  readonly ca?: Buffer;
  readonly insecure?: boolean;
  readonly servername?: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly basic?: string;
}

/** A server with fixed TLS material and a static (or file-backed, re-read) credential, over one keep-alive agent. */
class StaticTarget implements KubeTarget {
  private readonly agent: https.Agent;
  private token?: { value: string; readAt: number };

  constructor(
    readonly server: string,
    private readonly creds: Credentials,
  ) {
    this.agent = new https.Agent({
      keepAlive: true,
      maxFreeSockets: MAX_IDLE_API_CONNECTIONS,
      ca: creds.ca,
      cert: creds.cert,
      key: creds.key,
      servername: creds.servername,
      ...(creds.insecure ? { rejectUnauthorized: false } : {}),
    });
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    if (this.server.startsWith('https:')) opts.agent = this.agent; // a plain-HTTP server (a test proxy) gets Node's default
    if (this.creds.ca) opts.ca = this.creds.ca;
    if (this.creds.cert) opts.cert = this.creds.cert;
    if (this.creds.key) opts.key = this.creds.key;
    if (this.creds.servername) opts.servername = this.creds.servername;
    if (this.creds.insecure) opts.rejectUnauthorized = false;
    const token = this.bearer();
    if (token) opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${token}` };
    else if (this.creds.basic) opts.auth = this.creds.basic;
  }

  private bearer(): string | undefined {
    if (this.creds.token) return this.creds.token;
    if (!this.creds.tokenFile) return undefined;
    const now = Date.now();
    if (!this.token || now - this.token.readAt > TOKEN_REREAD_MS) {
      this.token = { value: fs.readFileSync(this.creds.tokenFile, 'utf8').trim(), readAt: now };
    }
    return this.token.value;
  }
}
