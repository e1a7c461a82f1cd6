import { fixedLengthMs, parseInterval } from '../schedule/interval.js';
import type { Job } from './job.js';

/**
 * What a backward step of the wall clock (an NTP correction of a fast clock, a VM resumed with a
 * clock ahead) does to a job waiting for its next run, as a pure function.
 *
 * A job waiting out an elapsed time keeps its remaining wait: its due times move back with the
 * clock by the step, so it neither stalls for the length of the step nor runs early:
 * - a retry's backoff (attempts > 0): next_run moves; the slot being retried stays what it is;
 * - a fixed-length interval (plain seconds, or only hours, minutes and seconds) on its regular
 *   slot: next_run, next_sched and the anchor move, and with them the rest of its slots.
 * A schedule pinned to the calendar keeps its wall time and runs when the wall clock reaches it:
 * cron, intervals of days, weeks, months or years, one-off jobs (they run at a time), and a
 * manual trigger (it is due at once anyway).
 *
 * Returns the moved job, or null when it keeps its times. `stepMs` is negative.
 */
export function afterClockStepBack(job: Job, stepMs: number): Job | null {
  if (job.nextRun === null || job.triggeredAt !== null || job.oneOff) return null;
  if (job.attempts > 0) return { ...job, nextRun: job.nextRun + stepMs };
  if (job.interval === null || fixedLengthMs(parseInterval(job.interval)) === null) return null;
  return { ...job, nextRun: job.nextRun + stepMs, nextSched: job.nextSched + stepMs, anchor: job.anchor + stepMs };
}
