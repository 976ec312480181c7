/**
 * Configuration files of the node tier's real node: containerd, the CNI network, kubelet, kube-proxy and CoreDNS.
 * Pure functions of a few paths and addresses (written by real-node.ts); each setting that matters on this kind
 * of machine says why. See docs/control-plane.md ("The node tier").
 */

export const REAL_NODE_NAME = 'real-node-0';
/** The bridge cni0's address: node InternalIP, kubelet address, Pods' gateway and their DNS server. */
export const NODE_IP = '10.250.0.1';
export const POD_CIDR = '10.250.0.0/24';
export const NODE_CIDR = `${NODE_IP}/24`;
export const CLUSTER_DOMAIN = 'cluster.local';
export const KUBELET_PORT = 10250;
export const KUBELET_HEALTHZ_PORT = 10248;
export const KUBE_PROXY_HEALTHZ_PORT = 10256;
export const KUBE_PROXY_METRICS_PORT = 10249;
export const COREDNS_READY_PORT = 8181;
export const CNI_BIN_DIR = '/usr/lib/cni';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

const q = (s: string): string => JSON.stringify(s);

export interface ContainerdPaths {
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly cniConfDir: string;
}

/** containerd 1.6 (config version 2). */
export function containerdConfig(p: ContainerdPaths, sandboxImage = PAUSE_IMAGE): string {
  return `version = 2
root = ${q(p.root)}
state = ${q(p.state)}
# Plugins that would touch host paths (opt: /opt/containerd) or are of no use here.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ${q(p.socket)}

[ttrpc]
  address = ${q(`${p.socket}.ttrpc`)}

[plugins."io.containerd.grpc.v1.cri"]
  # No registry is reachable: the pause image is imported before kubelet starts.
  sandbox_image = ${q(sandboxImage)}
  # Without CAP_SYS_RESOURCE, runc cannot lower oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  # Pod network namespaces under containerd's state dir rather than /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${q(CNI_BIN_DIR)}
    conf_dir = ${q(p.cniConfDir)}
    max_conf_num = 1
`;
}

/** One bridge network with host-local IPAM on POD_CIDR; the bridge already exists (node-sandbox.ts creates it). */
export function cniConflist(): string {
  return (
    JSON.stringify(
      {
        cniVersion: '1.0.0',
        name: 'cdk8s-dask',
        plugins: [
          {
            type: 'bridge',
            bridge: 'cni0',
            isGateway: true,
            // No masquerading: nothing may leave the namespace anyway, and there is no default route out of it.
            ipMasq: false,
            // A Pod reaching itself through its own Service.
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]],
              routes: [{ dst: '0.0.0.0/0' }],
            },
          },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

export interface KubeletPaths {
  readonly containerdSocket: string;
  readonly resolvConf: string;
  readonly cgroupRoot: string;
}

/** KubeletConfiguration v1beta1 for a lab node: anonymous + AlwaysAllow, cgroup v1 accepted, never GC images. */
export function kubeletConfig(p: KubeletPaths): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ_PORT}
# Lab node: the apiserver (and anyone inside the namespace) may call the kubelet API without credentials.
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: ${q(`unix://${p.containerdSocket}`)}
# kubelet 1.35+ refuses cgroup v1 unless told otherwise; this machine kind is cgroup v1 (hybrid).
failCgroupV1: false
cgroupDriver: cgroupfs
# kubepods and every container below one cgroup of this cluster (created and removed by node-sandbox.ts).
cgroupRoot: ${q(p.cgroupRoot)}
cgroupsPerQOS: true
# Lowering oom_score_adj needs CAP_SYS_RESOURCE; 0 leaves kubelet's own as it is.
oomScoreAdj: 0
failSwapOn: false
protectKernelDefaults: false
clusterDomain: ${CLUSTER_DOMAIN}
clusterDNS:
- ${NODE_IP}
resolvConf: ${q(p.resolvConf)}
# Imported images cannot be pulled again: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
maxPods: 30
serializeImagePulls: false
registerNode: true
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
rotateCertificates: false
serverTLSBootstrap: false
nodeStatusUpdateFrequency: 5s
syncFrequency: 10s
containerLogMaxSize: 10Mi
containerLogMaxFiles: 2
`;
}

/** KubeProxyConfiguration v1alpha1: nftables, masquerade everything (Pod -> Service -> Pod on one bridge without
 * br_netfilter), and leave every host-global conntrack setting as it is. */
export function kubeProxyConfig(kubeconfig: string): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${q(kubeconfig)}
hostnameOverride: ${REAL_NODE_NAME}
mode: nftables
nftables:
  masqueradeAll: true
clusterCIDR: ${POD_CIDR}
detectLocalMode: ClusterCIDR
nodePortAddresses:
- ${NODE_IP}/32
healthzBindAddress: 127.0.0.1:${KUBE_PROXY_HEALTHZ_PORT}
metricsBindAddress: 127.0.0.1:${KUBE_PROXY_METRICS_PORT}
# Lowering oom_score_adj needs CAP_SYS_RESOURCE.
oomScoreAdj: 0
# 0 = leave as is: nf_conntrack_max and the hash size are host-global.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`;
}

/** CoreDNS: cluster.local from the API, NXDOMAIN for every other name; it never forwards (no plugin for it is built). */
export function corefile(kubeconfig: string, context: string): string {
  return `${CLUSTER_DOMAIN}:53 {
  bind ${NODE_IP}
  errors
  log . "{remote} {type} {name} {rcode} {duration}"
  ready 127.0.0.1:${COREDNS_READY_PORT}
  kubernetes ${CLUSTER_DOMAIN} {
    kubeconfig ${kubeconfig} ${context}
    pods insecure
  }
}
.:53 {
  bind ${NODE_IP}
  errors
  log . "{remote} {type} {name} {rcode} {duration}"
  template ANY ANY {
    rcode NXDOMAIN
  }
}
`;
}

/** The resolv.conf kubelet derives Pod DNS from (dnsPolicy Default gets it verbatim): CoreDNS only, no host search. */
export function nodeResolvConf(): string {
  return `nameserver ${NODE_IP}\n`;
}
