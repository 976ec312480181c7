/** Environment variable values beyond plain strings: from Pod fields, Secrets, ConfigMaps and resource limits. */
import type { EnvVar } from './schema/generated/types';

/** Options of `EnvValue.fromSecret()` and `EnvValue.fromConfigMap()`. */
export interface EnvValueFromKeyOptions {
  /** Start the container even when the key (or the whole object) is missing. @default false */
  readonly optional?: boolean;
}

/**
 * The value of one environment variable, for the `envValues` props. Plain strings go in `env`.
 *
 * @example
 * new DaskCluster(chart, 'c', {
 *   env: { FOO: 'bar' },
 *   envValues: { POD_IP: EnvValue.fromFieldRef('status.podIP'), TOKEN: EnvValue.fromSecret('dask-token', 'token') },
 * });
 */
export class EnvValue {
  /** A literal value (the same as an entry of `env`). */
  public static fromValue(value: string): EnvValue {
    return new EnvValue({ value });
  }

  /** A field of the Pod, e.g. `metadata.name`, `status.podIP`, `spec.nodeName`. */
  public static fromFieldRef(fieldPath: string): EnvValue {
    return new EnvValue({ valueFrom: { fieldRef: { fieldPath } } });
  }

  /** A key of a Secret in the Pod's namespace. */
  public static fromSecret(secretName: string, key: string, options: EnvValueFromKeyOptions = {}): EnvValue {
    return new EnvValue({ valueFrom: { secretKeyRef: { name: secretName, key, ...(options.optional !== undefined ? { optional: options.optional } : {}) } } });
  }

  /** A key of a ConfigMap in the Pod's namespace. */
  public static fromConfigMap(configMapName: string, key: string, options: EnvValueFromKeyOptions = {}): EnvValue {
    return new EnvValue({ valueFrom: { configMapKeyRef: { name: configMapName, key, ...(options.optional !== undefined ? { optional: options.optional } : {}) } } });
  }

  /** A resource request or limit of the container itself, e.g. `limits.memory` or `requests.cpu`. */
  public static fromResource(resource: string): EnvValue {
    return new EnvValue({ valueFrom: { resourceFieldRef: { resource } } });
  }

  private constructor(private readonly source: Omit<EnvVar, 'name'>) {}

  /** @internal The EnvVar this value gives the variable `name`. */
  public _toEnvVar(name: string): EnvVar {
    return { name, ...JSON.parse(JSON.stringify(this.source)) } as EnvVar;
  }
}
