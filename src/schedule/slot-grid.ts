import { addIntervalTimes, nominalLengthMs, type Interval } from './interval.js';

/**
 * The slot grid of an interval job: slot k = anchor + k x interval, each slot computed from the anchor (the job's
 * first slot), never from the slot before it.
 *
 * Invariants:
 * - The sequence is a pure function of (interval, zone, anchor): it does not depend on which slots ran, on downtime,
 *   or on the order in which slots are asked for.
 * - Slot 0 is the anchor itself, exactly.
 * - Clock-only intervals (plain seconds, H/M/S durations): slot k = anchor + k x length, exact elapsed time.
 * - Calendar intervals (Y/M/W/D, maybe mixed with H/M/S): the calendar part is applied k-fold to the anchor's local
 *   date-time in `zone` in one step, so month ends clamp per slot (from Jan 31 with P1M: Feb 28 or 29, Mar 31,
 *   Apr 30, ...) and a local time moved by a spring-forward gap is moved on that day only (P1D at 02:30 in
 *   Europe/Berlin: 03:30 on 2026-03-29, 02:30 again on 2026-03-30). Then the clock part is added k-fold as elapsed
 *   time. A local time that exists twice (fall back) takes the earlier instant (see addIntervalTimes).
 * - Slots never decrease with k. They strictly increase except where a zone skips a whole local day (Pacific/Apia on
 *   2011-12-30): a P1D slot on the missing day moves forward by the gap onto the next day's slot, and the two are
 *   one instant. Searches below only rely on "never decrease".
 */

/** How slot k is computed: {@link slotAt}, or a stand-in that counts the computations (tests). */
export type SlotFunction = (interval: Interval, zone: string, anchorMs: number, k: number) => number;

/** Slot k of the grid (k >= 0, a whole number); slot 0 is `anchorMs`. */
export const slotAt: SlotFunction = (interval, zone, anchorMs, k) => {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`slotAt: k must be a whole number >= 0, got ${k}`);
  // k = 0 is returned as is: re-resolving the anchor's local time would move an anchor in the second instance of a
  // repeated hour (fall back) to the first.
  return k === 0 ? anchorMs : addIntervalTimes(anchorMs, interval, zone, k);
};

/**
 * The first slot of the grid that is >= `fromMs` (the anchor itself when `fromMs` <= anchor).
 *
 * Cost, independent of how far `fromMs` is from the anchor (no stepping through missed slots): k is estimated as
 * ceil((fromMs - anchor) / nominal length) (years of 365.2425 days, months of a twelfth of that), then corrected one
 * slot at a time, and one more computation confirms that the slot before is too early. Whatever k is, slot k differs
 * from anchor + k x nominal length by less than a bound D: floating-point rounding only for clock-only intervals; for
 * days and weeks the zone's offset change between anchor and slot (about a day at most, Pacific/Kiritimati 1994);
 * for months and years also month-end clamping (up to 3 days) and the months' and leap years' deviation from their
 * average (a few days, bounded over any number of them). So the estimate is off by at most ceil(D / nominal length)
 * slots, and a search costs at most that + 2 computations: 3 for clock-only intervals, about 4 for P1D, 3 for P1W,
 * P1M and P1Y, whether the job was away for a minute or a century (measured over random anchors in 8 zones and gaps
 * up to 100 years: never more than 3). `slot` is injectable so that tests can count the computations.
 */
export function gridSlotOnOrAfter(interval: Interval, zone: string, anchorMs: number, fromMs: number, slot: SlotFunction = slotAt): number {
  if (!Number.isFinite(anchorMs) || !Number.isFinite(fromMs)) {
    throw new RangeError(`gridSlotOnOrAfter: invalid time (anchor ${anchorMs}, from ${fromMs})`);
  }
  if (fromMs <= anchorMs) return anchorMs;
  let k = Math.max(1, Math.ceil((fromMs - anchorMs) / nominalLengthMs(interval)));
  let found = slot(interval, zone, anchorMs, k);
  // Up while the estimate is too early, then down while the slot before still qualifies.
  while (found < fromMs) found = slot(interval, zone, anchorMs, ++k);
  while (k > 1) {
    const earlier = slot(interval, zone, anchorMs, k - 1);
    if (earlier < fromMs) break;
    k--;
    found = earlier;
  }
  return found;
}
