import type { Container, EnvVar, PodSpec } from '../schema/generated/types';

/** Appends each variable to every container that does not define it yet; user values win and order is kept. */
export function injectEnv(spec: PodSpec, vars: readonly EnvVar[]): PodSpec {
  return { ...spec, containers: spec.containers.map((c) => withEnv(c, vars)) };
}

function withEnv(c: Container, vars: readonly EnvVar[]): Container {
  const env = [...(c.env ?? [])];
  for (const v of vars) if (!env.some((e) => e.name === v.name)) env.push({ ...v });
  return { ...c, env };
}

/** Deep copy through JSON (specs are plain JSON). */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
