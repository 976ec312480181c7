import { Controller, ownerRequest } from '../../../operator/runtime/controller';
import { RuntimeMetrics } from '../../../operator/runtime/metrics';
import type { KubeObject, Request } from '../../../operator/runtime/object';
import { TerminalError, type ReconcileContext, type Result } from '../../../operator/runtime/reconcile';
import { FakeClock, flushPromises } from '../../../operator/runtime/testing/fake-clock';
import { FakeInformer } from '../../../operator/runtime/testing/fake-informer';
import { createLogger } from '../../../operator/runtime/logger';

const KIND = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster' };
const cluster = (name: string, ns = 'ns'): KubeObject => ({ ...KIND, metadata: { name, namespace: ns, uid: `uid-${name}` } });
const pod = (name: string, owner?: { kind: string; apiVersion: string; name: string; controller?: boolean }, ns = 'ns'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, ownerReferences: owner ? [{ uid: 'x', controller: true, ...owner }] : undefined },
});

describe('ownerRequest', () => {
  it('maps a child to its controller owner when group and kind match (any version)', () => {
    expect(ownerRequest(pod('p', { ...KIND, name: 'c1' }), KIND)).toEqual({ namespace: 'ns', name: 'c1' });
    expect(ownerRequest(pod('p', { kind: 'DaskCluster', apiVersion: 'kubernetes.dask.org/v2', name: 'c1' }), KIND)).toEqual({ namespace: 'ns', name: 'c1' });
  });
  it('ignores other kinds, other groups, non-controller owners and orphans', () => {
    expect(ownerRequest(pod('p', { kind: 'DaskWorkerGroup', apiVersion: KIND.apiVersion, name: 'g' }), KIND)).toBeUndefined();
    expect(ownerRequest(pod('p', { kind: 'DaskCluster', apiVersion: 'other.io/v1', name: 'c1' }), KIND)).toBeUndefined();
    expect(ownerRequest(pod('p', { ...KIND, name: 'c1', controller: false }), KIND)).toBeUndefined();
    expect(ownerRequest(pod('p'), KIND)).toBeUndefined();
  });
});

describe('Controller', () => {
  function setup(reconcile: (req: Request, ctx: ReconcileContext) => Promise<Result | void>) {
    const clock = new FakeClock();
    const primary = new FakeInformer<KubeObject>('clusters');
    const pods = new FakeInformer<KubeObject>('pods');
    const configs = new FakeInformer<KubeObject>('configmaps');
    const metrics = new RuntimeMetrics();
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'debug', sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const c = new Controller(
      {
        name: 'daskcluster',
        kind: KIND,
        for: primary,
        owns: [pods],
        watches: [{ informer: configs, map: (o: KubeObject) => [{ namespace: o.metadata!.namespace!, name: o.metadata!.labels?.cluster ?? '' }] }],
        reconcile,
      },
      { clock, metrics, logger },
    );
    return { clock, primary, pods, configs, metrics, lines, c };
  }

  it('enqueues the primary key, the owner key of owned children, and mapped keys — never event content', () => {
    const { c, primary, pods, configs } = setup(async () => undefined);
    primary.upsert(cluster('c1'));
    pods.upsert(pod('c1-scheduler', { ...KIND, name: 'c1' }));
    pods.upsert(pod('orphan'));
    configs.upsert({ metadata: { name: 'cfg', namespace: 'ns', labels: { cluster: 'c2' } } });
    expect(c.queue.depth).toBe(2); // ns/c1 (deduplicated) and ns/c2
    pods.remove('ns', 'c1-scheduler');
    expect(c.queue.depth).toBe(2);
  });

  it('a resync enqueues at low priority (primary and owned keys): changes meanwhile are reconciled first', async () => {
    const seen: string[] = [];
    const { c, primary, pods, metrics } = setup(async (req) => void seen.push(req.name));
    for (const n of ['a', 'b', 'c']) primary.upsert(cluster(n));
    pods.upsert(pod('b-worker', { ...KIND, name: 'b' }));
    while (c.queue.depth > 0) c.queue.done((await c.queue.get()) as string); // drain the adds by hand
    primary.resync();
    pods.resync();
    primary.upsert({ ...cluster('c'), metadata: { ...cluster('c').metadata, annotations: { changed: 'yes' } } });
    const sig = new AbortController();
    const done = c.start(sig.signal);
    await flushPromises(20);
    expect(seen).toEqual(['c', 'a', 'b']); // c's change first, then the resync in order
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/dask_operator_workqueue_queue_duration_seconds_count\{controller="daskcluster",priority="normal"\} 4/); // the three adds and the change
    expect(text).toMatch(/dask_operator_workqueue_queue_duration_seconds_count\{controller="daskcluster",priority="low"\} 2/);
    sig.abort();
    await done;
  });

  it('requeueAfter: 0 reconciles the key again at once (after the current run), without backoff; omitting it does not', async () => {
    let runs = 0;
    const { c } = setup(async () => (++runs < 3 ? { requeueAfter: 0 } : undefined));
    const sig = new AbortController();
    const done = c.start(sig.signal);
    c.enqueue({ namespace: 'ns', name: 'batch' });
    await flushPromises(20);
    expect(runs).toBe(3); // two batches asked for more, the third is done; no clock advance needed
    expect(c.queue.retries('ns/batch')).toBe(0);
    expect(c.queue.depth).toBe(0);
    sig.abort();
    await done;
  });

  it('applies the outcome policy: success forgets, requeueAfter delays, errors back off, terminal errors stop', async () => {
    const script: Array<() => Result | void> = [
      () => {
        throw new Error('transient');
      },
      () => {
        throw new Error('transient again');
      },
      () => ({ requeueAfter: 30_000 }),
      () => {
        throw new TerminalError('invalid spec');
      },
    ];
    const seen: Array<{ req: Request; retries: number }> = [];
    const { c, clock, metrics, lines } = setup(async (req, ctx) => {
      seen.push({ req, retries: ctx.retries });
      return script.shift()!();
    });
    const sig = new AbortController();
    const done = c.start(sig.signal);
    c.enqueue({ namespace: 'ns', name: 'c1' });
    await flushPromises();
    expect(seen).toHaveLength(1);
    expect(c.queue.retries('ns/c1')).toBe(1);
    clock.advance(4);
    await flushPromises();
    expect(seen).toHaveLength(1); // 5 ms backoff not over yet
    clock.advance(1);
    await flushPromises();
    expect(seen).toHaveLength(2);
    clock.advance(10);
    await flushPromises();
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.retries)).toEqual([0, 1, 2]);
    expect(c.queue.retries('ns/c1')).toBe(0); // requeueAfter resets backoff
    clock.advance(29_999);
    await flushPromises();
    expect(seen).toHaveLength(3);
    clock.advance(1);
    await flushPromises();
    expect(seen).toHaveLength(4);
    clock.advance(600_000);
    await flushPromises();
    expect(seen).toHaveLength(4); // terminal: not retried
    expect(seen[0].req).toEqual({ namespace: 'ns', name: 'c1' });

    const text = await metrics.text();
    expect(text).toContain('dask_operator_reconcile_total{controller="daskcluster",result="error"} 2');
    expect(text).toContain('dask_operator_reconcile_total{controller="daskcluster",result="requeue_after"} 1');
    expect(text).toContain('dask_operator_reconcile_total{controller="daskcluster",result="terminal_error"} 1');
    expect(text).toContain('dask_operator_reconcile_errors_total{controller="daskcluster"} 3');
    const err = lines.find((l) => l.msg === 'reconcile failed; retrying with backoff');
    expect(err).toMatchObject({ level: 'error', controller: 'daskcluster', namespace: 'ns', name: 'c1', key: 'ns/c1', error: 'transient', retryInMs: 5 });
    expect(typeof err?.reconcileId).toBe('string');
    expect(lines.some((l) => l.msg === 'reconcile failed permanently; not retrying until the object changes')).toBe(true);

    sig.abort();
    await done;
  });

  it('drains in-flight reconciles on shutdown and passes them the abort signal', async () => {
    let sawAbort = false;
    let release!: () => void;
    const { c } = setup(
      (_req, ctx) =>
        new Promise<void>((resolve) => {
          release = () => {
            sawAbort = ctx.signal.aborted;
            resolve();
          };
        }),
    );
    const sig = new AbortController();
    const done = c.start(sig.signal);
    c.enqueue({ namespace: 'ns', name: 'c1' });
    await flushPromises();
    let finished = false;
    void done.then(() => (finished = true));
    sig.abort();
    await flushPromises();
    expect(finished).toBe(false);
    release();
    await done;
    expect(sawAbort).toBe(true);
  });
});
