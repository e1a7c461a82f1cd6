import type { CronRule } from './cron.js';
import { addInterval, type Interval } from './interval.js';
import { gridSlotOnOrAfter } from './slot-grid.js';

/**
 * A job's recurrence and where its slots fall.
 *
 * Invariants:
 * - Interval jobs live on the grid of their anchor (the first slot, see slot-grid.ts): with fixed intervals every
 *   regular slot is anchor + k x interval, so the slots never depend on which ones ran or on downtime.
 * - Cron jobs have no anchor: their occurrences are already a pure function of the expression and the zone.
 * - Fixed rate never backfills: however many slots were missed, the next slot is one slot, the first not yet past.
 * - All functions are pure: times in, time out (ms since the epoch), no clock.
 */

/** A job's recurrence rule. */
export type Recurrence = { kind: 'once' } | { kind: 'interval'; interval: Interval } | { kind: 'cron'; cron: CronRule };

export interface NextSlotOptions {
  /** Fixed-rate (default true): the next slot on the anchor's grid after the one served, skipping slots already
   *  past (slot < nowMs), so a job never drifts.
   *  false: "interval after completion": next = completedAtMs + interval (cron: the first occurrence after completedAtMs). */
  fixedIntervals: boolean;
}

/**
 * The regular slot after `slotMs` (the slot just served), for a job in `zone` whose first slot was `anchorMs`.
 * Returns null for 'once'.
 *
 * Fixed-rate (`fixedIntervals: true`): the smallest slot > slotMs that is >= nowMs, so all missed slots collapse into
 * at most one run (no backfill).
 * - Interval: the smallest such slot on the anchor's grid (anchor + k x interval, each computed from the anchor), found
 *   with a bounded number of computations however long the job was away (see gridSlotOnOrAfter). From a Jan 31
 *   anchor with P1M this is Feb 28/29, Mar 31, Apr 30, ... whether or not the slots in between ran.
 * - Cron: the first occurrence after slotMs that is >= nowMs (`anchorMs` is not used).
 *
 * `fixedIntervals: false`: completedAtMs + interval (cron: the first occurrence strictly after completedAtMs); the
 * anchor is not used. The result is not clamped to nowMs; if it is already past, the job is simply due.
 */
export function nextSlot(
  rec: Recurrence,
  zone: string,
  anchorMs: number,
  slotMs: number,
  nowMs: number,
  completedAtMs: number,
  options: NextSlotOptions,
): number | null {
  switch (rec.kind) {
    case 'once':
      return null;
    case 'cron':
      return options.fixedIntervals ? rec.cron.next(Math.max(slotMs, nowMs - 1)) : rec.cron.next(completedAtMs);
    case 'interval':
      if (!options.fixedIntervals) return addInterval(completedAtMs, rec.interval, zone);
      // Slots are whole milliseconds, so "> slotMs" is ">= floor(slotMs) + 1".
      return gridSlotOnOrAfter(rec.interval, zone, anchorMs, Math.max(Math.floor(slotMs) + 1, nowMs));
  }
}

/**
 * The first regular slot >= `fromMs`: for "enable resumes at its next regular slot after now". Interval jobs: on the
 * anchor's grid (the anchor itself if `fromMs` is not past it); cron jobs: the first occurrence >= fromMs (`anchorMs`
 * is not used); null for 'once', which has no regular slots.
 */
export function slotOnOrAfter(rec: Recurrence, zone: string, anchorMs: number, fromMs: number): number | null {
  switch (rec.kind) {
    case 'once':
      return null;
    case 'cron':
      // Occurrences are whole milliseconds: the first one after ceil(fromMs) - 1 is the first one >= fromMs.
      return rec.cron.next(Math.ceil(fromMs) - 1);
    case 'interval':
      return gridSlotOnOrAfter(rec.interval, zone, anchorMs, fromMs);
  }
}

/**
 * The first slot for a new periodic job created at `fromMs`: interval -> fromMs + interval (PUT ?interval=60 at T
 * answers next_run T+60s); cron -> the first occurrence strictly after fromMs.
 * @throws Error for 'once' (one-offs are placed by the caller).
 */
export function firstSlot(rec: Recurrence, zone: string, fromMs: number): number {
  switch (rec.kind) {
    case 'once':
      throw new Error('firstSlot: a one-off job has no recurrence; the caller places it');
    case 'cron':
      return rec.cron.next(fromMs);
    case 'interval':
      return addInterval(fromMs, rec.interval, zone);
  }
}

/**
 * A slot spread by randomization: slotMs + floor(random() * factor * length), with random() in [0, 1) and factor
 * clamped to [0, 1]. `length` is the distance from slotMs to the next regular slot: for an interval job the next slot
 * of the grid of `anchorMs` (a slot on no grid, as with "interval after completion", is passed as its own anchor,
 * which makes length = slotMs + interval - slotMs), for cron the following occurrence; 'once' is not moved. The result
 * stays before the next regular slot, also where that is nearer than one interval (P1D at 02:30 Berlin: the slot
 * moved to 03:30 on the spring-forward day is followed by 02:30 the next day, 23 hours later).
 */
export function randomizeSlot(rec: Recurrence, zone: string, anchorMs: number, slotMs: number, factor: number, random: () => number): number {
  const f = Number.isFinite(factor) ? Math.min(1, Math.max(0, factor)) : 0;
  if (f === 0 || rec.kind === 'once') return slotMs;
  const following = rec.kind === 'cron' ? rec.cron.next(slotMs) : gridSlotOnOrAfter(rec.interval, zone, anchorMs, Math.floor(slotMs) + 1);
  const length = following - slotMs;
  const r = random();
  const u = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return slotMs + Math.min(Math.floor(u * f * length), Math.max(0, length - 1));
}
