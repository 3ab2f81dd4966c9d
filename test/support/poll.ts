/**
 * Reads until the answer is something (not null, undefined or false) and returns it; fails naming
 * `what` and the last answer once `timeoutMs` has passed.
 */
export async function poll<T>(
  read: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await read();
    if (answer !== null && answer !== undefined && answer !== false) return answer;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(answer)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
