import type { Condition } from '../../lib/schema/generated/types';
import { truncateUtf8 } from '../runtime/text';

/**
 * Longest condition message, in UTF-8 bytes. Messages quote other systems (the scheduler's exception text, the API
 * server's rejection, the kubelet): bounded here, a status patch can never grow too big to write.
 */
export const MAX_CONDITION_MESSAGE_BYTES = 1024;

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * The new conditions list: each input replaces the condition of its type, keeping lastTransitionTime when the
 * status did not change. Conditions not mentioned are kept.
 */
export function setConditions(existing: readonly Condition[] | undefined, inputs: readonly ConditionInput[], generation: number | undefined, now: Date): Condition[] {
  const out = (existing ?? []).map((c) => ({ ...c }));
  for (const input of inputs) {
    const i = out.findIndex((c) => c.type === input.type);
    const prev = i >= 0 ? out[i] : undefined;
    const next: Condition = {
      type: input.type,
      status: input.status,
      reason: input.reason,
      message: truncateUtf8(input.message, MAX_CONDITION_MESSAGE_BYTES),
      lastTransitionTime: prev && prev.status === input.status && prev.lastTransitionTime ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
    if (i >= 0) out[i] = next;
    else out.push(next);
  }
  return out;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Deep equality of plain JSON (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
