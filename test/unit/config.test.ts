import { ConfigError, FLAGS, parseConfig, usage } from '../../operator/config';
import { DEFAULT_CREATE_BATCH_SIZE, DEFAULT_KUBE_API_BURST, DEFAULT_KUBE_API_QPS } from '../../lib/operator-rbac';

describe('operator configuration', () => {
  test('defaults', () => {
    const c = parseConfig([], {});
    expect(c).toMatchObject({ namespaces: [], concurrency: 4, logLevel: 'info', clusterDomain: 'cluster.local', metricsBindAddress: { host: '0.0.0.0', port: 8080 }, leaderElect: false, schedulerAccess: 'auto', scaleDownFallback: 'delete', plugins: [], kubeApiQps: 20, kubeApiBurst: 30, eventQps: 10, eventBurst: 20 });
  });
  test('Event writes have a rate limit of their own: --event-qps / --event-burst, or DASK_OPERATOR_EVENT_QPS / _BURST', () => {
    expect(parseConfig(['--event-qps=0.5', '--event-burst', '3'], {})).toMatchObject({ eventQps: 0.5, eventBurst: 3, kubeApiQps: 20 });
    expect(parseConfig([], { DASK_OPERATOR_EVENT_QPS: '50', DASK_OPERATOR_EVENT_BURST: '100' })).toMatchObject({ eventQps: 50, eventBurst: 100 });
    expect(() => parseConfig(['--event-qps=0'], {})).toThrow(/--event-qps: expected a number > 0, got "0"/);
    expect(() => parseConfig(['--event-burst=0'], {})).toThrow(/--event-burst: expected a whole number >= 1/);
  });
  test('client-side rate limit: --kube-api-qps / --kube-api-burst, or DASK_OPERATOR_KUBE_API_QPS / _BURST', () => {
    expect(parseConfig(['--kube-api-qps=2.5', '--kube-api-burst', '5'], {})).toMatchObject({ kubeApiQps: 2.5, kubeApiBurst: 5 });
    expect(parseConfig([], { DASK_OPERATOR_KUBE_API_QPS: '50', DASK_OPERATOR_KUBE_API_BURST: '100' })).toMatchObject({ kubeApiQps: 50, kubeApiBurst: 100 });
    expect(usage()).toMatch(/--kube-api-qps=<value>[\s\S]*DASK_OPERATOR_KUBE_API_QPS; default 20/);
    // DaskOperator passes its own defaults explicitly: they must be the operator's.
    expect(parseConfig([], {})).toMatchObject({ kubeApiQps: DEFAULT_KUBE_API_QPS, kubeApiBurst: DEFAULT_KUBE_API_BURST });
  });
  test('worker creation batches: --create-batch-size or DASK_OPERATOR_CREATE_BATCH_SIZE; the default is the one DaskOperator passes', () => {
    expect(parseConfig([], {}).createBatchSize).toBe(DEFAULT_CREATE_BATCH_SIZE);
    expect(FLAGS.find((f) => f.name === 'create-batch-size')?.default).toBe(String(DEFAULT_CREATE_BATCH_SIZE));
    expect(parseConfig(['--create-batch-size=5'], {}).createBatchSize).toBe(5);
    expect(parseConfig([], { DASK_OPERATOR_CREATE_BATCH_SIZE: '7' }).createBatchSize).toBe(7);
    expect(() => parseConfig(['--create-batch-size=0'], {})).toThrow(/--create-batch-size: expected a whole number >= 1, got "0"/);
  });
  test('flags win over env; both spellings of flags', () => {
    const c = parseConfig(['--namespaces=a,b', '--concurrency', '8', '--leader-elect', '--metrics-bind-address=127.0.0.1:0'], { DASK_OPERATOR_CONCURRENCY: '2', DASK_OPERATOR_LOG_LEVEL: 'debug', POD_NAMESPACE: 'ops' });
    expect(c).toMatchObject({ namespaces: ['a', 'b'], concurrency: 8, logLevel: 'debug', leaderElect: true, leaderElectionNamespace: 'ops', metricsBindAddress: { host: '127.0.0.1', port: 0 } });
  });
  test.each([
    [['--bogus'], /unknown flag --bogus; see --help/],
    [['--concurrency=0'], /--concurrency: expected a whole number >= 1, got "0"/],
    [['--log-level=verbose'], /--log-level: expected debug, info, warn or error, got "verbose"/],
    [['--scheduler-access=ssh'], /expected auto, dns, proxy or none/],
    [['--scale-down-fallback=kill'], /expected delete or wait/],
    [['--metrics-bind-address=8080'], /expected host:port/],
    [['positional'], /unexpected argument "positional"/],
    [['--kube-api-qps=0'], /--kube-api-qps: expected a number > 0, got "0"/],
    [['--kube-api-burst=0'], /--kube-api-burst: expected a whole number >= 1/],
  ])('%j is refused with a clear message', (argv, msg) => {
    expect(() => parseConfig(argv as string[], {})).toThrow(ConfigError);
    expect(() => parseConfig(argv as string[], {})).toThrow(msg);
  });
  test('usage lists every flag with its env var', () => {
    expect(usage()).toMatch(/--scale-down-fallback=<value>[\s\S]*DASK_OPERATOR_SCALE_DOWN_FALLBACK/);
  });
});
