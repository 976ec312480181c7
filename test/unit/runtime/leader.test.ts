import { LeaderElector, microTime } from '../../../operator/runtime/leader';
import { FakeClock } from '../../../operator/runtime/testing/fake-clock';
import { FakeLeaseClient } from '../../../operator/runtime/testing/fake-lease-client';

function candidate(client: FakeLeaseClient, clock: FakeClock, identity: string) {
  const log: string[] = [];
  const e = new LeaderElector({ client, clock, namespace: 'ops', identity, onStartedLeading: () => log.push('start'), onStoppedLeading: () => log.push('stop') });
  const ctl = new AbortController();
  let outcome: string | undefined;
  const run = e.run(ctl.signal).then((o) => (outcome = o));
  return { e, ctl, log, run, outcome: () => outcome };
}

async function advanceUntil(clock: FakeClock, cond: () => boolean, maxMs: number, step = 100): Promise<number> {
  const start = clock.now();
  while (!cond()) {
    if (clock.now() - start > maxMs) throw new Error(`condition not met within ${maxMs} fake ms`);
    await clock.advanceAsync(step);
  }
  return clock.now() - start;
}

describe('LeaderElector', () => {
  it('creates a missing Lease and leads, with the default 15 s duration and MicroTime stamps', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    const a = candidate(client, clock, 'a');
    await advanceUntil(clock, () => a.e.isLeader(), 100);
    const lease = client.leases.get('ops/dask-operator-leader')!;
    expect(lease.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(lease.spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(a.log).toEqual(['start']);
    // Renews every retry period, moving renewTime forward.
    const before = lease.spec?.renewTime;
    await clock.advanceAsync(2100, 100);
    expect(client.leases.get('ops/dask-operator-leader')!.spec?.renewTime).not.toBe(before);
    a.ctl.abort();
    await a.run;
    expect(a.outcome()).toBe('stopped');
  });

  it('keeps a standby waiting while the leader renews, and fails over once renewals stop for the lease duration', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    const a = candidate(client, clock, 'a');
    await advanceUntil(clock, () => a.e.isLeader(), 100);
    const b = candidate(client, clock, 'b');
    await clock.advanceAsync(30_000, 100);
    expect(b.e.isLeader()).toBe(false);
    // The leader hangs (stops renewing) without releasing.
    a.ctl.abort();
    await a.run;
    const waited = await advanceUntil(clock, () => b.e.isLeader(), 30_000);
    expect(waited).toBeGreaterThanOrEqual(13_000); // about the 15 s lease, measured from b's last observation
    // At most: b sees the last renewal up to one jittered retry (2.4 s) late, then notices expiry up to one retry late.
    expect(waited).toBeLessThanOrEqual(15_000 + 2 * 2_400 + 200);
    expect(client.leases.get('ops/dask-operator-leader')!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    b.ctl.abort();
    await b.run;
  });

  it('reports the lease lost when it cannot renew within the 10 s renew deadline', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    const a = candidate(client, clock, 'a');
    await advanceUntil(clock, () => a.e.isLeader(), 100);
    client.down = true;
    const took = await advanceUntil(clock, () => a.outcome() !== undefined, 20_000);
    expect(a.outcome()).toBe('lost');
    expect(a.e.isLeader()).toBe(false);
    expect(a.log).toEqual(['start', 'stop']);
    expect(took).toBeGreaterThanOrEqual(8_000);
    expect(took).toBeLessThanOrEqual(12_500);
  });

  it('reports the lease lost at once when another holder took it', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    const a = candidate(client, clock, 'a');
    await advanceUntil(clock, () => a.e.isLeader(), 100);
    const cur = client.leases.get('ops/dask-operator-leader')!;
    await client.replace({ ...cur, spec: { ...cur.spec, holderIdentity: 'intruder', renewTime: microTime(clock.now()) } });
    const took = await advanceUntil(clock, () => a.outcome() !== undefined, 5_000);
    expect(a.outcome()).toBe('lost');
    expect(took).toBeLessThanOrEqual(2_200);
  });

  it('release() clears the holder so a standby takes over at its next retry, not after 15 s', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    const a = candidate(client, clock, 'a');
    await advanceUntil(clock, () => a.e.isLeader(), 100);
    const b = candidate(client, clock, 'b');
    await clock.advanceAsync(5_000, 100);
    a.ctl.abort();
    await a.run;
    await a.e.release();
    expect(client.leases.get('ops/dask-operator-leader')!.spec?.holderIdentity).toBeUndefined();
    const waited = await advanceUntil(clock, () => b.e.isLeader(), 5_000);
    expect(waited).toBeLessThanOrEqual(2_500);
    b.ctl.abort();
    await b.run;
  });

  it('lets only one of two racing candidates win (resourceVersion-guarded replace)', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    await client.create({ metadata: { name: 'dask-operator-leader', namespace: 'ops' }, spec: {} });
    const a = candidate(client, clock, 'a');
    const b = candidate(client, clock, 'b');
    await clock.advanceAsync(20_000, 100);
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    a.ctl.abort();
    b.ctl.abort();
    await Promise.all([a.run, b.run]);
  });

  it('rejects a renew deadline that is not shorter than the lease', () => {
    expect(() => new LeaderElector({ client: new FakeLeaseClient(), namespace: 'x', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      /renewDeadlineMs \(10000\) must be less than leaseDurationMs \(10000\)/,
    );
  });

  it('holdsLease() is false once the last renewal started a renew deadline ago, even while the renew call hangs', async () => {
    const clock = new FakeClock();
    const client = new FakeLeaseClient();
    const a = candidate(client, clock, 'a');
    await advanceUntil(clock, () => a.e.isLeader(), 100);
    expect(a.e.holdsLease()).toBe(true);
    await clock.advanceAsync(1900, 100);
    // The API server stops answering: every call hangs (no error the loop could react to).
    const hang = new Promise<never>(() => undefined);
    client.get = () => hang;
    await clock.advanceAsync(7_000, 100);
    expect(a.e.holdsLease()).toBe(true); // within 10 s of the last renewal
    await clock.advanceAsync(4_000, 100);
    expect(a.e.holdsLease()).toBe(false);
    a.ctl.abort();
    await a.run;
  });
});

