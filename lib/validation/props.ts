/** Checks of construct props shared by the constructs (each names the prop and the fix). */
import type { ContainerResources } from '../resources';

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
