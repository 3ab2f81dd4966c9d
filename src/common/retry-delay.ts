/**
 * Wait before retrying a call Microsoft did not answer (verifications, handoff deliveries):
 * exponential backoff from `baseMs` with jitter (0.5–1.5×), at least Microsoft's Retry-After when
 * it sent one, at most `maxMs`.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  retryAfterMs: number | null,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const backoff = baseMs * 2 ** attempt * (0.5 + random());
  return Math.min(Math.max(backoff, retryAfterMs ?? 0), maxMs);
}
