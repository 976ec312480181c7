/**
 * DaskJob lifecycle vocabulary, shared by the operator (which writes it), the client (which waits on it) and the docs:
 * the upstream `status.jobStatus` values plus batch/v1 Job's condition types and reasons.
 */

/** `status.jobStatus`: the upstream operator's values, which existing clients read. */
export type DaskJobPhase = 'JobCreated' | 'ClusterCreated' | 'Running' | 'Successful' | 'Failed';
export const JOB_PHASES: readonly DaskJobPhase[] = ['JobCreated', 'ClusterCreated', 'Running', 'Successful', 'Failed'];

/**
 * Condition types (batch/v1 Job's names). `Suspended`: spec.suspend is true and the operator acted on it.
 * `Complete` / `Failed`: terminal, never set back to False.
 */
export type DaskJobConditionType = 'Suspended' | 'Complete' | 'Failed';

/** Reasons of the `Failed` condition (and of the Warning Events that go with them). */
export type DaskJobFailureReason =
  /** The runner failed more often than spec.backoffLimit allows (with no backoffLimit: once). */
  | 'BackoffLimitExceeded'
  /** spec.activeDeadlineSeconds passed before the runner succeeded. */
  | 'DeadlineExceeded'
  /** The name cannot name a DaskCluster (only with CRDs lacking the CEL rule). */
  | 'InvalidName';

/** Reasons of the `Suspended` condition. */
export type DaskJobSuspendReason = 'JobSuspended' | 'JobResumed';

/** Reason of the `Complete` condition. */
export type DaskJobCompleteReason = 'RunnerSucceeded';

/** Whether a job with this status has finished for good (either way). */
export function jobFinished(status: { jobStatus?: string; conditions?: readonly { type: string; status: string }[] } | undefined): boolean {
  if (!status) return false;
  if (status.jobStatus === 'Successful' || status.jobStatus === 'Failed') return true;
  return (status.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}
