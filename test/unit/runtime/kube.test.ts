import { ApiException } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict, isGone, isNotFound, kubeStatusOf, statusCodeOf } from '../../../operator/runtime/kube-errors';
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
