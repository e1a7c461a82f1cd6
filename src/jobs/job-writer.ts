import type { Job } from './job.js';
import type { RunRecord } from './run-record.js';
import type { JobKeyParts, JobStore, LastRunRecord } from '../store/job-store.js';
import { WriteBatcher } from './write-batcher.js';
import type { WriteFence } from '../store/write-fence.js';

export interface JobWriterOptions {
  /** Most rows per statement. Default 500: a few hundred KB of SQL, far below SQLite's 32,766 parameters. */
  maxBatch?: number;
  /**
   * Most statements of one kind in flight at once. Default 2: two overlap their commits in the
   * database; more make smaller batches, and the server CPU per write grows (measured with
   * 1, 2, 3, 4, 8, 16: 2 was the best for PUTs at concurrency 64).
   */
  maxInFlight?: number;
  /** Told the row count of every statement that committed (for metrics). */
  onBatch?: (rows: number) => void;
}

/**
 * Single-row writes of jobs with group commit: one WriteBatcher per kind of statement over a
 * JobStore, so concurrent writes of different keys share multi-row statements, every one fenced
 * by the claim to the shards of its rows. Every call settles once the statement that carried its row
 * committed (or failed).
 */
export class JobWriter {
  private readonly upserts: WriteBatcher<Job, void>;
  private readonly deletes: WriteBatcher<JobKeyParts, void>;
  private readonly updates: WriteBatcher<{ job: Job; run: RunRecord | null }, boolean>;
  private readonly lastRuns: WriteBatcher<{ record: LastRunRecord; run: RunRecord | null }, void>;
  private readonly prunes: WriteBatcher<{ key: JobKeyParts; keep: number }, void>;

  /** `fenceOf`: the claim a statement writing these keys' rows is fenced with (their shards'). */
  constructor(store: JobStore, fenceOf: (keys: readonly JobKeyParts[]) => WriteFence, options: JobWriterOptions = {}) {
    const limits = { maxBatch: options.maxBatch ?? 500, maxInFlight: options.maxInFlight ?? 2, onBatch: options.onBatch };
    // A statement that returns nothing per row: every item gets undefined once it committed.
    const whole =
      <T>(write: (items: readonly T[]) => Promise<void>) =>
      async (items: readonly T[]): Promise<void[]> => {
        await write(items);
        return items.map(() => undefined);
      };
    this.upserts = new WriteBatcher({ ...limits, flush: whole((jobs: readonly Job[]) => store.upsertMany(fenceOf(jobs), jobs)) });
    this.deletes = new WriteBatcher({ ...limits, flush: whole((keys: readonly JobKeyParts[]) => store.deleteMany(fenceOf(keys), keys)) });
    const runsOf = (items: readonly { run: RunRecord | null }[]) => items.flatMap((item) => (item.run ? [item.run] : []));
    this.updates = new WriteBatcher({
      ...limits,
      flush: (items) => {
        const jobs = items.map((item) => item.job);
        return store.updateMany(fenceOf(jobs), jobs, runsOf(items));
      },
    });
    this.lastRuns = new WriteBatcher({
      ...limits,
      flush: whole((items: readonly { record: LastRunRecord; run: RunRecord | null }[]) => {
        const records = items.map((item) => item.record);
        return store.recordLastRunMany(fenceOf(records), records, runsOf(items));
      }),
    });
    // Not counted by onBatch: it counts outcomes.
    this.prunes = new WriteBatcher({
      maxBatch: 100,
      maxInFlight: 1,
      flush: whole((items: readonly { key: JobKeyParts; keep: number }[]) => {
        const keys = items.map((item) => item.key);
        return store.pruneRuns(fenceOf(keys), keys, items[0].keep);
      }),
    });
  }

  /** Insert or replace the whole row. */
  upsert(job: Job): Promise<void> {
    return this.upserts.submit(job);
  }

  delete(path: string, body: string): Promise<void> {
    return this.deletes.submit({ path, body });
  }

  /** A run's outcome over an existing row, with the run for the history; false (nothing written) if the row is gone. */
  update(job: Job, run: RunRecord | null = null): Promise<boolean> {
    return this.updates.submit({ job, run });
  }

  /** Only the last_* columns, for an outcome overtaken by an API change (and the run for the history). */
  recordLastRun(record: LastRunRecord, run: RunRecord | null = null): Promise<void> {
    return this.lastRuns.submit({ record, run });
  }

  /** Deletes a job's runs but the newest `keep` (batched with other jobs'). */
  pruneRuns(key: JobKeyParts, keep: number): Promise<void> {
    return this.prunes.submit({ key, keep });
  }
}
