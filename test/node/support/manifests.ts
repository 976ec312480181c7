/** DaskCluster manifests for the node tier: the constructs' defaults, small enough for a 2-core node. */
import { App, Chart, Testing } from 'cdk8s';
import { DaskCluster } from '../../../lib/index';

/**
 * A DaskCluster as the DaskCluster construct synthesizes it (default commands, probes, image), with one-thread
 * workers and probe timeouts of a few seconds (Python start-up on two busy cores can miss the 1 s default).
 */
export function clusterManifest(name: string, workers: number, extraWorkerArgs: string[] = []): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const chart = new Chart(new App(), 'node-test');
  new DaskCluster(chart, name, { workers, workerArgs: ['--nthreads', '1', ...extraWorkerArgs] });
  const [obj] = Testing.synth(chart) as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const probe of ['readinessProbe', 'livenessProbe']) obj.spec.scheduler.spec.containers[0][probe].timeoutSeconds = 5;
  return obj;
}
