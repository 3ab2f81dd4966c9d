/**
 * Reads until the answer is something (not null, undefined or false) and returns it. A read that
 * throws counts as "not yet" (an assertion that does not hold yet); once `timeoutMs` has passed,
 * fails naming `what` with the last answer, or throws the read's last error.
 */
export async function eventually<T>(
  read: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<Exclude<T, null | undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let answer: T | undefined;
    let failure: unknown;
    try {
      answer = await read();
    } catch (error) {
      failure = error;
    }
    if (failure === undefined && answer !== null && answer !== undefined && answer !== false) {
      return answer as Exclude<T, null | undefined | false>;
    }
    if (Date.now() > deadline) {
      if (failure instanceof Error) throw failure;
      if (failure !== undefined) throw new Error(`${what}: ${JSON.stringify(failure)}`);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(answer)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
