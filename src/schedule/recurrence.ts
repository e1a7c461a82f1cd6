import type { CronRule } from './cron.js';
import {
  addInterval,
  addIntervalTimes,
  fixedLengthMs,
  intervalLengthMs,
  nominalLengthMs,
  type Interval,
} from './interval.js';

/** A job's recurrence rule. */
export type Recurrence =
  | { kind: 'once' }
  | { kind: 'interval'; interval: Interval }
  | { kind: 'cron'; cron: CronRule };

export interface NextSlotOptions {
  /** Fixed-rate (default true): next = previous slot + interval, skipping slots already past (slot < nowMs), so a job never drifts.
   *  false: "interval after completion": next = completedAtMs + interval (cron: the first occurrence after completedAtMs). */
  fixedIntervals: boolean;
}

/**
 * The regular slot after `slotMs` (the slot just served), for a job in `zone`. Returns null for 'once'.
 *
 * Fixed-rate (`fixedIntervals: true`): the smallest slot > slotMs that is >= nowMs, so all missed slots collapse into
 * at most one run (no backfill).
 * - Fixed-length intervals (seconds, or durations of only H/M/S): slotMs + k x length with the smallest k >= 1 that
 *   reaches nowMs, computed arithmetically.
 * - Calendar intervals (Y/M/W/D): slotMs + k x interval with the smallest such k, each candidate computed in one
 *   luxon step from slotMs (so P1M from Jan 31 with Feb missed lands on Mar 31, not Mar 28); k is estimated from the
 *   average length, then corrected by a few steps. With k = 1 this is plain slot + interval (Jan 31 -> Feb 28 ->
 *   Mar 28: month-end clamping is not undone later).
 * - Cron: the first occurrence after slotMs that is >= nowMs.
 *
 * `fixedIntervals: false`: completedAtMs + interval (cron: the first occurrence strictly after completedAtMs). The result
 * is not clamped to nowMs; if it is already past, the job is simply due.
 */
export function nextSlot(
  rec: Recurrence,
  zone: string,
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
      return nextIntervalSlot(rec.interval, zone, slotMs, nowMs);
  }
}

function nextIntervalSlot(interval: Interval, zone: string, slotMs: number, nowMs: number): number {
  const fixed = fixedLengthMs(interval);
  if (fixed !== null) {
    let k = nowMs > slotMs + fixed ? Math.ceil((nowMs - slotMs) / fixed) : 1;
    // Guard against floating-point rounding in the division.
    while (k > 1 && slotMs + (k - 1) * fixed >= nowMs) k--;
    while (slotMs + k * fixed < nowMs) k++;
    return slotMs + k * fixed;
  }
  const at = (k: number): number => addIntervalTimes(slotMs, interval, zone, k);
  let k = 1;
  let slot = at(1);
  if (slot >= nowMs) return slot;
  // Missed slots: estimate k from the average length (at most a few steps off), then step to the smallest k that works.
  k = Math.max(2, Math.ceil((nowMs - slotMs) / nominalLengthMs(interval)));
  slot = at(k);
  while (slot < nowMs) slot = at(++k);
  while (k > 2) {
    const earlier = at(k - 1);
    if (earlier < nowMs) break;
    k--;
    slot = earlier;
  }
  return slot;
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
 * A slot spread by randomization: slotMs + floor(random() * factor * intervalLength), with random() in [0, 1) and
 * factor clamped to [0, 1]. intervalLength is the interval measured from slotMs in `zone`, or for cron the distance from
 * slotMs to the following occurrence; 0 for 'once' (slot unchanged). The result stays before the next regular slot.
 */
export function randomizeSlot(
  rec: Recurrence,
  zone: string,
  slotMs: number,
  factor: number,
  random: () => number,
): number {
  const f = Number.isFinite(factor) ? Math.min(1, Math.max(0, factor)) : 0;
  if (f === 0 || rec.kind === 'once') return slotMs;
  const length = rec.kind === 'cron' ? rec.cron.next(slotMs) - slotMs : intervalLengthMs(rec.interval, slotMs, zone);
  const r = random();
  const u = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return slotMs + Math.min(Math.floor(u * f * length), Math.max(0, length - 1));
}
