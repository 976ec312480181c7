/**
 * An HTTP transport for the scheduler client that goes through the Kubernetes API server's service proxy
 * (`/api/v1/namespaces/{ns}/services/{svc}:{port}/proxy/...`) with the kubeconfig's credentials, so an operator
 * running outside the cluster can still reach schedulers' HTTP API. (Dask's TCP protocol cannot go this way.)
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { toKubeTarget, type KubeConfigLike, type KubeTarget } from '../runtime/kubeconfig';
import { DEFAULT_USER_AGENT } from '../runtime/rest';
import { MAX_HTTP_BODY_BYTES, SchedulerProtocolError, type HttpFetcher } from '../scheduler';

export function apiServerFetcher(target: KubeTarget | KubeConfigLike): HttpFetcher {
  const kc = toKubeTarget(target);
  return async (url, init) => {
    const options: https.RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(options);
    const target = new URL(url);
    const mod = target.protocol === 'http:' ? http : https;
    const headers: http.OutgoingHttpHeaders = { 'User-Agent': DEFAULT_USER_AGENT, ...(options.headers as http.OutgoingHttpHeaders), ...init.headers };
    const payload = init.body === undefined ? undefined : Buffer.from(init.body);
    if (payload) headers['Content-Length'] = payload.length;
    return await new Promise((resolve, reject) => {
      const max = init.maxBodyBytes ?? MAX_HTTP_BODY_BYTES;
      const req = mod.request(target, { ...options, method: init.method, headers, signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        let total = 0;
        const tooLarge = (n: string): void => {
          // Stop reading at once: the socket is destroyed, so the rest of the body is never received.
          req.destroy();
          reject(new SchedulerProtocolError(`${init.method} ${url} answered with a body of ${n} bytes, more than the ${max} this client reads; closed the connection`, url));
        };
        const announced = Number(res.headers['content-length'] ?? Number.NaN);
        if (announced > max) return tooLarge(String(announced));
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (total > max) return tooLarge(`over ${max}`);
          chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks, total).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text: async () => body });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  };
}
