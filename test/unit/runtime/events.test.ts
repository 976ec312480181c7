import { EventRecorder, type CoreEvent, type EventSink } from '../../../operator/runtime/events';
import { RuntimeMetrics } from '../../../operator/runtime/metrics';
import { FakeClock } from '../../../operator/runtime/testing/fake-clock';
import { KubeHttpError } from '../../../operator/runtime/rest';

class MemorySink implements EventSink {
  readonly created: CoreEvent[] = [];
  readonly patches: Array<{ name: string; count: number; lastTimestamp: string }> = [];
  failCreates = 0;
  expired = new Set<string>();
  async create(ev: CoreEvent): Promise<void> {
    if (this.failCreates > 0) {
      this.failCreates--;
      throw new KubeHttpError(500, 'POST', '/events', '');
    }
    this.created.push(ev);
  }
  async patch(_ns: string, name: string, p: { count: number; lastTimestamp: string }): Promise<void> {
    if (this.expired.has(name)) throw new KubeHttpError(404, 'PATCH', '/events', '', { kind: 'Status', code: 404, reason: 'NotFound' });
    this.patches.push({ name, ...p });
  }
}

const cluster = { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', metadata: { name: 'c1', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };

describe('EventRecorder', () => {
  it('writes a core/v1 Event about the involved object', async () => {
    const sink = new MemorySink();
    const clock = new FakeClock(Date.parse('2026-01-02T03:04:05.678Z'));
    const r = new EventRecorder({ sink, clock, instance: 'op-0' });
    r.warning(cluster, 'SchedulerFailed', 'could not create pod c1-scheduler');
    await r.flush();
    expect(sink.created).toHaveLength(1);
    expect(sink.created[0]).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'ns' },
      involvedObject: { apiVersion: 'kubernetes.dask.org/v1', kind: 'DaskCluster', name: 'c1', namespace: 'ns', uid: 'u1' },
      type: 'Warning',
      reason: 'SchedulerFailed',
      count: 1,
      firstTimestamp: '2026-01-02T03:04:05Z',
      reportingComponent: 'dask-operator',
      reportingInstance: 'op-0',
    });
    expect(sink.created[0].metadata.name).toMatch(/^c1\./);
  });

  it('aggregates repeats into one Event with a count, coalescing writes', async () => {
    const sink = new MemorySink();
    const clock = new FakeClock();
    const r = new EventRecorder({ sink, clock });
    for (let i = 0; i < 5; i++) r.normal(cluster, 'Scaled', 'scaled to 3');
    await r.flush();
    clock.advance(1000);
    r.normal(cluster, 'Scaled', 'scaled to 3');
    await r.flush();
    expect(sink.created).toHaveLength(1);
    expect(sink.patches.at(-1)).toMatchObject({ name: sink.created[0].metadata.name, count: 6 });
    expect(sink.created.length + sink.patches.length).toBeLessThan(6); // coalesced
    // A different message is a different Event.
    r.normal(cluster, 'Scaled', 'scaled to 4');
    await r.flush();
    expect(sink.created).toHaveLength(2);
  });

  it('starts a new Event after the aggregation window or when the old one expired', async () => {
    const sink = new MemorySink();
    const clock = new FakeClock();
    const r = new EventRecorder({ sink, clock, aggregateWindowMs: 60_000 });
    r.normal(cluster, 'Ping', 'x');
    await r.flush();
    clock.advance(61_000);
    r.normal(cluster, 'Ping', 'x');
    await r.flush();
    expect(sink.created).toHaveLength(2);
    sink.expired.add(sink.created[1].metadata.name);
    clock.advance(1000);
    r.normal(cluster, 'Ping', 'x');
    await r.flush();
    expect(sink.created).toHaveLength(3);
    expect(sink.created[2].count).toBe(2);
  });

  it('rate-limits per object so a hot loop cannot flood, and refills over time', async () => {
    const sink = new MemorySink();
    const clock = new FakeClock();
    const metrics = new RuntimeMetrics();
    const r = new EventRecorder({ sink, clock, burst: 3, refillMs: 10_000, metrics });
    for (let i = 0; i < 50; i++) {
      r.warning(cluster, 'Failed', `attempt ${i}`);
      await r.flush();
    }
    expect(sink.created).toHaveLength(3);
    const other = { ...cluster, metadata: { ...cluster.metadata, name: 'c2', uid: 'u2' } };
    r.warning(other, 'Failed', 'attempt 0'); // another object has its own bucket
    await r.flush();
    expect(sink.created).toHaveLength(4);
    clock.advance(10_000);
    r.warning(cluster, 'Failed', 'later');
    await r.flush();
    expect(sink.created).toHaveLength(5);
    expect(await metrics.text()).toMatch(/dask_operator_events_dropped_total\{reason="rate_limited"\} 47/);
  });

  it('bounds pending writes and never throws when writes fail', async () => {
    const sink = new MemorySink();
    sink.failCreates = 1;
    const lines: string[] = [];
    const { createLogger } = await import('../../../operator/runtime/logger');
    const r = new EventRecorder({ sink, clock: new FakeClock(), maxPending: 2, logger: createLogger({ sink: (l) => lines.push(l) }) });
    for (let i = 0; i < 5; i++) expect(() => r.normal({ ...cluster, metadata: { ...cluster.metadata, name: `o${i}` } }, 'R', 'm')).not.toThrow();
    await r.flush();
    expect(sink.created).toHaveLength(1); // 2 accepted, the first failed, 3 dropped
    expect(lines.some((l) => JSON.parse(l).msg === 'could not write an event')).toBe(true);
  });
});
