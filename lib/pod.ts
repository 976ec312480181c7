/**
 * Pod-level settings a construct passes through to a Pod template: scheduling (tolerations, affinity), security
 * contexts, volumes and their mounts, label selectors and network-policy peers. The structs are typed after
 * core/v1 and networking/v1 and keep their field names, so what you write is what the YAML says.
 */
import type { Size } from 'cdk8s';
import { quantityOf } from './spec/from-options';

/** How a toleration matches a taint's value. */
export enum TolerationOperator {
  /** The taint's value must equal the toleration's `value`. */
  EQUAL = 'Equal',
  /** Any value (leave `value` unset). */
  EXISTS = 'Exists',
}

/** What a taint does to Pods that do not tolerate it. */
export enum TaintEffect {
  NO_SCHEDULE = 'NoSchedule',
  PREFER_NO_SCHEDULE = 'PreferNoSchedule',
  NO_EXECUTE = 'NoExecute',
}

/** A toleration of a node taint (core/v1 Toleration). */
export interface Toleration {
  /** Taint key; empty with operator EXISTS tolerates every taint. @default - every key (needs operator EXISTS) */
  readonly key?: string;
  /** @default TolerationOperator.EQUAL */
  readonly operator?: TolerationOperator;
  /** Taint value, for operator EQUAL. @default - empty */
  readonly value?: string;
  /** @default - every effect */
  readonly effect?: TaintEffect;
  /** For effect NO_EXECUTE: how long the Pod stays bound after the taint appears. @default - forever */
  readonly tolerationSeconds?: number;
}

/** Operators of a label-selector requirement. */
export enum LabelSelectorOperator {
  IN = 'In',
  NOT_IN = 'NotIn',
  EXISTS = 'Exists',
  DOES_NOT_EXIST = 'DoesNotExist',
}

/** One requirement of a label selector (meta/v1 LabelSelectorRequirement). */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: LabelSelectorOperator;
  /** Values, for IN and NOT_IN. @default - none */
  readonly values?: string[];
}

/** A label selector (meta/v1 LabelSelector); an empty one selects everything. */
export interface LabelSelector {
  /** @default - none */
  readonly matchLabels?: { [key: string]: string };
  /** @default - none */
  readonly matchExpressions?: LabelSelectorRequirement[];
}

/** Operators of a node-selector requirement. */
export enum NodeSelectorOperator {
  IN = 'In',
  NOT_IN = 'NotIn',
  EXISTS = 'Exists',
  DOES_NOT_EXIST = 'DoesNotExist',
  /** Greater than (one integer value). */
  GT = 'Gt',
  /** Less than (one integer value). */
  LT = 'Lt',
}

/** One requirement on a node's labels or fields (core/v1 NodeSelectorRequirement). */
export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: NodeSelectorOperator;
  /** @default - none (EXISTS, DOES_NOT_EXIST) */
  readonly values?: string[];
}

/** Requirements that must all hold (core/v1 NodeSelectorTerm). */
export interface NodeSelectorTerm {
  /** On node labels. @default - none */
  readonly matchExpressions?: NodeSelectorRequirement[];
  /** On node fields (`metadata.name`). @default - none */
  readonly matchFields?: NodeSelectorRequirement[];
}

/** Terms of which one must match (core/v1 NodeSelector). */
export interface NodeSelector {
  readonly nodeSelectorTerms: NodeSelectorTerm[];
}

/** A weighted node preference (core/v1 PreferredSchedulingTerm). */
export interface PreferredSchedulingTerm {
  /** 1-100. */
  readonly weight: number;
  readonly preference: NodeSelectorTerm;
}

/** Node affinity (core/v1 NodeAffinity). */
export interface NodeAffinity {
  /** @default - none */
  readonly requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector;
  /** @default - none */
  readonly preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[];
}

/** Pods (by labels, in some namespaces) near or away from which to run (core/v1 PodAffinityTerm). */
export interface PodAffinityTerm {
  /** Node label whose value defines "the same place", e.g. `kubernetes.io/hostname`. */
  readonly topologyKey: string;
  /** @default - no Pods */
  readonly labelSelector?: LabelSelector;
  /** @default - the Pod's own namespace (unless namespaceSelector is set) */
  readonly namespaces?: string[];
  /** @default - the Pod's own namespace (unless namespaces is set) */
  readonly namespaceSelector?: LabelSelector;
  /** @default - none */
  readonly matchLabelKeys?: string[];
  /** @default - none */
  readonly mismatchLabelKeys?: string[];
}

/** A weighted pod (anti-)affinity preference (core/v1 WeightedPodAffinityTerm). */
export interface WeightedPodAffinityTerm {
  /** 1-100. */
  readonly weight: number;
  readonly podAffinityTerm: PodAffinityTerm;
}

/** Pod affinity or anti-affinity (core/v1 PodAffinity / PodAntiAffinity). */
export interface PodAffinity {
  /** @default - none */
  readonly requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  /** @default - none */
  readonly preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTerm[];
}

/** Scheduling constraints (core/v1 Affinity). */
export interface Affinity {
  /** @default - none */
  readonly nodeAffinity?: NodeAffinity;
  /** @default - none */
  readonly podAffinity?: PodAffinity;
  /** @default - none */
  readonly podAntiAffinity?: PodAffinity;
}

/** Kinds of seccomp and AppArmor profiles. */
export enum ProfileType {
  RUNTIME_DEFAULT = 'RuntimeDefault',
  /** A profile on the node, named by `localhostProfile`. */
  LOCALHOST = 'Localhost',
  UNCONFINED = 'Unconfined',
}

/** A seccomp or AppArmor profile (core/v1 SeccompProfile / AppArmorProfile). */
export interface SecurityProfile {
  readonly type: ProfileType;
  /** For LOCALHOST: the profile's path (seccomp) or name (AppArmor) on the node. @default - none */
  readonly localhostProfile?: string;
}

/** SELinux labels (core/v1 SELinuxOptions). */
export interface SeLinuxOptions {
  /** @default - the runtime's */
  readonly level?: string;
  /** @default - the runtime's */
  readonly role?: string;
  /** @default - the runtime's */
  readonly type?: string;
  /** @default - the runtime's */
  readonly user?: string;
}

/** When the kubelet changes volume ownership to the fsGroup. */
export enum FsGroupChangePolicy {
  ALWAYS = 'Always',
  ON_ROOT_MISMATCH = 'OnRootMismatch',
}

/** Security settings of a whole Pod (core/v1 PodSecurityContext, the fields a controller Pod uses). */
export interface PodSecurityContext {
  /** @default - the image's user */
  readonly runAsUser?: number;
  /** @default - the image's group */
  readonly runAsGroup?: number;
  /** @default - not enforced */
  readonly runAsNonRoot?: boolean;
  /** Group owning mounted volumes. @default - none */
  readonly fsGroup?: number;
  /** @default FsGroupChangePolicy.ALWAYS */
  readonly fsGroupChangePolicy?: FsGroupChangePolicy;
  /** @default - none */
  readonly supplementalGroups?: number[];
  /** @default - the runtime's */
  readonly seccompProfile?: SecurityProfile;
  /** @default - the runtime's */
  readonly appArmorProfile?: SecurityProfile;
  /** @default - the runtime's */
  readonly seLinuxOptions?: SeLinuxOptions;
}

/** Linux capabilities to add and drop (core/v1 Capabilities). */
export interface Capabilities {
  /** @default - none */
  readonly add?: string[];
  /** @default - none */
  readonly drop?: string[];
}

/** Security settings of one container (core/v1 SecurityContext, the fields a controller container uses). */
export interface ContainerSecurityContext {
  /** @default - allowed */
  readonly allowPrivilegeEscalation?: boolean;
  /** @default false */
  readonly readOnlyRootFilesystem?: boolean;
  /** @default - the Pod's */
  readonly runAsNonRoot?: boolean;
  /** @default - the Pod's */
  readonly runAsUser?: number;
  /** @default - the Pod's */
  readonly runAsGroup?: number;
  /** @default false */
  readonly privileged?: boolean;
  /** @default - the runtime's */
  readonly capabilities?: Capabilities;
  /** @default - the Pod's */
  readonly seccompProfile?: SecurityProfile;
  /** @default - the Pod's */
  readonly appArmorProfile?: SecurityProfile;
  /** @default - the Pod's */
  readonly seLinuxOptions?: SeLinuxOptions;
}

/** Where an emptyDir volume lives. */
export enum EmptyDirMedium {
  /** The node's default storage. */
  DEFAULT = '',
  /** A tmpfs (counts against the container's memory). */
  MEMORY = 'Memory',
}

/** Options of `Volume.fromEmptyDir()`. */
export interface EmptyDirVolumeOptions {
  /** @default EmptyDirMedium.DEFAULT */
  readonly medium?: EmptyDirMedium;
  /** @default - no limit */
  readonly sizeLimit?: Size;
}

/** Options of `Volume.fromConfigMap()` and `Volume.fromSecret()`. */
export interface KeysVolumeOptions {
  /** Only these keys, each at the relative path given (key → path). @default - every key, as a file named after it */
  readonly items?: { [key: string]: string };
  /** Permission bits of the files, e.g. 0o440. @default 0o644 */
  readonly defaultMode?: number;
  /** Start the Pod even when the object (or a listed key) is missing. @default false */
  readonly optional?: boolean;
}

/** Options of `Volume.fromPersistentVolumeClaim()`. */
export interface PersistentVolumeClaimVolumeOptions {
  /** @default false */
  readonly readOnly?: boolean;
}

/**
 * A volume of a Pod, mounted into its container by `VolumeMount`s that name it.
 *
 * @example
 * volumes: [Volume.fromConfigMap('plugins', 'dask-operator-plugins'), Volume.fromSecret('ca', 'corporate-ca', { items: { 'ca.crt': 'ca.crt' } })],
 * volumeMounts: [{ name: 'plugins', mountPath: '/plugins', readOnly: true }, { name: 'ca', mountPath: '/etc/ssl/corporate', readOnly: true }],
 */
export class Volume {
  /** Scratch space that lives as long as the Pod. */
  public static fromEmptyDir(name: string, options: EmptyDirVolumeOptions = {}): Volume {
    const emptyDir: Record<string, unknown> = {};
    if (options.medium) emptyDir.medium = options.medium;
    if (options.sizeLimit) emptyDir.sizeLimit = quantityOf(options.sizeLimit);
    return new Volume(name, { emptyDir });
  }

  /** The keys of a ConfigMap in the Pod's namespace, as files. */
  public static fromConfigMap(name: string, configMapName: string, options: KeysVolumeOptions = {}): Volume {
    return new Volume(name, { configMap: { name: configMapName, ...keysOf(options) } });
  }

  /** The keys of a Secret in the Pod's namespace, as files. */
  public static fromSecret(name: string, secretName: string, options: KeysVolumeOptions = {}): Volume {
    return new Volume(name, { secret: { secretName, ...keysOf(options) } });
  }

  /** A PersistentVolumeClaim in the Pod's namespace. */
  public static fromPersistentVolumeClaim(name: string, claimName: string, options: PersistentVolumeClaimVolumeOptions = {}): Volume {
    return new Volume(name, { persistentVolumeClaim: { claimName, ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}) } });
  }

  private constructor(
    /** The volume's name, which `VolumeMount.name` refers to. */
    public readonly name: string,
    private readonly source: Record<string, unknown>,
  ) {}

  /** @internal The core/v1 Volume. */
  public _toJson(): Record<string, unknown> {
    return { name: this.name, ...(JSON.parse(JSON.stringify(this.source)) as Record<string, unknown>) };
  }
}

function keysOf(o: KeysVolumeOptions): Record<string, unknown> {
  return {
    ...(o.items ? { items: Object.entries(o.items).map(([key, path]) => ({ key, path })) } : {}),
    ...(o.defaultMode !== undefined ? { defaultMode: o.defaultMode } : {}),
    ...(o.optional !== undefined ? { optional: o.optional } : {}),
  };
}

/** Where a volume appears in the container (core/v1 VolumeMount). */
export interface VolumeMount {
  /** Name of a volume of the Pod (one of the `volumes`). */
  readonly name: string;
  /** Absolute path in the container. */
  readonly mountPath: string;
  /** @default false */
  readonly readOnly?: boolean;
  /** Mount only this path inside the volume. @default - the volume's root */
  readonly subPath?: string;
}

/** A range of IP addresses (networking/v1 IPBlock). */
export interface IpBlock {
  /** CIDR, e.g. `10.0.0.0/8` or `2001:db8::/32`. */
  readonly cidr: string;
  /** CIDRs inside `cidr` to leave out. @default - none */
  readonly except?: string[];
}

/**
 * Who a NetworkPolicy rule lets in or out (networking/v1 NetworkPolicyPeer): Pods matching `podSelector` in the
 * namespaces matching `namespaceSelector` (either alone: the policy's own namespace, or all Pods of those
 * namespaces), or an `ipBlock` (alone).
 */
export interface NetworkPolicyPeer {
  /** @default - the policy's own namespace (with podSelector), or none */
  readonly namespaceSelector?: LabelSelector;
  /** @default - every Pod of the selected namespaces */
  readonly podSelector?: LabelSelector;
  /** @default - none */
  readonly ipBlock?: IpBlock;
}
