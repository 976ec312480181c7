/**
 * The operator's HTTP endpoint (node:http): `/metrics` (Prometheus text), `/healthz` (the process
 * is alive and its event loop answers) and `/readyz` (informer caches synced; leaders and standbys
 * are both ready). Bind 0.0.0.0:8080 in a cluster; tests use 127.0.0.1:0.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nullLogger, type Logger } from './logger';
import type { RuntimeMetrics } from './metrics';

/** A readiness or liveness answer. */
export interface CheckResult {
  readonly ok: boolean;
  /** A line of text explaining the answer (shown in the body). */
  readonly detail: string;
}

/** Options for {@link startHealthServer}. */
export interface HealthServerOptions {
  /** @default '0.0.0.0' */
  readonly host?: string;
  /** 0 picks a free port. @default 8080 */
  readonly port?: number;
  /** Served on /metrics when given. */
  readonly metrics?: RuntimeMetrics;
  /** Readiness check for /readyz. @default always ready */
  readonly readyz?: () => CheckResult;
  /** Liveness check for /healthz. @default always ok */
  readonly healthz?: () => CheckResult;
  /** @default nullLogger */
  readonly logger?: Logger;
}

/** A running health/metrics server. */
export interface HealthServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startHealthServer(opts: HealthServerOptions = {}): Promise<HealthServer> {
  const logger = opts.logger ?? nullLogger;
  const ok: () => CheckResult = () => ({ ok: true, detail: 'ok' });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    if (path === '/healthz' || path === '/readyz') {
      const r = (path === '/healthz' ? (opts.healthz ?? ok) : (opts.readyz ?? ok))();
      return send(r.ok ? 200 : 503, `${r.detail}\n`);
    }
    if (path === '/metrics' && opts.metrics) {
      const m = opts.metrics;
      m.text().then(
        (text) => send(200, text, m.contentType),
        (e: unknown) => {
          logger.error('could not render metrics', { error: e });
          send(500, 'could not render metrics\n');
        },
      );
      return;
    }
    send(404, 'not found\n');
  });
  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('health server listening', { host, port });
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
