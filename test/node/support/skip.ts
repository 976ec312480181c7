/** Whether the node project's tests run: the global setup skips the whole project where containers cannot run. */

/** Set by test/node/setup/global-setup.ts to the reason when the machine cannot run the node tier. */
export const NODE_SKIP_ENV = 'CDK8S_DASK_NODE_SKIP';

export function nodeSkipReason(): string | undefined {
  return process.env[NODE_SKIP_ENV] || undefined;
}

/** `describe`, or `describe.skip` when the global setup skipped the node tier (it printed why, once). */
export function describeOnNode(name: string, fn: () => void): void {
  (nodeSkipReason() ? describe.skip : describe)(name, fn);
}
