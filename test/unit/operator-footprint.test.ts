/**
 * The operator process must not load @kubernetes/client-node: importing it costs about 80 MiB of resident memory
 * (operator/runtime/kubeconfig.ts). Every module the operator's entry point pulls in is loaded here with client-node
 * replaced by a module that throws when loaded, so a new static import anywhere in that graph fails this test.
 */
jest.mock('@kubernetes/client-node', () => {
  throw new Error('the operator process loaded @kubernetes/client-node (keep it to `import type`, or load it lazily as kubeconfig.ts does)');
});

test('the operator\'s module graph does not load @kubernetes/client-node', () => {
  expect(() => {
    require('../../operator/config');
    require('../../operator/runtime/kubeconfig');
    require('../../operator/dask/operator');
  }).not.toThrow();
});

test('the guard works: a module that imports client-node fails here', () => {
  expect(() => require('../../operator/runtime/kube')).toThrow(/loaded @kubernetes\/client-node/);
});
