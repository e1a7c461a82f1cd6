/**
 * Group commit: writes submitted while the database is busy with earlier ones wait, and go
 * together as one statement as soon as a statement slot frees up. A write submitted while a slot
 * is free goes at once (no added delay when idle), so under load the batch size follows the
 * database's latency by itself.
 *
 * Each submit() settles with its own item's outcome: resolved after the statement that carried it
 * committed, rejected with that statement's error (a failed batch fails every item in it).
 * Callers must not submit two writes of one row before the first settles (the KeyQueue sees to
 * that): items in one batch carry no order.
 */

export interface WriteBatcherOptions<T, R> {
  /** Writes the items with one statement; resolves with one result per item, in order. */
  flush: (items: readonly T[]) => Promise<readonly R[]>;
  /** Most items per statement (statement size, bound-parameter limits). */
  maxBatch: number;
  /** Most statements in flight at once. */
  maxInFlight: number;
  /** Told the size of every statement that committed (for metrics). */
  onBatch?: (size: number) => void;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class WriteBatcher<T, R> {
  private readonly flush: (items: readonly T[]) => Promise<readonly R[]>;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly onBatch: (size: number) => void;
  /** Waiting items; `head` instead of shift() keeps taking a batch O(batch), not O(queue). */
  private waiting: Pending<T, R>[] = [];
  private head = 0;
  private inFlight = 0;

  constructor(options: WriteBatcherOptions<T, R>) {
    if (!(options.maxBatch >= 1) || !(options.maxInFlight >= 1)) throw new RangeError('maxBatch and maxInFlight must be at least 1');
    this.flush = options.flush;
    this.maxBatch = options.maxBatch;
    this.maxInFlight = options.maxInFlight;
    this.onBatch = options.onBatch ?? (() => {});
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Items waiting for a statement slot (not counting those in flight). */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queued > 0) {
      const end = Math.min(this.waiting.length, this.head + this.maxBatch);
      const batch = this.waiting.slice(this.head, end);
      this.head = end;
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      }
      this.inFlight++;
      void this.write(batch);
    }
  }

  private async write(batch: Pending<T, R>[]): Promise<void> {
    try {
      let results: readonly R[];
      try {
        results = await this.flush(batch.map((pending) => pending.item));
        if (results.length !== batch.length) throw new Error(`flush returned ${results.length} results for ${batch.length} items`);
      } catch (error) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      try {
        this.onBatch(batch.length);
      } catch {
        // metrics only: a failing observer must not fail committed writes
      }
      batch.forEach((pending, i) => pending.resolve(results[i]));
    } finally {
      this.inFlight--;
      this.pump();
    }
  }
}
