#!/usr/bin/env node
/** `dask-operator` / `npm run operator`: runs the Dask operator until SIGTERM/SIGINT. */
import { ConfigError, parseConfig, usage } from './config';
import { buildOperator } from './dask/operator';
import { loadKubeTarget } from './runtime/kubeconfig';
import { createLogger, errorMessage } from './runtime/logger';

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage());
    return 0;
  }
  const config = parseConfig(argv);
  const logger = createLogger({ level: config.logLevel });
  const kc = await loadKubeTarget({ kubeconfig: config.kubeconfig, context: config.context });
  const { manager } = await buildOperator(config, kc, logger);
  manager.handleSignals();
  logger.info('dask operator starting', {
    server: kc.server,
    namespaces: config.namespaces.length > 0 ? config.namespaces : 'all',
    leaderElect: config.leaderElect,
    schedulerAccess: config.schedulerAccess,
  });
  await manager.start();
  logger.info('dask operator stopped');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ConfigError) {
      process.stderr.write(`dask-operator: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`dask-operator: ${errorMessage(e)}\n`);
    process.exit(1);
  },
);
