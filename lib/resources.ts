/** Compute resources of the Dask containers, as value classes: `Cpu` (here) and cdk8s `Size`. */
import type { Size } from 'cdk8s';

/** An amount of CPU. */
export class Cpu {
  /** Whole or fractional cores, e.g. `Cpu.units(2)` or `Cpu.units(0.5)`. */
  public static units(amount: number): Cpu {
    return new Cpu(amount * 1000);
  }

  /** Thousandths of a core, e.g. `Cpu.millis(500)`. */
  public static millis(amount: number): Cpu {
    return new Cpu(amount);
  }

  /** The Kubernetes quantity: `2` for two cores, `500m` for half a core. */
  public readonly amount: string;

  private constructor(millis: number) {
    if (!(Number.isFinite(millis) && millis > 0 && Number.isInteger(millis))) {
      throw new Error(`Cpu: ${millis / 1000} cores is not a positive whole number of millicores; use Cpu.millis(n) or Cpu.units(n) with n > 0`);
    }
    this.amount = millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
  }
}

/** CPU request and limit. */
export interface CpuResources {
  /** CPU the scheduler reserves for the container. @default - no request */
  readonly request?: Cpu;
  /** CPU the container may use at most. @default - no limit */
  readonly limit?: Cpu;
}

/** Memory (or ephemeral storage) request and limit. */
export interface SizeResources {
  /** Amount the scheduler reserves for the container. @default - no request */
  readonly request?: Size;
  /** Amount the container may use at most. @default - no limit */
  readonly limit?: Size;
}

/**
 * Requests and limits of a container.
 *
 * @example
 * { cpu: { request: Cpu.units(2) }, memory: { request: Size.gibibytes(16), limit: Size.gibibytes(16) }, extended: { 'nvidia.com/gpu': 1 } }
 */
export interface ContainerResources {
  /** @default - no CPU request or limit */
  readonly cpu?: CpuResources;
  /** @default - no memory request or limit */
  readonly memory?: SizeResources;
  /** @default - no ephemeral-storage request or limit */
  readonly ephemeralStorage?: SizeResources;
  /**
   * Extended resources by name, as whole counts (e.g. `nvidia.com/gpu: 1`). Kubernetes does not overcommit them, so
   * they are set as limits (the request defaults to the limit).
   * @default - none
   */
  readonly extended?: { [name: string]: number };
}
