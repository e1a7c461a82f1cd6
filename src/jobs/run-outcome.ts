import { retryDelayMs, type BackoffPolicy } from '../schedule/backoff.js';
import { followingSlot, type SlotPolicy } from './job-changes.js';
import { servedSlot, type Job } from './job.js';

/** What one callback attempt came back with. */
export interface RunResult {
  /** HTTP status, or null when there was no answer (timeout, refused, reset). */
  status: number | null;
  /** Why it failed; null on 200 and 204. */
  error: string | null;
  startedAt: number;
  finishedAt: number;
}

export interface OutcomePolicy extends BackoffPolicy, SlotPolicy {
  /** 0 = retry forever; else a job failing for longer than this (from its first failed attempt) is disabled. */
  retryStopAfterMs: number;
}

export type NextState = { kind: 'delete' } | { kind: 'update'; job: Job };

/**
 * The job after a run, as a pure function: 200 moves a periodic job to its next slot and deletes a
 * one-off; 204 deletes; anything else backs off (or disables the job past retry_stop_after).
 * A triggered run, when it succeeds, hands the job back to the regular slot it was waiting for.
 */
export function applyOutcome(job: Job, result: RunResult, policy: OutcomePolicy): NextState {
  const last = { lastRun: result.startedAt, lastStatus: result.status, lastError: result.error, updatedAt: result.finishedAt };
  if (result.status === 204) return { kind: 'delete' };
  if (result.status === 200) {
    if (job.oneOff) return { kind: 'delete' };
    if (job.triggeredAt !== null) {
      return { kind: 'update', job: { ...job, ...last, triggeredAt: null, attempts: 0, failingSince: null, nextRun: job.nextSched } };
    }
    return { kind: 'update', job: { ...job, ...last, attempts: 0, failingSince: null, ...followingSlot(job, result.finishedAt, policy) } };
  }
  const attempts = job.attempts + 1;
  // Rows written before failing_since existed fall back to the served slot.
  const failingSince = job.failingSince ?? (job.attempts === 0 ? result.startedAt : servedSlot(job));
  const nextRun = result.finishedAt + retryDelayMs(attempts, policy);
  if (policy.retryStopAfterMs > 0 && result.finishedAt - failingSince > policy.retryStopAfterMs) {
    // Disabled, not lost: enabling with fixed_intervals = false resumes at the retry it would have made.
    return { kind: 'update', job: { ...job, ...last, attempts, failingSince, nextRun: null, pausedRun: nextRun } };
  }
  return { kind: 'update', job: { ...job, ...last, attempts, failingSince, nextRun } };
}
