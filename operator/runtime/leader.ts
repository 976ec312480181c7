/**
 * Leader election on a coordination.k8s.io/v1 Lease.
 *
 * A candidate becomes leader by creating the Lease, or by replacing it (PUT guarded by the
 * resourceVersion it read) once the holder has not renewed for `leaseDurationMs` as measured on
 * the candidate's own clock from when it last saw the Lease change (so clock skew between
 * machines does not matter). The leader renews every `retryPeriodMs`; if it cannot renew for
 * `renewDeadlineMs`, or sees another holder, it has lost: `run()` resolves 'lost' and the process
 * should stop reconciling and exit. On graceful shutdown `release()` clears the holder so a
 * standby takes over at its next retry instead of waiting out the lease.
 *
 * Defaults: lease 15 s, renew deadline 10 s, retry period 2 s (the usual Kubernetes numbers).
 * Caveat: safety relies on renewDeadline < leaseDuration and on clocks advancing at similar rates.
 */
import { hostname } from 'node:os';
import { realClock, sleep, type Clock } from './clock';
import { isAlreadyExists, isConflict, isNotFound } from './kube-errors';
import { errorMessage, nullLogger, type Logger } from './logger';
import type { KubeRest } from './rest';

/** The Lease fields this module uses. Times are RFC 3339 MicroTime strings. */
export interface Lease {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string };
  readonly spec?: LeaseSpec;
}

/** coordination.k8s.io/v1 LeaseSpec. */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** Storage for the Lease (the API server in production, a fake in tests). */
export interface LeaseClient {
  /** The Lease, or undefined if it does not exist. */
  get(namespace: string, name: string): Promise<Lease | undefined>;
  /** Creates it; throws AlreadyExists (409) if someone else did first. */
  create(lease: Lease): Promise<Lease>;
  /** Replaces it; must throw Conflict (409) if `metadata.resourceVersion` is stale. */
  replace(lease: Lease): Promise<Lease>;
}

/** A LeaseClient on the API server. RBAC: get, create, update on leases in `namespace`. */
export function kubeLeaseClient(rest: KubeRest): LeaseClient {
  const base = (ns: string): string => `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases`;
  return {
    async get(namespace, name) {
      try {
        return await rest.request<Lease>('GET', `${base(namespace)}/${encodeURIComponent(name)}`);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    create: (lease) => rest.request<Lease>('POST', base(lease.metadata.namespace), { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease } }),
    replace: (lease) =>
      rest.request<Lease>('PUT', `${base(lease.metadata.namespace)}/${encodeURIComponent(lease.metadata.name)}`, {
        body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease },
      }),
  };
}

/** Options for a {@link LeaderElector}. */
export interface LeaderElectorOptions {
  readonly client: LeaseClient;
  /** Namespace of the Lease (usually the operator's own namespace). */
  readonly namespace: string;
  /** Name of the Lease. @default 'dask-operator-leader' */
  readonly name?: string;
  /** This candidate's identity. @default {@link defaultIdentity}() */
  readonly identity?: string;
  /** How long a lease is valid without renewal. @default 15_000 */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before giving up. @default 10_000 */
  readonly renewDeadlineMs?: number;
  /** Time between acquire/renew attempts. @default 2_000 */
  readonly retryPeriodMs?: number;
  /** @default realClock */
  readonly clock?: Clock;
  /** @default nullLogger */
  readonly logger?: Logger;
  /** Called when this process becomes leader. */
  readonly onStartedLeading?: () => void;
  /** Called when this process stops being leader (lost or released). */
  readonly onStoppedLeading?: () => void;
}

/** `$POD_NAME` (set through the downward API), else `hostname_pid`. */
export function defaultIdentity(): string {
  return process.env.POD_NAME || `${hostname()}_${process.pid}`;
}

/** Formats epoch ms as a Kubernetes MicroTime (RFC 3339 with 6 fractional digits). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

type Attempt = 'ok' | 'held' | 'failed';

/** Lease-based leader election. Call `run(signal)`; it resolves 'stopped' (signal aborted) or 'lost'. */
export class LeaderElector {
  readonly identity: string;
  readonly leaseName: string;
  private readonly o: Required<Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'identity' | 'name'>> & LeaderElectorOptions;
  private leader = false;
  /** When the last successful acquire/renew attempt started: the Lease we wrote is valid from no earlier than this. */
  private renewedAt = Number.NEGATIVE_INFINITY;
  private observed: { key: string; at: number } | undefined;
  private lastLease: Lease | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock: realClock,
      logger: nullLogger,
      ...opts,
    };
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs) {
      throw new Error(`could not configure leader election: renewDeadlineMs (${this.o.renewDeadlineMs}) must be less than leaseDurationMs (${this.o.leaseDurationMs})`);
    }
    this.identity = opts.identity ?? defaultIdentity();
    this.leaseName = opts.name ?? 'dask-operator-leader';
  }

  /** True while this process holds the lease. */
  isLeader(): boolean {
    return this.leader;
  }

  /**
   * True while this process may act as leader: it is leader and its last successful renewal started less than
   * `renewDeadlineMs` ago (on its own clock). A candidate takes over only `leaseDurationMs` after it last saw the Lease
   * change, and renewDeadline < leaseDuration, so a write checked here cannot overlap the next leader's, even when the
   * renew loop itself is late (a blocked event loop, a hung API call). Check it right before every write.
   */
  holdsLease(): boolean {
    return this.leader && this.o.clock.now() - this.renewedAt < this.o.renewDeadlineMs;
  }

  /** Campaigns until leader, then renews until `signal` aborts ('stopped') or the lease is lost ('lost'). */
  async run(signal: AbortSignal): Promise<'stopped' | 'lost'> {
    const { clock, logger, retryPeriodMs, renewDeadlineMs } = this.o;
    logger.info('campaigning for leadership', { lease: this.leaseName, identity: this.identity });
    while (!signal.aborted) {
      const started = clock.now();
      if ((await this.attempt()) === 'ok') {
        this.renewedAt = started;
        break;
      }
      await sleep(clock, retryPeriodMs * (1 + 0.2 * Math.random()), signal);
    }
    if (signal.aborted) return 'stopped';
    this.setLeader(true);
    let lastRenew = clock.now();
    while (!signal.aborted) {
      await sleep(clock, retryPeriodMs, signal);
      if (signal.aborted) break;
      const remaining = lastRenew + renewDeadlineMs - clock.now();
      const cancel = new AbortController();
      const started = clock.now();
      const outcome = await Promise.race([this.attempt(), sleep(clock, Math.max(0, remaining), cancel.signal).then(() => 'timeout' as const)]);
      cancel.abort();
      if (outcome === 'ok') {
        lastRenew = clock.now();
        this.renewedAt = started;
        continue;
      }
      if (outcome === 'held' || clock.now() - lastRenew >= renewDeadlineMs) {
        logger.error('lost leadership', { lease: this.leaseName, identity: this.identity, reason: outcome === 'held' ? 'another holder' : 'renew deadline exceeded' });
        this.setLeader(false);
        return 'lost';
      }
    }
    return 'stopped';
  }

  /** If leader, clears the holder so another candidate can take over at once. Never throws. */
  async release(): Promise<void> {
    if (!this.leader) return;
    this.setLeader(false);
    try {
      const cur = await this.o.client.get(this.o.namespace, this.leaseName);
      if (!cur || cur.spec?.holderIdentity !== this.identity) return;
      const now = microTime(this.o.clock.now());
      const { holderIdentity: _drop, ...rest } = cur.spec;
      await this.o.client.replace({ ...cur, spec: { ...rest, leaseDurationSeconds: 1, renewTime: now } });
      this.o.logger.info('released leadership', { lease: this.leaseName, identity: this.identity });
    } catch (e) {
      this.o.logger.warn('could not release the lease; a standby will take over when it expires', { lease: this.leaseName, error: e });
    }
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    if (v) {
      this.o.logger.info('became leader', { lease: this.leaseName, identity: this.identity });
      this.o.onStartedLeading?.();
    } else {
      this.o.onStoppedLeading?.();
    }
  }

  /** One acquire-or-renew attempt. */
  private async attempt(): Promise<Attempt> {
    const { client, namespace, clock, logger, leaseDurationMs } = this.o;
    const now = clock.now();
    const spec: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      const cur = await client.get(namespace, this.leaseName);
      if (!cur) {
        this.lastLease = await client.create({ metadata: { name: this.leaseName, namespace }, spec });
        this.observe(this.lastLease, clock.now());
        return 'ok';
      }
      this.observe(cur, now);
      const holder = cur.spec?.holderIdentity;
      const mine = holder === this.identity;
      const durationMs = (cur.spec?.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
      if (holder && !mine && this.observed && this.observed.at + durationMs > now) return 'held';
      const next: LeaseSpec = mine
        ? { ...cur.spec, ...spec, acquireTime: cur.spec?.acquireTime ?? spec.acquireTime, leaseTransitions: cur.spec?.leaseTransitions ?? 0 }
        : { ...spec, leaseTransitions: (cur.spec?.leaseTransitions ?? 0) + 1 };
      this.lastLease = await client.replace({ ...cur, spec: next });
      this.observe(this.lastLease, clock.now());
      return 'ok';
    } catch (e) {
      if (isConflict(e) || isAlreadyExists(e)) logger.debug('lost a race for the lease', { lease: this.leaseName });
      else logger.warn('could not acquire or renew the lease', { lease: this.leaseName, error: errorMessage(e) });
      return 'failed';
    }
  }

  /** Remembers when the Lease last changed, on our own clock. */
  private observe(lease: Lease, at: number): void {
    const key = `${lease.metadata.resourceVersion}|${lease.spec?.holderIdentity}|${lease.spec?.renewTime}`;
    if (this.observed?.key !== key) this.observed = { key, at };
  }
}
