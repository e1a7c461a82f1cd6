/**
 * Runs async operations one at a time per key, in arrival order; different keys run concurrently.
 * Every change to a job (API call or callback outcome) goes through here, so the database write
 * and the memory update of one key never interleave with another change of the same key.
 */
export class KeyQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(operation);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
