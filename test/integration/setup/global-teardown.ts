/** Jest globalTeardown of the `integration` project: stops the cluster's processes by pid and removes its temp dir. */
import * as fs from 'node:fs';
import { readState, stopCluster } from '../support/cluster';
import { STATE_ENV } from '../support/env';

export default async function globalTeardown(): Promise<void> {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) return;
  const state = readState(file);
  await stopCluster(state);
  delete process.env[STATE_ENV];
}
