import * as fs from 'node:fs';
import type * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadKubeTarget, toKubeTarget } from '../../../operator/runtime/kubeconfig';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const write = (name: string, lines: string[]): string => {
  const file = path.join(home, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
};
const applied = async (t: { applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }): Promise<https.RequestOptions> => {
  const opts: https.RequestOptions = { headers: {} };
  await t.applyToHTTPSOptions(opts);
  return opts;
};
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('loadKubeTarget', () => {
  test('nothing to load: says what is missing instead of defaulting to http://localhost:8080', async () => {
    await expect(loadKubeTarget({ env: {}, home })).rejects.toThrow(/no kubeconfig: pass --kubeconfig, set KUBECONFIG/);
  });

  test('in a Pod without a ServiceAccount token: names the token file and automountServiceAccountToken', async () => {
    await expect(loadKubeTarget({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, home, serviceAccountDir: path.join(home, 'no-sa') }))
      .rejects.toThrow(/no ServiceAccount token at .*no-sa\/token: set automountServiceAccountToken: true/);
  });

  test('in a Pod: the Service host (IPv6 bracketed) and port, the CA, and the token re-read from its file', async () => {
    const sa = path.join(home, 'sa');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), 'tok-1\n');
    fs.writeFileSync(path.join(sa, 'ca.crt'), 'CA PEM');
    const t = await loadKubeTarget({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, home, serviceAccountDir: sa });
    expect(t.server).toBe('https://[fd00::1]:6443');
    const o = await applied(t);
    expect(o.headers).toEqual({ Authorization: 'Bearer tok-1' });
    expect(String(o.ca)).toBe('CA PEM');
    expect(o.agent).toBeDefined();
  });

  test('a kubeconfig with inline client certificate and CA, and the chosen context', async () => {
    const file = write('certs', [
      'apiVersion: v1', 'kind: Config', 'current-context: a',
      'clusters:', `- {name: ca, cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ${b64('CA')}}}`, '- {name: cb, cluster: {server: "https://10.0.0.2:443", insecure-skip-tls-verify: true, tls-server-name: api.internal}}',
      'users:', `- {name: ua, user: {client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}}}`, '- {name: ub, user: {token: secret}}',
      'contexts:', '- {name: a, context: {cluster: ca, user: ua}}', '- {name: b, context: {cluster: cb, user: ub}}',
    ]);
    const a = await loadKubeTarget({ kubeconfig: file, env: {}, home });
    expect(a.server).toBe('https://127.0.0.1:6443');
    const oa = await applied(a);
    expect([String(oa.ca), String(oa.cert), String(oa.key), oa.headers]).toEqual(['CA', 'CERT', 'KEY', {}]);
    const b = await loadKubeTarget({ kubeconfig: file, context: 'b', env: {}, home });
    const ob = await applied(b);
    expect([b.server, ob.rejectUnauthorized, ob.servername, ob.headers]).toEqual(['https://10.0.0.2:443', false, 'api.internal', { Authorization: 'Bearer secret' }]);
  });

  test('file references are relative to the kubeconfig; KUBECONFIG lists merge, the first file naming an entry wins', async () => {
    fs.writeFileSync(path.join(home, 'ca.pem'), 'CA FROM FILE');
    fs.writeFileSync(path.join(home, 'tokenfile'), 'from-file');
    const first = write('first', ['current-context: x', 'clusters: [{name: c, cluster: {server: "https://first:6443", certificate-authority: ca.pem}}]', 'users: [{name: u, user: {tokenFile: tokenfile}}]']);
    const second = write('second', ['current-context: ignored', 'clusters: [{name: c, cluster: {server: "https://second:6443"}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}]']);
    const t = await loadKubeTarget({ env: { KUBECONFIG: `${first}${path.delimiter}${second}` }, home });
    expect(t.server).toBe('https://first:6443');
    const o = await applied(t);
    expect([String(o.ca), o.headers]).toEqual(['CA FROM FILE', { Authorization: 'Bearer from-file' }]);
  });

  test('a plain-HTTP server (a test proxy) gets no TLS agent', async () => {
    const file = write('plain', ['current-context: p', 'clusters: [{name: c, cluster: {server: "http://127.0.0.1:8001", insecure-skip-tls-verify: true}}]', 'users: [{name: u, user: {}}]', 'contexts: [{name: p, context: {cluster: c, user: u}}]']);
    const o = await applied(await loadKubeTarget({ kubeconfig: file, env: {}, home }));
    expect(o.agent).toBeUndefined();
  });

  test('errors name the file and what is wrong', async () => {
    const noCtx = write('no-ctx', ['clusters: [{name: c, cluster: {server: "https://x"}}]']);
    await expect(loadKubeTarget({ kubeconfig: noCtx, env: {}, home })).rejects.toThrow(/no-ctx has no current-context; pass --context/);
    const badCtx = write('bad-ctx', ['current-context: nope', 'contexts: [{name: a, context: {cluster: c}}]']);
    await expect(loadKubeTarget({ kubeconfig: badCtx, env: {}, home })).rejects.toThrow(/context "nope" is not in the kubeconfig .*bad-ctx; contexts there: a/);
    const noServer = write('no-server', ['current-context: a', 'contexts: [{name: a, context: {cluster: c}}]', 'clusters: [{name: c, cluster: {}}]']);
    await expect(loadKubeTarget({ kubeconfig: noServer, env: {}, home })).rejects.toThrow(/context "a" names no cluster with a server/);
    const broken = write('broken', ['clusters: [unclosed']);
    await expect(loadKubeTarget({ kubeconfig: broken, env: {}, home })).rejects.toThrow(/could not read the kubeconfig .*broken/);
  });

  test('an exec credential plugin is handed to client-node\'s KubeConfig, which runs it', async () => {
    const plugin = path.join(home, 'cred.sh');
    fs.writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\'\n', { mode: 0o755 });
    const file = write('exec', [
      'current-context: e', 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]', 'contexts: [{name: e, context: {cluster: c, user: u}}]',
      `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${plugin}, interactiveMode: Never}}}]`,
    ]);
    const t = await loadKubeTarget({ kubeconfig: file, env: {}, home });
    expect(t.server).toBe('https://127.0.0.1:6443');
    expect((await applied(t)).headers).toMatchObject({ Authorization: 'Bearer from-exec' });
  });
});

describe('toKubeTarget', () => {
  test('adapts client-node\'s KubeConfig shape and says when it has no current cluster', async () => {
    const t = toKubeTarget({ getCurrentCluster: () => null, applyToHTTPSOptions: async () => undefined } as never);
    expect(() => t.server).toThrow(/no current cluster/);
  });
});
