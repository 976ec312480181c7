/**
 * Why a Pod's containers cannot start or keep running, read from the kubelet's container statuses: the reason and
 * message the kubelet reported (CrashLoopBackOff with the last exit, an image that cannot be pulled, an executable
 * that does not exist, OOMKilled), quoted into conditions and Events with a hint at the usual fix. Pure functions.
 */
import type { Container, ContainerStatus, Pod } from '../../lib/schema/generated/types';

/** Waiting reasons that mean the container cannot start (as opposed to ContainerCreating / PodInitializing). */
const FAILED_WAITING = new Set([
  'CrashLoopBackOff', 'CreateContainerError', 'CreateContainerConfigError', 'RunContainerError', 'StartError',
  'ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'ImageInspectError',
  'PreCreateHookError', 'PostStartHookError', 'PreStartHookError',
]);
/** Terminated reasons that name the cause better than the CrashLoopBackOff that follows them. */
const TELLING_EXIT = new Set(['OOMKilled', 'StartError', 'ContainerCannotRun']);
const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'ImageInspectError']);

/** At most this many characters of kubelet text are quoted (the whole message stays under 1 KiB). */
const MAX_QUOTE = 600;

export interface ContainerFailure {
  readonly pod: string;
  readonly container: string;
  /** The most telling reason: OOMKilled / StartError over the CrashLoopBackOff they cause. */
  readonly reason: string;
  /** "Pod p, container c: <reason>: <kubelet message>; last exit: ... Hint: ..." (≤ 1 KiB). */
  readonly message: string;
}

function quote(text: string | undefined): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > MAX_QUOTE ? `${t.slice(0, MAX_QUOTE - 3)}...` : t;
}

/** The first word the container executes (command[0], else args[0]): what a missing-executable error is about. */
function executable(c: Container | undefined): string | undefined {
  return c?.command?.[0] ?? c?.args?.[0];
}

/** Exit code 127 is "command not found" (tini, sh and friends exit with it when exec fails). */
const NOT_FOUND_EXIT = 127;

function hint(reason: string, text: string, spec: Container | undefined): string | undefined {
  const exe = executable(spec);
  const notFound = reason === 'CommandNotFound' || /executable file not found|no such file or directory/i.test(text);
  if (notFound && (exe === 'dask-scheduler' || exe === 'dask-worker')) {
    const now = exe === 'dask-scheduler' ? 'dask scheduler' : 'dask worker';
    return `distributed 2026.6.0 removed the \`${exe}\` command: start the container with \`${now}\` ` +
      `(args: [${now.split(' ').join(', ')}, ...]), which works with every Dask release since 2022.10.`;
  }
  if (IMAGE_REASONS.has(reason)) {
    const image = spec?.image ? `the image ${spec.image}` : 'the image';
    return `check that ${image} exists under that name and tag, and that the node may pull it (imagePullSecrets).`;
  }
  if (reason === 'CommandNotFound') {
    return `the image has no \`${exe ?? 'command'}\` on its PATH (an entrypoint such as tini exits 127 when it cannot exec it; \`kubectl logs --previous\` shows its words): check the container's command and args against the image.`;
  }
  if (reason === 'OOMKilled') {
    return 'the container used more memory than its limit: raise resources.limits.memory (and the worker\'s --memory-limit with it).';
  }
  return undefined;
}

const exitText = (code: number): string => `exit code ${code}${code === NOT_FOUND_EXIT ? ': command not found' : ''}`;

function failureOf(pod: Pod, status: ContainerStatus, spec: Container | undefined): ContainerFailure | undefined {
  const waiting = status.state?.waiting;
  const terminated = status.state?.terminated;
  const last = status.lastState?.terminated;
  let reason: string | undefined;
  const parts: string[] = [];
  if (waiting?.reason && FAILED_WAITING.has(waiting.reason)) {
    reason = last?.reason && TELLING_EXIT.has(last.reason) ? last.reason : last?.exitCode === NOT_FOUND_EXIT ? 'CommandNotFound' : waiting.reason;
    parts.push(`${waiting.reason}${waiting.message ? `: ${quote(waiting.message)}` : ''}`);
    if (last) parts.push(`last exit: ${last.reason ?? 'exited'} (${exitText(last.exitCode)})${last.message ? `: ${quote(last.message)}` : ''}`);
  } else if (terminated && ((terminated.reason && TELLING_EXIT.has(terminated.reason)) || terminated.exitCode === NOT_FOUND_EXIT)) {
    reason = terminated.reason && TELLING_EXIT.has(terminated.reason) ? terminated.reason : 'CommandNotFound';
    parts.push(`${terminated.reason ?? 'exited'} (${exitText(terminated.exitCode)})${terminated.message ? `: ${quote(terminated.message)}` : ''}`);
  }
  if (!reason) return undefined;
  const h = hint(reason, parts.join(' '), spec);
  const message = `Pod ${pod.metadata.name}, container ${status.name}: ${parts.join('; ')}${h ? `. Hint: ${h}` : ''}`;
  return { pod: pod.metadata.name as string, container: status.name, reason, message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message };
}

/** The first container of `pod` (init containers first) that cannot start or keep running, if any. */
export function containerFailure(pod: Pod): ContainerFailure | undefined {
  const specs = new Map<string, Container>([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => [c.name, c]));
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const f = failureOf(pod, s, specs.get(s.name));
    if (f) return f;
  }
  return undefined;
}

/**
 * Whether the Pod's process runs now: phase Running and every regular container running (not waiting or exited).
 * A crash-looping container keeps its Pod in phase Running, so the phase alone does not say that anything runs.
 */
export function containersRunning(pod: Pod): boolean {
  if (pod.status?.phase !== 'Running') return false;
  const statuses = pod.status.containerStatuses ?? [];
  return statuses.length > 0 && statuses.every((s) => s.state?.running !== undefined);
}
