/**
 * Errors raised by the scheduler client. Every error carries a short machine-readable `reason`
 * (usable as a Kubernetes condition reason or Event reason) and a message that says what was tried,
 * where, and what to check.
 */

/** Condition/Event reason strings used by the scheduler client. */
export type SchedulerErrorReason =
  | 'SchedulerUnreachable'
  | 'SchedulerTimeout'
  | 'SchedulerProtocolError'
  | 'SchedulerRemoteError'
  | 'SchedulerNotConfigured'
  | 'SchedulerAccessRefused';

export abstract class SchedulerClientError extends Error {
  /** CamelCase reason for a condition or Event. */
  public abstract readonly reason: SchedulerErrorReason;
  /** Where the client tried to go (URL or tcp:// address), if known. */
  public readonly target: string | undefined;

  protected constructor(message: string, target?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.target = target;
  }
}

/** Nothing accepted the connection (refused, DNS failure), or the connection dropped before an answer. */
export class SchedulerUnreachable extends SchedulerClientError {
  public readonly reason = 'SchedulerUnreachable' as const;
  /** True when the request certainly never reached the scheduler (so repeating it is safe for any op). */
  public readonly beforeRequest: boolean;
  public constructor(message: string, target?: string, options?: { cause?: unknown; beforeRequest?: boolean }) {
    super(message, target, options);
    this.beforeRequest = options?.beforeRequest ?? false;
  }
}

/** The scheduler (or something on its port) accepted the connection but did not answer in time. */
export class SchedulerTimeout extends SchedulerClientError {
  public readonly reason = 'SchedulerTimeout' as const;
  public readonly timeoutMs: number;
  public constructor(message: string, timeoutMs: number, target?: string, options?: { cause?: unknown }) {
    super(message, target, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The peer answered, but not in a way a Dask scheduler would (bad framing, bad JSON, unexpected shape, route missing). */
export class SchedulerProtocolError extends SchedulerClientError {
  public readonly reason = 'SchedulerProtocolError' as const;
  public constructor(message: string, target?: string, options?: { cause?: unknown }) {
    super(message, target, options);
  }
}

/** The scheduler understood the request and reported an error while handling it. */
export class SchedulerRemoteError extends SchedulerClientError {
  public readonly reason = 'SchedulerRemoteError' as const;
  public constructor(message: string, target?: string, options?: { cause?: unknown }) {
    super(message, target, options);
  }
}

/** The client was built without the address a call needs (e.g. `workersToClose` without a TCP address). */
export class SchedulerNotConfigured extends SchedulerClientError {
  public readonly reason = 'SchedulerNotConfigured' as const;
  public constructor(message: string) {
    super(message);
  }
}

/** The operator refused to contact the scheduler (its Service could send the traffic somewhere else); nothing was sent. */
export class SchedulerAccessRefused extends SchedulerClientError {
  public readonly reason = 'SchedulerAccessRefused' as const;
  public constructor(message: string) {
    super(message);
  }
}

const undelivered = new WeakSet<object>();

/** Marks an error as having happened before the request was sent (e.g. during the comm handshake). */
export function markNeverDelivered<E extends Error>(err: E): E {
  undelivered.add(err);
  return err;
}

/** True for failures where the request certainly never reached the scheduler, so repeating it is safe. */
export function neverDelivered(err: unknown): boolean {
  return (err instanceof SchedulerUnreachable && err.beforeRequest) || (typeof err === 'object' && err !== null && undelivered.has(err));
}
