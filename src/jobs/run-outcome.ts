import { retryDelayMs, type BackoffPolicy } from '../schedule/backoff.js';
import { nextSlot, randomizeSlot } from '../schedule/recurrence.js';
import { recurrenceOf } from './job-spec.js';
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

export interface OutcomePolicy extends BackoffPolicy {
  /** 0 = retry forever; else a job failing for longer than this (from its first failed attempt) is disabled. */
  retryStopAfterMs: number;
  fixedIntervals: boolean;
  randomizationFactor: number;
  random: () => number;
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
    const recurrence = recurrenceOf(job);
    // TEMPORARY: until the job carries its anchor (issue 11 integration). With the served slot as anchor the grid
    // restarts at every run, which is the old slot-by-slot stepping (Jan 31 -> Feb 28 -> Mar 28).
    const anchor = job.nextSched;
    const slot = nextSlot(recurrence, job.location, anchor, job.nextSched, result.finishedAt, result.finishedAt, {
      fixedIntervals: policy.fixedIntervals,
    }) as number;
    // A slot of "interval after completion" is on no grid: it is its own anchor, so the spread is one interval.
    const nextRun =
      policy.randomizationFactor > 0
        ? randomizeSlot(recurrence, job.location, policy.fixedIntervals ? anchor : slot, slot, policy.randomizationFactor, policy.random)
        : slot;
    return { kind: 'update', job: { ...job, ...last, attempts: 0, failingSince: null, nextSched: slot, nextRun } };
  }
  const attempts = job.attempts + 1;
  // Rows written before failing_since existed fall back to the served slot.
  const failingSince = job.failingSince ?? (job.attempts === 0 ? result.startedAt : servedSlot(job));
  if (policy.retryStopAfterMs > 0 && result.finishedAt - failingSince > policy.retryStopAfterMs) {
    return { kind: 'update', job: { ...job, ...last, attempts, failingSince, nextRun: null } };
  }
  const nextRun = result.finishedAt + retryDelayMs(attempts, policy);
  return { kind: 'update', job: { ...job, ...last, attempts, failingSince, nextRun } };
}
