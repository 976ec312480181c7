/** Polling with a deadline: the only way integration tests wait for cluster state (never fixed sleeps). */

export interface EventuallyOptions<T> {
  /** Give up after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** Pause between attempts; default 250 ms. */
  readonly intervalMs?: number;
  /** What is being waited for, for the timeout message (e.g. "pod x to be Succeeded"). */
  readonly describe: string;
  /** Success test on the value `fn` returned; without it, success is `fn` not throwing. */
  readonly until?: (value: T) => boolean;
}

function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = 'undefined';
  return text.length > 2000 ? `${text.slice(0, 2000)}… (${text.length} chars)` : text;
}

/**
 * Calls `fn` until it succeeds (does not throw and, if given, `until(value)` holds), then returns the value.
 * Jest `expect` assertions inside `fn` work: a failing assertion just means "not yet".
 * On timeout it throws with `describe`, the last value seen and the last error.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastValue: { value: T } | undefined;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      lastValue = { value };
      lastError = undefined;
      if (!options.until || options.until(value)) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const parts = [`timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${options.describe}`];
  parts.push(`last value: ${lastValue ? show(lastValue.value) : '(none: every attempt threw)'}`);
  if (lastError !== undefined) parts.push(`last error: ${lastError instanceof Error ? lastError.message : show(lastError)}`);
  throw new Error(parts.join('\n'));
}
