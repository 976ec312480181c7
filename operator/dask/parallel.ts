/**
 * Runs `fn` over `items` with at most `limit` calls in flight; stops taking new items once `stop()` is true or a call
 * has failed. Settles only when every call it started has settled (a reconcile that returns while its writes are still
 * in flight would be run again next to them), then rethrows the first failure.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failure && !stop()) {
      try {
        await fn(items[next++]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}
