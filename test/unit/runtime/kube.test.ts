import { ApiException } from '@kubernetes/client-node';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isAlreadyExists, isConflict, isGone, isNotFound, kubeStatusOf, loadKubeConfig, statusCodeOf } from '../../../operator/runtime/kube';
import { KubeHttpError } from '../../../operator/runtime/rest';
import { TerminalError, isTerminalError } from '../../../operator/runtime/reconcile';
import { objectKey, parseKey } from '../../../operator/runtime/object';

const apiErr = (code: number, reason: string) =>
  new ApiException<string>(code, 'failed', JSON.stringify({ kind: 'Status', code, reason, message: reason }), {});

describe('kube error guards', () => {
  it('classify client-node ApiException (body is a JSON string) and KubeHttpError alike', () => {
    expect(isNotFound(apiErr(404, 'NotFound'))).toBe(true);
    expect(isAlreadyExists(apiErr(409, 'AlreadyExists'))).toBe(true);
    expect(isConflict(apiErr(409, 'AlreadyExists'))).toBe(false);
    expect(isConflict(apiErr(409, 'Conflict'))).toBe(true);
    expect(isGone(new KubeHttpError(410, 'GET', '/x', '', { kind: 'Status', code: 410, reason: 'Expired' }))).toBe(true);
    expect(kubeStatusOf(apiErr(422, 'Invalid'))?.reason).toBe('Invalid');
    expect(statusCodeOf(new Error('network'))).toBeUndefined();
    expect(isNotFound('nope')).toBe(false);
  });
});

describe('keys and terminal errors', () => {
  it('round-trips namespace/name keys, including cluster-scoped names', () => {
    expect(objectKey({ metadata: { name: 'a', namespace: 'ns' } })).toBe('ns/a');
    expect(parseKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(parseKey('node-1')).toEqual({ namespace: '', name: 'node-1' });
    expect(() => objectKey({ kind: 'Pod', metadata: {} })).toThrow(/without metadata.name/);
  });
  it('finds a TerminalError through the cause chain', () => {
    expect(isTerminalError(new Error('wrapped', { cause: new TerminalError('bad spec') }))).toBe(true);
    expect(isTerminalError(new Error('plain'))).toBe(false);
  });
});

describe('loadKubeConfig', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-home-'));
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  test('nothing to load: says what is missing instead of defaulting to http://localhost:8080', () => {
    expect(() => loadKubeConfig({ env: {}, home })).toThrow(/no kubeconfig: pass --kubeconfig, set KUBECONFIG/);
  });

  test('in a Pod without a ServiceAccount token: names the token file and automountServiceAccountToken', () => {
    expect(() => loadKubeConfig({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' }, home, tokenFile: path.join(home, 'no-token') }))
      .toThrow(/no ServiceAccount token at .*no-token: set automountServiceAccountToken: true/);
  });

  test('an explicit file wins', () => {
    const file = path.join(home, 'config');
    fs.writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
      'users: [{name: u, user: {token: t}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}]', 'current-context: x', '',
    ].join('\n'));
    expect(loadKubeConfig({ kubeconfig: file, env: {}, home }).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });
});
