import { formatTime } from './job.js';

/** One callback attempt, as the run history (`<table>_runs`) keeps it. */
export interface RunRecord {
  path: string;
  body: string;
  /** Dalga-Sched: the slot served. */
  sched: number;
  /** Dalga-Attempt: 1 for the slot's first try. */
  attempt: number;
  /** The server that made the callback (its instance id). */
  instance: string;
  startedAt: number;
  finishedAt: number;
  /** HTTP status; null when there was no answer. */
  status: number | null;
  error: string | null;
}

/** A run as the API shows it (GET /jobs/<path>/<body>/runs). */
export function runJson(run: RunRecord) {
  return {
    sched: formatTime(run.sched),
    attempt: run.attempt,
    instance: run.instance,
    started_at: formatTime(run.startedAt),
    finished_at: formatTime(run.finishedAt),
    status: run.status,
    error: run.error,
  };
}
