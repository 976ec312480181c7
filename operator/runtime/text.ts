/** Text helpers for what the runtime writes to the API server. */

/** Cuts text to at most `maxBytes` UTF-8 bytes (on a character boundary), marking the cut with '…'. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = Buffer.from(text, 'utf8').subarray(0, Math.max(0, budget)).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD: drop it.
  while (out.endsWith('\uFFFD') || Buffer.byteLength(out, 'utf8') > budget) out = out.slice(0, -1);
  return out + ellipsis;
}
