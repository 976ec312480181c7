/**
 * What the monitors scrape, from real Dask: the scheduler serves Prometheus metrics on its dashboard port at
 * /metrics (with the HTTP routes the operator gives it), and a worker started with the arguments
 * DaskClusterMonitoring adds (`--dashboard-address :<port>`) serves its own on that port. This is where testing stops
 * short of a Prometheus: the exposition is fetched and parsed here, not scraped by a Prometheus server.
 */
import { App, Chart } from 'cdk8s';
import { DaskCluster, DaskClusterMonitoring } from '../../lib/index';
import { DaskProcesses, freePort, pollUntil, type SchedulerProc } from './support/dask-procs';

let procs: DaskProcesses;
let scheduler: SchedulerProc;

beforeAll(async () => {
  procs = new DaskProcesses('metrics');
  scheduler = await procs.startScheduler({ api: true });
}, 60_000);
afterAll(async () => procs?.stopAll(), 30_000);

async function scrape(url: string): Promise<string> {
  return pollUntil(`GET ${url}`, async () => {
    const r = await fetch(url);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return r.text();
  }, () => true, 60_000, 250);
}

/** Metric family names in a Prometheus text exposition. */
const families = (text: string): Set<string> => new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));

test('the scheduler: /metrics on the dashboard port (the ServiceMonitor\'s http-dashboard endpoint)', async () => {
  const text = await scrape(`${scheduler.httpBaseUrl}/metrics`);
  const names = families(text);
  expect(names).toContain('dask_scheduler_workers');
  expect(names).toContain('dask_scheduler_clients');
});

test('a worker with the monitoring construct\'s arguments: /metrics on the declared port (the PodMonitor\'s endpoint)', async () => {
  const port = await freePort();
  const app = new App();
  const chart = new Chart(app, 'c', { namespace: 'data' });
  const cluster = new DaskCluster(chart, 'etl', { workers: 1 });
  new DaskClusterMonitoring(chart, 'm', { cluster, workerMetricsPort: port });
  const worker = (app.charts[0].toJson().find((d: { kind: string }) => d.kind === 'DaskCluster') as { spec: { worker: { spec: { containers: { args: string[]; ports: { containerPort: number }[] }[] } } } }).spec.worker.spec.containers[0];
  const args = worker.args.slice(worker.args.indexOf('--dashboard-address'));
  expect(args).toEqual(['--dashboard-address', `:${port}`]);
  expect(worker.ports.map((p) => p.containerPort)).toEqual([port]);
  procs.startWorker('monitored-0', scheduler, args);
  const names = families(await scrape(`http://127.0.0.1:${port}/metrics`));
  expect(names).toContain('dask_worker_tasks');
  expect([...names].some((n) => n.startsWith('dask_worker_'))).toBe(true);
  // The scheduler sees the worker, so its metrics are live, not only declared.
  await pollUntil('dask_scheduler_workers >= 1', async () => scrape(`${scheduler.httpBaseUrl}/metrics`), (t) => /^dask_scheduler_workers\{[^}]*\} [1-9]/m.test(t) || /^dask_scheduler_workers [1-9]/m.test(t), 60_000, 500);
});
