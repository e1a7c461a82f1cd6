import type { Job } from '../jobs/job.js';
import { formatTime } from '../jobs/job.js';
import type { RunResult } from '../jobs/run-outcome.js';

/** The log calls used; pino's Logger fits. */
export interface FailureLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** A written run outcome, as the failure log sees it. */
export interface OutcomeSeen {
  key: string;
  /** The job as the run saw it, and its attempt number (1 = the slot's first try). */
  job: Job;
  attempt: number;
  result: RunResult;
  /** What the outcome did: moved the job on (update), or only recorded the run (a PUT replaced it meanwhile), or the job is gone. */
  kind: 'update' | 'record-last-run' | 'delete' | 'gone';
  /** Whether the job was enabled when the outcome was merged in. */
  wasEnabled: boolean;
  /** The job after the outcome ('update' only). */
  after: Job | null;
}

export interface FailureLogOptions {
  log: FailureLogger;
  now: () => number;
  /** At most one line per failing job per this long. Default 60 s. */
  everyMs?: number;
}

/** Bodies can be long and are user data: logs carry their start. */
const MAX_BODY_CHARS = 64;
/** Failing jobs tracked at once; past it the counts start afresh (a bound, not a behaviour). */
const MAX_TRACKED = 100_000;

const isSuccess = (result: RunResult): boolean => result.status === 200 || result.status === 204;

/**
 * Makes failing callbacks visible at the default level without flooding it:
 * - a job's first failed attempt: one warn line (status or error, attempt, next retry);
 * - while it keeps failing: at most one warn line per job per minute, with the count since the last;
 * - when it succeeds again: one info line ("recovered after N failed attempts");
 * - disabled by retry_stop_after: one error line.
 */
export class FailureLog {
  private readonly failing = new Map<string, { loggedAt: number; unlogged: number }>();
  private readonly everyMs: number;

  constructor(private readonly options: FailureLogOptions) {
    this.everyMs = options.everyMs ?? 60_000;
  }

  /** Jobs failing now, by what this log has seen. */
  get tracked(): number {
    return this.failing.size;
  }

  outcome(seen: OutcomeSeen): void {
    const { key, job, attempt, result, kind, wasEnabled, after } = seen;
    const fields = { job: { path: job.path, body: truncate(job.body) } };
    if (isSuccess(result)) {
      if (attempt > 1) this.options.log.info({ ...fields, failed_attempts: attempt - 1 }, `recovered after ${attempt - 1} failed attempts`);
      this.failing.delete(key);
      return;
    }
    const failure = { ...fields, status: result.status, error: result.error, attempt };
    if (kind !== 'update' || after === null) {
      this.failing.delete(key); // deleted, or replaced by a PUT during the flight: a new job
      return;
    }
    if (after.nextRun === null && wasEnabled && after.attempts > 0) {
      this.options.log.error(
        { ...failure, failing_since: after.failingSince === null ? null : formatTime(after.failingSince) },
        'callback failed for longer than retry_stop_after: job disabled',
      );
      this.failing.delete(key);
      return;
    }
    const next = after.nextRun === null ? null : formatTime(after.nextRun);
    const now = this.options.now();
    const tracked = this.failing.get(key);
    if (tracked === undefined || attempt === 1) {
      if (this.failing.size >= MAX_TRACKED) this.failing.clear();
      this.failing.set(key, { loggedAt: now, unlogged: 0 });
      this.options.log.warn({ ...failure, next_retry: next }, 'callback failed; will retry');
    } else if (now - tracked.loggedAt >= this.everyMs) {
      this.options.log.warn(
        { ...failure, failures: tracked.unlogged + 1, next_retry: next },
        `callback still failing: ${tracked.unlogged + 1} failed attempts since the last line`,
      );
      tracked.loggedAt = now;
      tracked.unlogged = 0;
    } else {
      tracked.unlogged++;
    }
  }
}

function truncate(text: string): string {
  return text.length <= MAX_BODY_CHARS ? text : `${text.slice(0, MAX_BODY_CHARS - 1)}…`;
}
