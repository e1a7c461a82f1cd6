/** Time as the benchmarks measure it. */

/** Wall-clock ms since the epoch with sub-millisecond resolution (monotonic within a run). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** CLOCK_MONOTONIC in microseconds: the time base of V8's --cpu-prof timestamps on Linux. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls probe until accept(value); throws with `what` after timeoutMs. */
export async function waitUntil<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
    await sleep(everyMs);
  }
}
