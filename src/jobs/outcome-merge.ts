import { afterClockStepBack } from './clock-step.js';
import type { Job } from './job.js';
import { applyOutcome, type OutcomePolicy, type RunResult } from './run-outcome.js';

/**
 * What a run's outcome may change when API calls changed the job during its flight, as a pure
 * function. The run started from `seen`; `current` is the job now (one deleted while running
 * stays deleted: there is nothing to merge).
 * - A new schedule (PUT): the outcome records the run (last_*), and the new schedule stands.
 * - Disabled while running: the outcome still moves the slot, and the job stays disabled.
 * - Triggered while running (the trigger's write raced the timer): the acknowledged run still
 *   happens, right after this one; if this run failed, it is the retry (same Dalga-Sched, next
 *   attempt), as a trigger of a job waiting to retry is, so the slot is never delivered twice.
 * - The wall clock stepped back by `steppedMs` (< 0) during the run: the next slot follows, as
 *   waiting jobs' slots did.
 */
export type OutcomeMerge = { kind: 'record-last-run'; job: Job } | { kind: 'delete' } | { kind: 'update'; job: Job };

export function mergeOutcome(seen: Job, current: Job, changedSince: boolean, result: RunResult, policy: OutcomePolicy, steppedMs = 0): OutcomeMerge {
  if (changedSince && !sameSchedule(current, seen)) {
    return { kind: 'record-last-run', job: { ...current, lastRun: result.startedAt, lastStatus: result.status, lastError: result.error } };
  }
  const next = applyOutcome(seen, result, policy);
  if (next.kind === 'delete') return next;
  let job = next.job;
  if (current.nextRun === null) {
    job = { ...job, nextRun: null, pausedRun: job.nextRun ?? job.pausedRun };
  } else if (current.triggeredAt !== null && current.triggeredAt !== seen.triggeredAt) {
    job = job.attempts > 0 ? { ...job, nextRun: current.nextRun } : { ...job, triggeredAt: current.triggeredAt, nextRun: current.nextRun };
  }
  if (steppedMs !== 0) job = afterClockStepBack(job, steppedMs) ?? job;
  return { kind: 'update', job };
}

/**
 * Whether an API change left the schedule as the run saw it (only disabled, enabled or triggered
 * it): then the outcome still moves the job to its next slot.
 */
function sameSchedule(current: Job, seen: Job): boolean {
  return (
    current.interval === seen.interval &&
    current.cron === seen.cron &&
    current.location === seen.location &&
    current.oneOff === seen.oneOff &&
    current.nextSched === seen.nextSched &&
    current.createdAt === seen.createdAt
  );
}
