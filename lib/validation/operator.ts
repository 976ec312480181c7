/** Synth-time checks of the DaskOperator props: each problem names the prop, what is wrong and the fix. */
import type { DaskOperatorProps } from '../operator';
import type { LabelSelector, NetworkPolicyPeer } from '../pod';
import { TaintEffect, TolerationOperator } from '../pod';
import { RFC1123_LABEL } from '../schema/names';
import { k8sProblems } from './crd-schema';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CIDR = /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+:[0-9a-fA-F:.]*\/\d{1,3})$/;

/** What the construct itself puts into the Pod, which the props must not collide with. */
export interface OperatorBuiltIns {
  /** Label keys of the Pod template (the selectors use them). */
  readonly builtInLabels: readonly string[];
  /** Environment variables the construct sets. */
  readonly builtInEnv: readonly string[];
  /** The Pod spec as synthesized, checked against the core/v1 PodSpec schema last. */
  readonly podSpec: object;
}

const whole = (v: number | undefined, min: number, max = 2 ** 31 - 1): boolean => v === undefined || (Number.isInteger(v) && v >= min && v <= max);
const isPort = (v: number): boolean => Number.isInteger(v) && v >= 1 && v <= 65535;

export function operatorProblems(p: DaskOperatorProps, b: OperatorBuiltIns): string[] {
  const problems: string[] = [];
  const replicas = p.replicas ?? 1;
  if (!whole(p.replicas, 0)) problems.push(`replicas must be a whole number >= 0, got ${p.replicas}`);
  if (!whole(p.concurrency, 1)) problems.push(`concurrency must be a whole number >= 1 (reconciles in parallel per kind), got ${p.concurrency}`);
  if (p.kubeApiQps !== undefined && !(Number.isFinite(p.kubeApiQps) && p.kubeApiQps > 0)) problems.push(`kubeApiQps must be a number > 0 (API-server requests per second), got ${p.kubeApiQps}`);
  if (!whole(p.kubeApiBurst, 1)) problems.push(`kubeApiBurst must be a whole number >= 1 (requests at once before kubeApiQps applies), got ${p.kubeApiBurst}`);
  if (!whole(p.workerCreationBatchSize, 1)) problems.push(`workerCreationBatchSize must be a whole number >= 1 (worker Pods per group and reconcile), got ${p.workerCreationBatchSize}`);
  if (p.metricsPort !== undefined && !isPort(p.metricsPort)) problems.push(`metricsPort must be a port number 1-65535, got ${p.metricsPort}`);
  if (p.probeTimeout !== undefined) {
    const s = p.probeTimeout.toMilliseconds() / 1000;
    if (!(Number.isInteger(s) && s >= 1)) problems.push(`probeTimeout must be a whole number of seconds >= 1, got ${s} s`);
  }
  if (p.podDisruptionBudget === true && replicas < 2) {
    problems.push(`podDisruptionBudget: true needs replicas >= 2 (got ${replicas}): with one operator Pod a budget of maxUnavailable 1 protects nothing; set replicas: 2 or drop podDisruptionBudget`);
  }

  // Identity and RBAC
  const sa = p.serviceAccountName;
  if (sa !== undefined && !(sa.length <= 253 && DNS_SUBDOMAIN.test(sa))) problems.push(`serviceAccountName "${sa}" is not a valid object name (lower-case RFC 1123 subdomain, at most 253 characters)`);
  if (p.createServiceAccount === false && p.serviceAccountAnnotations && Object.keys(p.serviceAccountAnnotations).length > 0) {
    problems.push('serviceAccountAnnotations have no effect with createServiceAccount: false (the ServiceAccount is not created here); annotate your ServiceAccount where it is made, or drop them');
  }
  if (p.createRbac === false && (p.extraRules ?? []).length > 0) {
    problems.push('extraRules have no effect with createRbac: false (no Role is created here); grant them with your own RBAC, or drop them');
  }
  (p.imagePullSecrets ?? []).forEach((s, i) => {
    if (!DNS_SUBDOMAIN.test(s)) problems.push(`imagePullSecrets[${i}]: "${s}" is not a valid Secret name`);
  });
  for (const dup of duplicates(p.imagePullSecrets ?? [])) problems.push(`imagePullSecrets: "${dup}" is listed more than once`);
  if (p.priorityClassName !== undefined && !DNS_SUBDOMAIN.test(p.priorityClassName)) problems.push(`priorityClassName "${p.priorityClassName}" is not a valid PriorityClass name`);

  // Pod metadata and environment
  for (const key of Object.keys(p.podMetadata?.labels ?? {})) {
    if (b.builtInLabels.includes(key)) problems.push(`podMetadata.labels["${key}"]: the construct sets this label on the operator Pods (the Deployment, Service, PodDisruptionBudget and NetworkPolicy select on them); choose another key`);
  }
  const plainEnv = Object.keys(p.env ?? {});
  for (const name of Object.keys(p.envValues ?? {})) {
    if (plainEnv.includes(name)) problems.push(`environment variable "${name}" is set in both env and envValues; set it once`);
  }
  for (const name of [...plainEnv, ...Object.keys(p.envValues ?? {})]) {
    if (b.builtInEnv.includes(name)) problems.push(`environment variable "${name}" is set by the construct (the operator reads its own Pod from it); choose another name`);
  }

  // Volumes and mounts (the construct's own: `tmp` at /tmp)
  const volumes = ['tmp', ...(p.volumes ?? []).map((v) => v.name)];
  (p.volumes ?? []).forEach((v, i) => {
    if (v.name === 'tmp') problems.push(`volumes[${i}]: the name "tmp" is the construct's own volume (an emptyDir at /tmp); choose another name`);
    else if (!new RegExp(RFC1123_LABEL).test(v.name) || v.name.length > 63) problems.push(`volumes[${i}]: "${v.name}" is not a valid volume name (RFC 1123 label)`);
  });
  for (const dup of duplicates(volumes.slice(1))) problems.push(`volumes: more than one volume is named "${dup}"; volume names must be unique`);
  const paths = ['/tmp'];
  (p.volumeMounts ?? []).forEach((m, i) => {
    if (!volumes.includes(m.name)) problems.push(`volumeMounts[${i}]: no volume named "${m.name}"; add it to volumes (e.g. Volume.fromConfigMap('${m.name}', ...)) or fix the name`);
    if (!m.mountPath.startsWith('/')) problems.push(`volumeMounts[${i}]: mountPath "${m.mountPath}" must be an absolute path`);
    if (paths.includes(m.mountPath)) problems.push(`volumeMounts[${i}]: mountPath "${m.mountPath}" is already mounted${m.mountPath === '/tmp' ? ' (the construct\'s tmp volume)' : ''}; choose another path`);
    paths.push(m.mountPath);
  });

  // Scheduling
  (p.tolerations ?? []).forEach((t, i) => {
    if (t.operator === TolerationOperator.EXISTS && t.value) problems.push(`tolerations[${i}]: operator EXISTS takes no value (got "${t.value}"); drop value or use EQUAL`);
    if (!t.key && t.operator !== TolerationOperator.EXISTS) problems.push(`tolerations[${i}]: without a key the operator must be EXISTS (tolerate every taint)`);
    if (t.tolerationSeconds !== undefined && t.effect !== TaintEffect.NO_EXECUTE) problems.push(`tolerations[${i}]: tolerationSeconds applies only to effect NO_EXECUTE`);
  });
  const weights = [
    ...(p.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t, i) => [`affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`, t.weight] as const),
    ...(p.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t, i) => [`affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`, t.weight] as const),
    ...(p.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t, i) => [`affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`, t.weight] as const),
  ];
  for (const [where, w] of weights) if (!whole(w, 1, 100)) problems.push(`${where}: weight must be a whole number 1-100, got ${w}`);

  // NetworkPolicy
  const np = p.networkPolicy;
  if (np) {
    (np.metricsFrom ?? []).forEach((peer, i) => problems.push(...peerProblems(`networkPolicy.metricsFrom[${i}]`, peer)));
    (np.apiServerCidrs ?? []).forEach((c, i) => {
      if (!CIDR.test(c)) problems.push(`networkPolicy.apiServerCidrs[${i}]: "${c}" is not a CIDR (e.g. 10.0.0.1/32)`);
    });
    if (np.apiServerPorts !== undefined && np.apiServerPorts.length === 0) problems.push('networkPolicy.apiServerPorts is empty: the operator could not reach the API server; leave it unset for 443 and 6443');
    (np.apiServerPorts ?? []).forEach((port, i) => {
      if (!isPort(port)) problems.push(`networkPolicy.apiServerPorts[${i}] must be a port number 1-65535, got ${port}`);
    });
  }

  // Whatever else the API server would refuse in the Pod spec (types, enums, unknown fields).
  if (problems.length === 0) problems.push(...k8sProblems('io.k8s.api.core.v1.PodSpec', b.podSpec, 'spec.template.spec'));
  return problems.map((m) => `DaskOperator: ${m}`);
}

function peerProblems(where: string, peer: NetworkPolicyPeer): string[] {
  const selectors = peer.podSelector !== undefined || peer.namespaceSelector !== undefined;
  if (!selectors && peer.ipBlock === undefined) return [`${where}: an empty peer; set podSelector, namespaceSelector or ipBlock (namespaceSelector: {} is every namespace)`];
  if (selectors && peer.ipBlock !== undefined) return [`${where}: ipBlock cannot be combined with podSelector or namespaceSelector; make them two peers`];
  const out: string[] = [];
  if (peer.ipBlock && !CIDR.test(peer.ipBlock.cidr)) out.push(`${where}.ipBlock.cidr: "${peer.ipBlock.cidr}" is not a CIDR`);
  for (const [name, sel] of [['podSelector', peer.podSelector], ['namespaceSelector', peer.namespaceSelector]] as [string, LabelSelector | undefined][]) {
    (sel?.matchExpressions ?? []).forEach((e, i) => {
      const needsValues = e.operator === 'In' || e.operator === 'NotIn';
      if (needsValues !== ((e.values ?? []).length > 0)) out.push(`${where}.${name}.matchExpressions[${i}]: operator ${e.operator} ${needsValues ? 'needs values' : 'takes no values'}`);
    });
  }
  return out;
}

function duplicates(list: readonly string[]): string[] {
  return [...new Set(list.filter((x, i) => list.indexOf(x) !== i))];
}
