/**
 * A fault-injecting proxy in front of the test cluster's API server, for showing that the operator survives refused
 * writes: plain HTTP on 127.0.0.1 (its own kubeconfig, no credentials; client-node insists on
 * insecure-skip-tls-verify for a plain-HTTP server), forwarded over HTTPS with the admin client certificate.
 * Requests pass through untouched (watches are streamed) unless a rule matches: then the proxy answers itself, e.g.
 * 429 TooManyRequests with a Kubernetes Status body, the given number of times, and records it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { kubeConfig } from './kube';

export interface FaultRule {
  readonly method: string;
  /** Matched against the request path (without the query). */
  readonly path: RegExp;
  /** Matched against the request body, when given (bodies are buffered for matching requests only). */
  readonly body?: RegExp;
  /** How many matching requests to refuse. */
  readonly times: number;
  /** @default 429 */
  readonly status?: number;
}

export interface InjectedFault {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly at: Date;
}

export class FaultProxy {
  readonly injected: InjectedFault[] = [];
  private readonly left = new Map<FaultRule, number>();
  private server?: http.Server;
  private dir?: string;
  /** Path of a kubeconfig that points at the proxy. */
  kubeconfig = '';

  constructor(private readonly rules: readonly FaultRule[]) {
    for (const r of rules) this.left.set(r, r.times);
  }

  async start(): Promise<void> {
    const kc = kubeConfig();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the test kubeconfig has no current cluster');
    const upstream = new URL(cluster.server);
    const tls: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    const agent = new https.Agent({ ca: tls.ca, cert: tls.cert, key: tls.key, keepAlive: true });
    this.server = http.createServer((req, res) => {
      const pathname = (req.url ?? '/').split('?')[0];
      const candidates = this.rules.filter((r) => r.method === req.method && r.path.test(pathname) && (this.left.get(r) ?? 0) > 0);
      const forward = (body?: Buffer): void => {
        const headers = { ...req.headers, host: upstream.host };
        const out = https.request({ protocol: 'https:', hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', (e) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`fault proxy: ${e.message}`);
        });
        res.on('close', () => out.destroy());
        if (body) out.end(body);
        else req.pipe(out);
      };
      if (candidates.length === 0) return forward();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const rule = candidates.find((r) => !r.body || r.body.test(body.toString('utf8')));
        if (!rule) return forward(body);
        this.left.set(rule, (this.left.get(rule) ?? 1) - 1);
        const status = rule.status ?? 429;
        this.injected.push({ method: req.method as string, path: pathname, status, at: new Date() });
        res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'TooManyRequests', code: status, message: 'injected by the test fault proxy' }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-proxy-'));
    this.kubeconfig = path.join(this.dir, 'kubeconfig');
    fs.writeFileSync(this.kubeconfig, [
      'apiVersion: v1', 'kind: Config', 'current-context: proxy',
      'clusters:', `- name: proxy`, `  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
      'users:', '- name: proxy', '  user: {}',
      'contexts:', '- name: proxy', '  context: {cluster: proxy, user: proxy}', '',
    ].join('\n'));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
