import { DateTime } from 'luxon';
import { ScheduleError } from './schedule-error.js';

/**
 * A job's repeat interval.
 *
 * - `seconds`: given as a plain number of whole seconds ("60"). Always an exact elapsed time.
 * - `duration`: given as an ISO 8601 duration ("PT60S", "PT1H30M", "P1D", "P1W", "P1M", "P1Y2M3DT4H5M6S", "PT0.5S").
 *   The calendar part (years, months, weeks, days) is applied to the local date in the job's zone; the clock part
 *   (hours, minutes, seconds) is held as `clockMs` and always added as exact elapsed time.
 *
 * DST and calendar rules (README):
 * - Fixed units (H, M, S and plain seconds) add exact elapsed time: PT1H is always 3 600 000 ms, across DST too.
 * - Calendar units (Y, M, W, D) move the local date in the job's location and keep the local wall time, so P1D
 *   runs at the same local time every day across DST. A duration mixing both (P1DT1H) applies the calendar part
 *   first, then adds the clock part as elapsed time.
 * - Month ends clamp (luxon): Jan 31 + P1M = Feb 28 (Feb 29 in leap years); Feb 29 + P1Y = Feb 28.
 * - A local time that does not exist after the calendar step (spring forward) moves forward by the length of the
 *   gap (luxon): 02:30 on 2026-03-29 in Europe/Berlin becomes 03:30 CEST.
 * - A local time that exists twice after the calendar step (fall back) takes the earlier instant, i.e. the offset
 *   in force before the clocks go back: 02:30 on 2026-10-25 in Europe/Berlin is 02:30 CEST (+02:00). Luxon on its
 *   own would keep whichever offset the starting time had; we normalise so the result does not depend on it.
 * - A job's slots are not computed from one another: slot k is anchor + k x interval (slot-grid.ts), so the clamped
 *   day of a month-end job and a time moved by a spring-forward gap hold for that slot only. This module adds an
 *   interval once (addInterval: a first slot, a one-off's delay, "interval after completion") or k-fold in one
 *   step (addIntervalTimes: slot k of the grid).
 */
export type Interval =
  | { kind: 'seconds'; seconds: number; text: string }
  | {
      kind: 'duration';
      /** Canonical text (upper-case, as given otherwise), echoed in job JSON. */
      text: string;
      years: number;
      months: number;
      weeks: number;
      days: number;
      /** hours, minutes and seconds as exact elapsed milliseconds (integer). */
      clockMs: number;
    };

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** Average Gregorian year (365.2425 days), the unit for the "absurdly large" limit and for slot estimates. */
const AVG_YEAR_MS = 31_556_952_000;
const AVG_MONTH_MS = AVG_YEAR_MS / 12;
/** Longest accepted interval: 100 (average) years. */
export const MAX_INTERVAL_MS = 100 * AVG_YEAR_MS; // 3 155 695 200 s

/** Any other decimal number ("-5", "1.5", "+3"): rejected with a specific message. */
const NUMBER = /^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$/;
const ISO_DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d{1,3}))?S)?)?$/;

function fail(parameter: string, text: string, what: string): never {
  throw new ScheduleError(parameter, `${parameter}: ${JSON.stringify(text)} ${what}`);
}

/**
 * Parses an interval: a whole positive number of seconds ("60") or an ISO 8601 duration ("PT1H30M", "P1M").
 * Fractional seconds are allowed in durations down to milliseconds ("PT0.5S"), not in plain seconds ("1.5").
 * @throws ScheduleError(parameter, ...) for empty, zero, negative, malformed or > 100 years intervals.
 */
export function parseInterval(text: string, parameter = 'interval'): Interval {
  if (typeof text !== 'string') fail(parameter, String(text), 'is not a number of seconds or an ISO 8601 duration');
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new ScheduleError(parameter, `${parameter}: must not be empty; give a number of seconds or an ISO 8601 duration such as PT1H`);
  }

  if (/^\d+$/.test(trimmed)) {
    const value = Number(trimmed);
    if (value === 0) fail(parameter, text, 'must be greater than zero');
    if (value * SECOND_MS > MAX_INTERVAL_MS) fail(parameter, text, 'is too large (the maximum is 100 years)');
    return { kind: 'seconds', seconds: value, text: String(value) }; // canonical: "0060" -> "60"
  }
  if (NUMBER.test(trimmed)) {
    const value = Number(trimmed.replace(',', '.'));
    if (value < 0) fail(parameter, text, 'must be positive');
    if (value === 0) fail(parameter, text, 'must be greater than zero');
    fail(parameter, text, 'is not a whole number of seconds (use an ISO 8601 duration such as PT1.5S)');
  }

  const upper = trimmed.toUpperCase();
  if (/^-P|^P.*-\d/.test(upper)) {
    fail(parameter, text, 'must be a positive ISO 8601 duration (negative parts are not allowed)');
  }
  const m = ISO_DURATION.exec(upper);
  // "P" and "PT" match the pattern with no component, "P1DT" has a T without a time component.
  if (!m || m.slice(1).every((g) => g === undefined) || upper.endsWith('T')) {
    fail(parameter, text, 'is not a number of seconds or an ISO 8601 duration');
  }
  const n = (g: string | undefined): number => (g === undefined ? 0 : Number(g));
  const years = n(m[1]);
  const months = n(m[2]);
  const weeks = n(m[3]);
  const days = n(m[4]);
  const fraction = m[8] === undefined ? 0 : Number(m[8].padEnd(3, '0'));
  const clockMs = n(m[5]) * 3_600_000 + n(m[6]) * 60_000 + n(m[7]) * SECOND_MS + fraction;
  const nominal = nominalMs(years, months, weeks, days, clockMs);
  if (nominal === 0) fail(parameter, text, 'must be greater than zero');
  if (!(nominal <= MAX_INTERVAL_MS)) fail(parameter, text, 'is too large (the maximum is 100 years)');
  return { kind: 'duration', text: upper, years, months, weeks, days, clockMs };
}

function nominalMs(years: number, months: number, weeks: number, days: number, clockMs: number): number {
  return years * AVG_YEAR_MS + months * AVG_MONTH_MS + (weeks * 7 + days) * DAY_MS + clockMs;
}

/** True if the interval has a calendar part (years, months, weeks or days), i.e. its length depends on the date. */
export function isCalendarInterval(interval: Interval): boolean {
  return interval.kind === 'duration' && (interval.years !== 0 || interval.months !== 0 || interval.weeks !== 0 || interval.days !== 0);
}

/** The exact length in ms of an interval without calendar part, else null. */
export function fixedLengthMs(interval: Interval): number | null {
  if (interval.kind === 'seconds') return interval.seconds * SECOND_MS;
  return isCalendarInterval(interval) ? null : interval.clockMs;
}

/** Average length in ms (years of 365.2425 days, months of 1/12 of that): only for estimates. */
export function nominalLengthMs(interval: Interval): number {
  if (interval.kind === 'seconds') return interval.seconds * SECOND_MS;
  return nominalMs(interval.years, interval.months, interval.weeks, interval.days, interval.clockMs);
}

/**
 * `fromMs` + `times` x the calendar part of `interval`, in one step, in `zone` (see the rules on {@link Interval}).
 * Returns the instant in ms; an ambiguous local time resolves to the earlier instant.
 */
function addCalendar(fromMs: number, interval: Extract<Interval, { kind: 'duration' }>, zone: string, times: number): number {
  const start = DateTime.fromMillis(fromMs, { zone });
  if (!start.isValid) throw new RangeError(`invalid zone or time: ${zone} ${fromMs}`);
  const moved = start.plus({
    years: interval.years * times,
    months: interval.months * times,
    weeks: interval.weeks * times,
    days: interval.days * times,
  });
  let ms = moved.toMillis();
  // Same local time twice (fall back): take the earlier instant, whatever offset `start` had.
  for (const candidate of moved.getPossibleOffsets()) ms = Math.min(ms, candidate.toMillis());
  return ms;
}

/**
 * `fromMs` + `times` x `interval` in `zone`: the calendar part is applied `times`-fold in one luxon step, then the clock
 * part `times`-fold as elapsed time. `times` = 1 is {@link addInterval}. One step, not `times` steps of one: from
 * Jan 31, P1M twice is Mar 31 (not Feb 28 + P1M = Mar 28), which is what keeps a month-end job at the month end.
 */
export function addIntervalTimes(fromMs: number, interval: Interval, zone: string, times: number): number {
  if (interval.kind === 'seconds') return fromMs + interval.seconds * SECOND_MS * times;
  const base = isCalendarInterval(interval) ? addCalendar(fromMs, interval, zone, times) : fromMs;
  return base + interval.clockMs * times;
}

/**
 * `fromMs` + `interval`. Fixed units (hours, minutes, seconds) add exact elapsed time; calendar units (years, months,
 * weeks, days) are computed in `zone`, so P1D keeps the same local wall time across DST. Month ends clamp
 * (Jan 31 + P1M = Feb 28/29). A local time skipped by spring-forward moves forward by the gap; a repeated local time
 * takes the earlier instant. Mixed durations (P1DT1H): calendar part first, then the clock part as elapsed time.
 * Result is integer ms.
 */
export function addInterval(fromMs: number, interval: Interval, zone: string): number {
  return addIntervalTimes(fromMs, interval, zone, 1);
}

/** How the job JSON echoes it: a number of seconds when given as one, else the ISO text. */
export function intervalJson(interval: Interval): number | string {
  return interval.kind === 'seconds' ? interval.seconds : interval.text;
}
