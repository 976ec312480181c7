import { startHealthServer, type HealthServer } from '../../../operator/runtime/health';
import { RuntimeMetrics } from '../../../operator/runtime/metrics';

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('health server and metrics', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves /healthz, /readyz (503 until ready) and Prometheus /metrics on 127.0.0.1', async () => {
    const metrics = new RuntimeMetrics();
    metrics.initController('daskcluster');
    metrics.initInformer('pods');
    metrics.reconcileTotal.inc({ controller: 'daskcluster', result: 'success' }, 3);
    metrics.reconcileDuration.observe({ controller: 'daskcluster' }, 0.02);
    metrics.watchRestarts.inc({ informer: 'pods', reason: 'watchdog' });
    metrics.leader.set({ lease: 'l' }, 1);
    let ready = false;
    server = await startHealthServer({ host: '127.0.0.1', port: 0, metrics, readyz: () => ({ ok: ready, detail: ready ? 'ok' : 'caches not synced: pods' }) });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect(await get(`${server.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 503, body: 'caches not synced: pods\n' });
    ready = true;
    expect((await get(`${server.url}/readyz`)).status).toBe(200);

    const m = await get(`${server.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain/);
    expect(m.body).toContain('dask_operator_reconcile_total{controller="daskcluster",result="success"} 3');
    expect(m.body).toContain('dask_operator_reconcile_total{controller="daskcluster",result="error"} 0');
    expect(m.body).toContain('dask_operator_reconcile_duration_seconds_count{controller="daskcluster"} 1');
    expect(m.body).toContain('dask_operator_workqueue_depth{controller="daskcluster"} 0');
    expect(m.body).toContain('dask_operator_informer_watch_restarts_total{informer="pods",reason="watchdog"} 1');
    expect(m.body).toContain('dask_operator_leader{lease="l"} 1');
    expect(m.body).toContain('# TYPE dask_operator_reconcile_duration_seconds histogram');
    expect((await get(`${server.url}/nope`)).status).toBe(404);
  });

  it('two metric sets do not collide (private registries)', () => {
    expect(() => [new RuntimeMetrics(), new RuntimeMetrics({ processMetrics: true })]).not.toThrow();
  });
});
