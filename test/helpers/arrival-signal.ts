/**
 * Lets a test wait for something a recording server sees: `until(probe)` re-checks the probe
 * every time the server calls `wake()` (an arrival, an exchange ending), with a deadline.
 */
export class ArrivalSignal {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly name: string) {}

  wake(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves with the probe's first non-null value; rejects after timeoutMs (`what` says for what). */
  async until<T>(probe: () => T | null, what: string | (() => string), timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== null) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${typeof what === 'string' ? what : what()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}
