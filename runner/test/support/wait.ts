// The one waitFor of the monorepo's tests (api and web import it: `runner/test-support`, or by path).
// Waiting on a condition instead of a clock: tests poll what they expect, with a generous deadline,
// so they pass as soon as it holds and do not flake on a loaded machine.

export interface WaitOptions {
  /** Give up after this long (generous: the machine may be busy). */
  timeoutMs?: number;
  /** What is awaited, for the error at the deadline. */
  what?: string;
  /** Between two looks. */
  intervalMs?: number;
}

export type Truthy<T> = Exclude<T, null | undefined | false | 0 | ''>;

/**
 * Resolves with the first truthy value `probe` returns; a probe that throws counts as not yet.
 * At the deadline it rejects, naming `what` and the last value or error seen.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 30_000, what = 'the condition', intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as Truthy<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen?.slice(0, 2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
