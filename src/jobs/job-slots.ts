import { nextSlot, slotOnOrAfter } from '../schedule/recurrence.js';
import type { Job } from './job.js';
import { recurrenceOf } from './job-spec.js';

/**
 * The regular slots a job will serve from `now` on, for the console's job detail
 * (GET /jobs/<path>/<body>/slots). Pure: the job and the time in, times out.
 *
 * - Enabled: its next slot (next_sched, even when already due) and the slots after it, as the
 *   scheduler will compute them (nextSlot: fixed-rate on the anchor's grid, or one interval after
 *   a run that is assumed to finish at its slot when fixed intervals are off).
 * - Disabled: the slots it would serve once enabled now (enableJob's rule), so an operator sees
 *   what enabling means: the next regular slot at or after now with fixed intervals, the run it
 *   was waiting for otherwise.
 * - A one-off has one slot; retries, triggers and randomization are not slots and are left out.
 */
export function upcomingSlots(job: Job, count: number, now: number, fixedIntervals: boolean): number[] {
  const recurrence = recurrenceOf(job);
  const enabled = job.nextRun !== null;
  if (recurrence.kind === 'once') return count > 0 ? [enabled ? job.nextSched : Math.max(job.nextSched, now)] : [];
  let slot: number | null = enabled
    ? job.nextSched
    : fixedIntervals
      ? slotOnOrAfter(recurrence, job.location, job.anchor, now)
      : Math.max(job.pausedRun ?? job.nextSched, now);
  const slots: number[] = [];
  while (slot !== null && slots.length < count) {
    slots.push(slot);
    slot = nextSlot(recurrence, job.location, job.anchor, slot, now, slot, { fixedIntervals });
  }
  return slots;
}
