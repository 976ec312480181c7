import * as fs from 'node:fs';
import * as path from 'node:path';
import { TokenBucket } from '../../../operator/runtime/rate-limit';
import { DEFAULT_USER_AGENT, KubeRest } from '../../../operator/runtime/rest';
import { FakeClock, flushPromises } from '../../../operator/runtime/testing/fake-clock';
import { FakeApiServer, eventually } from './support/fake-api-server';

describe('TokenBucket', () => {
  it('lets a burst through at once, then one request per 1/qps, in arrival order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3, clock });
    const done: number[] = [];
    const all = Array.from({ length: 6 }, (_, i) => bucket.take().then(() => done.push(i)));
    await flushPromises();
    expect(done).toEqual([0, 1, 2]);
    expect(bucket.waiting).toBe(3);
    await clock.advanceAsync(99);
    expect(done).toEqual([0, 1, 2]);
    await clock.advanceAsync(1);
    expect(done).toEqual([0, 1, 2, 3]);
    await clock.advanceAsync(200, 10);
    expect(done).toEqual([0, 1, 2, 3, 4, 5]);
    await Promise.all(all);
    // Idle time refills up to the burst, no more.
    await clock.advanceAsync(10_000);
    const later: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.take().then(() => later.push(i));
    await flushPromises();
    expect(later).toEqual([0, 1, 2]);
  });

  it('an aborted wait gives up its place', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
    await bucket.take();
    const ctl = new AbortController();
    const waiting = bucket.take(ctl.signal);
    ctl.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    expect(bucket.waiting).toBe(0);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new TokenBucket({ qps: 0 })).toThrow(/qps must be > 0/);
  });
});

describe('KubeRest with a rate limiter', () => {
  let server: FakeApiServer;
  beforeEach(async () => {
    server = await new FakeApiServer().start();
  });
  afterEach(async () => {
    await server.close();
  });

  it('sends at most burst requests before the rate applies (lists and writes alike)', async () => {
    const clock = new FakeClock();
    const rest = new KubeRest(server.kubeConfig(), { rateLimiter: new TokenBucket({ qps: 5, burst: 2, clock }) });
    const calls = Array.from({ length: 5 }, () => rest.list('/api/v1/pods', {}));
    await eventually(() => server.listRequests().length === 2);
    await new Promise((r) => setTimeout(r, 100)); // and no third one while the fake clock stands still
    expect(server.listRequests()).toHaveLength(2);
    await clock.advanceAsync(200);
    await eventually(() => server.listRequests().length === 3);
    await clock.advanceAsync(400, 200);
    await Promise.all(calls);
    expect(server.listRequests()).toHaveLength(5);
  });

  it('withRateLimiter: a client with a budget of its own (the Event writer) neither takes from nor waits for the main one, and keeps its write guard', async () => {
    const clock = new FakeClock();
    const main = new KubeRest(server.kubeConfig(), { rateLimiter: new TokenBucket({ qps: 5, burst: 1, clock }) });
    const events = main.withRateLimiter(new TokenBucket({ qps: 1, burst: 1, clock }));
    const queued = [events.list('/api/v1/pods', {}), events.list('/api/v1/pods', {}), events.list('/api/v1/pods', {})];
    await eventually(() => server.listRequests().length === 1); // the Event bucket is empty now, two wait
    await main.list('/api/v1/pods', {}); // the main bucket is untouched: this goes at once
    expect(server.listRequests()).toHaveLength(2);
    await clock.advanceAsync(2000, 1000);
    await Promise.all(queued);
    expect(server.listRequests()).toHaveLength(4);
    const guarded = main.withWriteGuard(() => { throw new Error('not the leader'); }).withRateLimiter(undefined);
    await expect(guarded.request('POST', '/api/v1/namespaces/default/events', { body: {} })).rejects.toThrow('not the leader');
  });

  it('names itself in every request: dask-operator/<package version>, or the User-Agent it is given', async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;
    expect(DEFAULT_USER_AGENT).toBe(`dask-operator/${version} (${process.platform}/${process.arch}) node/${process.versions.node}`);
    await new KubeRest(server.kubeConfig()).list('/api/v1/pods', {});
    await new KubeRest(server.kubeConfig(), { userAgent: 'bench/1' }).list('/api/v1/pods', {});
    expect(server.listRequests().map((r) => r.userAgent)).toEqual([DEFAULT_USER_AGENT, 'bench/1']);
  });
});
