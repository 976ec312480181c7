/** Checks of construct props shared by the constructs (each names the prop and the fix). */
import type { DaskClusterOptions, DaskJobOptions } from '../options';
import type { ContainerResources } from '../resources';
import { secondsOf } from '../spec/from-options';

/** Problems with a resources struct: positive, whole extended-resource counts. */
export function resourcesProblems(what: string, resources: ContainerResources | undefined): string[] {
  return Object.entries(resources?.extended ?? {})
    .filter(([, n]) => !(Number.isInteger(n) && n >= 0))
    .map(([name, n]) => `${what}: resources.extended["${name}"] must be a whole number >= 0, got ${n}`);
}

export function replicasProblems(what: string, n: number | undefined): string[] {
  if (n === undefined) return [];
  return Number.isInteger(n) && n >= 0 ? [] : [`${what}: worker count must be a whole number >= 0, got ${n}`];
}

/** Problems with the idle settings of a cluster's options. */
export function idleProblems(what: string, o: DaskClusterOptions): string[] {
  const timeout = secondsOf(o.idleTimeout) ?? 0;
  if (o.idleAction !== undefined && !(timeout > 0)) {
    return [`${what}idleAction ${o.idleAction} has no effect without an idle timeout: set idleTimeout (or drop idleAction)`];
  }
  return [];
}

/** Problems with a DaskJob's lifecycle options. */
export function jobLifecycleProblems(o: DaskJobOptions): string[] {
  const problems: string[] = [];
  const whole = (v: number | undefined, min: number): boolean => v === undefined || (Number.isInteger(v) && v >= min && v <= 2 ** 31 - 1);
  if (!whole(o.backoffLimit, 0)) problems.push(`backoffLimit must be a whole number >= 0 (retries of a failed runner), got ${o.backoffLimit}`);
  const deadline = secondsOf(o.activeDeadline);
  if (!whole(deadline, 1)) problems.push(`activeDeadline must be a whole number of seconds >= 1, got ${deadline} s`);
  const ttl = secondsOf(o.ttlAfterFinished);
  if (!whole(ttl, 0)) problems.push(`ttlAfterFinished must be a whole number of seconds >= 0, got ${ttl} s`);
  return problems;
}
