import { nextSlot, randomizeSlot, slotOnOrAfter } from '../schedule/recurrence.js';
import type { Job } from './job.js';
import { firstRunOf, recurrenceOf, type JobSpec } from './job-spec.js';

/**
 * What each API change does to a job, as pure functions of the job and the time (the JobService
 * writes the result through). The rules follow the original Dalga (v3/v4) and Cloud Scheduler.
 */

export interface SlotPolicy {
  fixedIntervals: boolean;
  randomizationFactor: number;
  random: () => number;
}

/**
 * PUT: the job's schedule, from its first slot (its anchor: `first-run`, the PUT time with
 * `immediate`, otherwise the PUT time plus one interval, or the first cron occurrence). A job
 * replaced keeps created_at and the record of its last run; everything else starts afresh.
 */
export function putJob(path: string, body: string, spec: JobSpec, previous: Job | undefined, now: number): Job {
  const first = firstRunOf(spec, now);
  return {
    path,
    body,
    interval: spec.interval,
    cron: spec.cron,
    location: spec.location,
    oneOff: spec.oneOff,
    nextRun: first,
    nextSched: first,
    anchor: first,
    pausedRun: null,
    triggeredAt: null,
    attempts: 0,
    failingSince: null,
    lastRun: previous?.lastRun ?? null,
    lastStatus: previous?.lastStatus ?? null,
    lastError: previous?.lastError ?? null,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
}

/**
 * POST: run now, as an extra run (Dalga-Sched is the trigger time); afterwards the job goes back
 * to the slot it was waiting for. A job waiting to retry a failed run gets that retry now instead
 * (same Dalga-Sched, next attempt): an extra run would restart the slot's attempts and deliver it
 * twice. The caller refuses a disabled or running job.
 */
export function triggerJob(job: Job, now: number): Job {
  return job.attempts > 0
    ? { ...job, nextRun: now, updatedAt: now }
    : { ...job, triggeredAt: now, nextRun: now, attempts: 0, failingSince: null, updatedAt: now };
}

/** PATCH disable: never fires until enabled; remembers the run it was waiting for (pausedRun). */
export function disableJob(job: Job, now: number): Job {
  return { ...job, nextRun: null, pausedRun: job.nextRun, triggeredAt: null, updatedAt: now };
}

/**
 * PATCH enable.
 * - Fixed intervals (the default): what was missed is skipped and a pending retry dropped; the
 *   job resumes at its next regular slot at or after now. A one-off job has no later slot: it
 *   keeps its time, or runs at once if that came while it was disabled.
 * - fixed_intervals = false: it resumes where it was: the run it was waiting for (a retry keeps
 *   its time and its attempt count) keeps its time, or runs at once if that has passed.
 * Either way retry_stop_after counts afresh (failing_since is reset).
 */
export function enableJob(job: Job, now: number, policy: SlotPolicy): Job {
  const enabled = { ...job, pausedRun: null, triggeredAt: null, failingSince: null, updatedAt: now };
  if (!policy.fixedIntervals) {
    return { ...enabled, nextRun: Math.max(job.pausedRun ?? job.nextSched, now) };
  }
  const recurrence = recurrenceOf(job);
  const slot = slotOnOrAfter(recurrence, job.location, job.anchor, now);
  if (slot === null) return { ...enabled, attempts: 0, nextRun: Math.max(job.nextSched, now) };
  const nextRun =
    policy.randomizationFactor > 0 ? randomizeSlot(recurrence, job.location, job.anchor, slot, policy.randomizationFactor, policy.random) : slot;
  return { ...enabled, attempts: 0, nextSched: slot, nextRun };
}

/** The regular slot after the one served, at `now` (fixed-rate on the anchor's grid, or an interval after completion). */
export function followingSlot(job: Job, now: number, policy: SlotPolicy): { nextSched: number; nextRun: number } {
  const recurrence = recurrenceOf(job);
  const slot = nextSlot(recurrence, job.location, job.anchor, job.nextSched, now, now, { fixedIntervals: policy.fixedIntervals }) as number;
  // A slot of "interval after completion" is on no grid: it is its own anchor, so the spread is one interval.
  const nextRun =
    policy.randomizationFactor > 0
      ? randomizeSlot(recurrence, job.location, policy.fixedIntervals ? job.anchor : slot, slot, policy.randomizationFactor, policy.random)
      : slot;
  return { nextSched: slot, nextRun };
}
