/**
 * The Job: what the database row, the in-memory copy and the API all describe.
 * Times are milliseconds since the epoch (UTC); null where the column is NULL.
 */
export interface Job {
  path: string;
  body: string;
  /** As given: whole seconds ("60") or an ISO 8601 duration ("PT1H"). Null for cron and one-off jobs. */
  interval: string | null;
  /** Cron expression, evaluated in `location`. Null unless the job is a cron job. */
  cron: string | null;
  /** IANA zone for calendar units and cron. */
  location: string;
  oneOff: boolean;
  /** When it fires next (retry, trigger and randomization included); null while disabled. */
  nextRun: number | null;
  /** The regular slot the next run serves: unaffected by retries, triggers and randomization. */
  nextSched: number;
  /**
   * The job's first slot: every regular slot of an interval job is anchor + k x interval, computed
   * from it (slot-grid.ts). Set by PUT, kept by everything else.
   */
  anchor: number;
  /** While disabled: the run it was waiting for (a retry, or its next slot), for enabling with fixed_intervals = false. */
  pausedRun: number | null;
  /** Set while a manual trigger's run is pending or being retried; that run serves this time. */
  triggeredAt: number | null;
  /** Consecutive failed attempts of the slot being served. */
  attempts: number;
  /** When the current run of failures began (its first failed attempt); null while not failing. */
  failingSince: number | null;
  lastRun: number | null;
  /** HTTP status of the last callback; null if it got no answer (timeout, network error) or never ran. */
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The scheduled time a run serves, sent as Dalga-Sched (the same on every retry of that slot). */
export function servedSlot(job: Job): number {
  return job.triggeredAt ?? job.nextSched;
}

export function isEnabled(job: Job): boolean {
  return job.nextRun !== null;
}

/** RFC 3339 in UTC; milliseconds only when there are any, so whole seconds look like the seed's examples. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function formatOptionalTime(ms: number | null): string | null {
  return ms === null ? null : formatTime(ms);
}

/** `interval` as the API echoes it: seconds as a number, an ISO duration as its text, 0 when there is none. */
export function intervalJson(job: Job): number | string {
  if (job.oneOff || job.interval === null) return 0;
  return /^\d+$/.test(job.interval) ? Number(job.interval) : job.interval;
}

/**
 * The job's JSON view. Key order is part of the contract: path, body, interval, next_run first
 * (as in the original README); `job` repeats the body for clients of the oldest API.
 */
export function jobJson(job: Job) {
  return {
    path: job.path,
    body: job.body,
    interval: intervalJson(job),
    next_run: formatOptionalTime(job.nextRun),
    job: job.body,
    cron: job.cron,
    location: job.location,
    one_off: job.oneOff,
    enabled: isEnabled(job),
    next_sched: formatTime(job.nextSched),
    anchor: formatTime(job.anchor),
    attempts: job.attempts,
    last_run: formatOptionalTime(job.lastRun),
    last_status: job.lastStatus,
    last_error: job.lastError,
    created_at: formatTime(job.createdAt),
    updated_at: formatTime(job.updatedAt),
  };
}

export type JobJson = ReturnType<typeof jobJson>;
