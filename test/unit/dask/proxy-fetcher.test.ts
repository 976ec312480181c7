import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { apiServerFetcher } from '../../../operator/dask/proxy-fetcher';
import { createSchedulerClient, serviceProxyBaseUrl } from '../../../operator/scheduler';

describe('scheduler access through the API server service proxy', () => {
  let server: http.Server;
  let base: string;
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        if (req.headers.authorization !== 'Bearer s3cret') {
          res.writeHead(401).end('{"kind":"Status","code":401}');
        } else if (req.url === '/api/v1/namespaces/ns/services/c1-scheduler:http-dashboard/proxy/api/v1/adaptive_target') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"workers": 7}');
        } else {
          res.writeHead(404).end('not found');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  test('the scheduler client reads the adaptive target via the proxy path, authenticated with the kubeconfig', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: base, skipTLSVerify: true }],
      users: [{ name: 'u', token: 's3cret' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = createSchedulerClient({ httpBaseUrl: serviceProxyBaseUrl({ apiServer: base, namespace: 'ns', cluster: 'c1' }), fetch: apiServerFetcher(kc), timeoutMs: 2000, retries: 0 });
    await expect(client.adaptiveTarget()).resolves.toBe(7);
    expect(seen.at(-1)).toMatchObject({ method: 'GET', auth: 'Bearer s3cret' });
    await client.close();
  });
});
