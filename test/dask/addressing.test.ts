// Addressing helpers, the routes env var (checked against the installed distributed's defaults), the
// override hook (also end to end against a real scheduler), the frame codec, and a pluggable fetcher.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import {
  ADDRESS_OVERRIDE_ENV,
  DEFAULT_SCHEDULER_HTTP_ROUTES,
  SCHEDULER_API_ROUTE,
  SCHEDULER_HTTP_ROUTES_ENV,
  HttpFetcher,
  createSchedulerClient,
  inClusterSchedulerAddress,
  parseAddressOverrides,
  resolveSchedulerAddress,
  schedulerHttpRoutesEnv,
  serviceProxyBaseUrl,
} from '../../operator/scheduler';
import { DaskComm, FrameReader, decodeMessage, encodeMessage, parseTcpAddress } from '../../operator/scheduler/comm';
import { DaskProcesses, VENV_BIN, pollUntil, requireVenv } from './support/dask-procs';

describe('scheduler HTTP routes env', () => {
  test('adds the API route to the defaults of the installed distributed, unless the user set the var', () => {
    requireVenv();
    const installed = JSON.parse(
      execFileSync(path.join(VENV_BIN, 'python'), ['-c', 'import json, dask, distributed; print(json.dumps(dask.config.get("distributed.scheduler.http.routes")))'], {
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== SCHEDULER_HTTP_ROUTES_ENV && k !== 'DASK_CONFIG')),
        encoding: 'utf8',
      }),
    ) as string[];
    expect([...DEFAULT_SCHEDULER_HTTP_ROUTES]).toEqual(installed);

    const e = schedulerHttpRoutesEnv([{ name: 'OTHER', value: 'x' }]);
    expect(e?.name).toBe('DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES');
    expect(JSON.parse(e!.value)).toEqual([...installed, SCHEDULER_API_ROUTE]);
    // Dask parses it back into the same list
    const parsed = execFileSync(path.join(VENV_BIN, 'python'), ['-c', 'import json, dask; print(json.dumps(dask.config.get("distributed.scheduler.http.routes")))'], {
      env: { ...process.env, [e!.name]: e!.value },
      encoding: 'utf8',
    });
    expect(JSON.parse(parsed)).toEqual([...installed, SCHEDULER_API_ROUTE]);

    expect(schedulerHttpRoutesEnv([{ name: SCHEDULER_HTTP_ROUTES_ENV, value: '["distributed.http.health"]' }])).toBeUndefined();
  });
});

describe('addresses', () => {
  test('in-cluster Service DNS names, cluster domain configurable', () => {
    expect(inClusterSchedulerAddress({ namespace: 'ns', cluster: 'simple' })).toEqual({
      httpBaseUrl: 'http://simple-scheduler.ns.svc.cluster.local:8787',
      tcpAddress: 'tcp://simple-scheduler.ns.svc.cluster.local:8786',
    });
    expect(inClusterSchedulerAddress({ namespace: 'ns', cluster: 'c', clusterDomain: 'k8s.example', dashboardPort: 80, commPort: 9000 })).toEqual({
      httpBaseUrl: 'http://c-scheduler.ns.svc.k8s.example:80',
      tcpAddress: 'tcp://c-scheduler.ns.svc.k8s.example:9000',
    });
  });

  test('API server service proxy', () => {
    expect(serviceProxyBaseUrl({ apiServer: 'https://127.0.0.1:6443/', namespace: 'ns', cluster: 'simple' })).toBe(
      'https://127.0.0.1:6443/api/v1/namespaces/ns/services/simple-scheduler:http-dashboard/proxy',
    );
  });

  test('override env: format, errors, resolution', () => {
    const m = parseAddressOverrides(' ns/a=http://127.0.0.1:1,tcp://127.0.0.1:2 ; ns/b=tcp://127.0.0.1:3\nother/c=http://127.0.0.1:4/ ');
    expect(m.get('ns/a')).toEqual({ httpBaseUrl: 'http://127.0.0.1:1', tcpAddress: 'tcp://127.0.0.1:2' });
    expect(m.get('ns/b')).toEqual({ tcpAddress: 'tcp://127.0.0.1:3' });
    expect(m.get('other/c')).toEqual({ httpBaseUrl: 'http://127.0.0.1:4' });
    expect(parseAddressOverrides(undefined).size).toBe(0);
    expect(() => parseAddressOverrides('a=tcp://x:1')).toThrow(/namespace\/cluster=/);
    expect(() => parseAddressOverrides('ns/a=ftp://x:1')).toThrow(/not an http/);
    const env = { [ADDRESS_OVERRIDE_ENV]: 'ns/a=tcp://127.0.0.1:2' };
    expect(resolveSchedulerAddress({ namespace: 'ns', cluster: 'a', env })).toEqual({ tcpAddress: 'tcp://127.0.0.1:2' });
    expect(resolveSchedulerAddress({ namespace: 'ns', cluster: 'b', env }).tcpAddress).toBe('tcp://b-scheduler.ns.svc.cluster.local:8786');
  });

  test('tcp address parsing', () => {
    expect(parseTcpAddress('tcp://127.0.0.1:8786')).toEqual({ host: '127.0.0.1', port: 8786 });
    expect(parseTcpAddress('tcp://[::1]:8786')).toEqual({ host: '::1', port: 8786 });
    expect(() => parseTcpAddress('tcp://host')).toThrow(/tcp:\/\/host:port/);
    expect(() => parseTcpAddress('tcp://host:70000')).toThrow(/out of range/);
  });
});

describe('frame codec', () => {
  test('round trip, byte by byte, several messages in one chunk, out-of-band references', () => {
    const a = encodeMessage({ op: 'identity', reply: true });
    const b = encodeMessage([1, 'two', null]);
    const r = new FrameReader();
    const got: unknown[] = [];
    for (const byte of Buffer.concat([a, b])) {
      r.push(Buffer.from([byte]));
      for (let f = r.next(); f; f = r.next()) got.push(decodeMessage(f));
    }
    expect(got).toEqual([{ op: 'identity', reply: true }, [1, 'two', null]]);

    // a reply with a second (pickled) frame referenced from frame 0, as Dask sends errors
    const head = Buffer.from(encodeMessage({ status: 'uncaught-error', exception: { __Serialized__: 1 }, exception_text: 'boom' }).subarray(24));
    const extra = Buffer.from('pickled-bytes');
    const msg = Buffer.alloc(8 + 24 + head.length + extra.length);
    msg.writeBigUInt64LE(BigInt(24 + head.length), 0); // nosplit covers frame 0 only; frame 1 follows
    msg.writeBigUInt64LE(2n, 8);
    msg.writeBigUInt64LE(BigInt(head.length), 16);
    msg.writeBigUInt64LE(BigInt(extra.length), 24);
    head.copy(msg, 32);
    extra.copy(msg, 32 + head.length);
    const r2 = new FrameReader();
    r2.push(msg.subarray(0, msg.length - 3));
    expect(r2.next()).toBeUndefined();
    r2.push(msg.subarray(msg.length - 3));
    const frames = r2.next()!;
    expect(frames).toHaveLength(2);
    expect(decodeMessage(frames)).toEqual({ status: 'uncaught-error', exception: { outOfBand: 'Serialized', frame: 1 }, exception_text: 'boom' });
  });
});

describe('against a real scheduler (HTTP API off)', () => {
  let procs: DaskProcesses;
  afterAll(async () => procs?.stopAll(), 30_000);

  test('the override hook and a pluggable fetcher reach a local scheduler; remote errors are reported', async () => {
    procs = new DaskProcesses('addr');
    const s = await procs.startScheduler({ api: false });
    const env = { [ADDRESS_OVERRIDE_ENV]: `test/local=${s.httpBaseUrl},${s.tcpAddress}` };
    const addr = resolveSchedulerAddress({ namespace: 'test', cluster: 'local', env });
    const seen: string[] = [];
    const fetcher: HttpFetcher = async (url, init) => {
      seen.push(`${init.method} ${url}`);
      return fetch(url, init);
    };
    const c = createSchedulerClient({ ...addr, fetch: fetcher, timeoutMs: 5000, retries: 1 });
    try {
      await pollUntil('scheduler health', () => c.health(), (ok) => ok);
      expect(seen.at(-1)).toBe(`GET ${s.httpBaseUrl}/health`);
      expect(await c.workers()).toEqual([]);
      expect(c.transport).toBe('tcp'); // /api/v1 answered 404 through the fetcher
      expect(seen).toContain(`GET ${s.httpBaseUrl}/api/v1/get_workers`);
      // the 404 is remembered: the next call goes straight to TCP
      const n = seen.length;
      expect(await c.adaptiveTarget()).toBe(0);
      expect(seen.length).toBe(n);
      // retiring on an empty cluster confirms nothing
      expect(await c.retireWorkers({ n: 2 })).toEqual({ retired: [], notRetired: [], confirmedBy: 'reply' });
      expect(await c.workersToClose(3)).toEqual([]);
      // a handler error comes back as SchedulerRemoteError with the scheduler's exception text
      const comm = await DaskComm.connect(s.tcpAddress, { timeoutMs: 5000 });
      try {
        await expect(comm.call('retire_workers', { names: ['a'], workers: ['b'] })).rejects.toThrow(
          expect.objectContaining({ reason: 'SchedulerRemoteError', message: expect.stringMatching(/mutually exclusive/) }),
        );
        expect(await comm.call('no_such_op')).toBeNull(); // Dask answers nil to unknown ops
        expect(comm.usable).toBe(true);
      } finally {
        comm.close();
      }
    } finally {
      await c.close();
    }
  }, 60_000);
});
