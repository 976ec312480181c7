/** Jest globalTeardown of the `node` project: stops the node tier (processes by pid, leftovers, cgroups, temp dir). */
import * as fs from 'node:fs';
import { readState } from '../../integration/support/cluster';
import { STATE_ENV } from '../../integration/support/env';
import { stopTier } from '../../integration/support/node-tier';

export default async function globalTeardown(): Promise<void> {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) return;
  await stopTier(readState(file));
  delete process.env[STATE_ENV];
}
