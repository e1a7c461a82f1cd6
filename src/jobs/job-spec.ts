import { DateTime } from 'luxon';
import { BOOLEAN_WORDS, parseBooleanText } from '../boolean-text.js';
import { parseCron } from '../schedule/cron.js';
import { addInterval, parseInterval } from '../schedule/interval.js';
import { parseLocation } from '../schedule/location.js';
import { firstSlot, type Recurrence } from '../schedule/recurrence.js';
import { ScheduleError } from '../schedule/schedule-error.js';

/**
 * What a PUT asks for, validated: the recurrence, where it is evaluated, and when it first runs.
 * The combinations follow the original Dalga:
 * - one-off: exactly one of `interval` (the delay), `first-run`, `immediate`; no `cron`. `interval=0` is the 2014
 *   API's "now": the same job as `immediate=true`.
 * - periodic: exactly one of `interval`, `cron`; `immediate` excludes `first-run`. `interval=0` is refused.
 */
export interface JobSpec {
  recurrence: Recurrence;
  /** Column values: the interval's canonical text ("60", "PT1S") and the trimmed cron expression; null when unused. */
  interval: string | null;
  cron: string | null;
  location: string;
  oneOff: boolean;
  start: { kind: 'regular' } | { kind: 'immediate' } | { kind: 'at'; ms: number } | { kind: 'after'; delayText: string };
}

/** Widths of the interval and cron columns (job.entity.ts): longer texts are refused here, not by the database. */
export const MAX_INTERVAL_CHARS = 64;
export const MAX_CRON_CHARS = 255;

export const PUT_PARAMETERS = ['interval', 'cron', 'one-off', 'first-run', 'immediate', 'location'] as const;

/** Zero whole seconds, as parseInterval reads numbers ("0", "00", " 0 "): a one-off's "run now". */
const ZERO_SECONDS = /^\s*0+\s*$/;

export function parseBoolean(parameter: string, value: string): boolean {
  const parsed = parseBooleanText(value);
  if (parsed === undefined) throw new ScheduleError(parameter, `${parameter}: "${value}" is not a boolean (${BOOLEAN_WORDS})`);
  return parsed;
}

/**
 * RFC 3339 date-time: hours 00-23 and minutes 00-59, in the time and in the offset (luxon alone would take
 * 24:00 and offsets such as +25:00 or +01:60). The date itself (month length, leap years) is checked by luxon.
 * A leap second (:60) is refused, as Go's time.Parse (the original Dalga) does.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

export function parseRfc3339(parameter: string, value: string): number {
  const parsed = RFC3339.test(value) ? DateTime.fromISO(value, { setZone: true }) : null;
  if (!parsed?.isValid) {
    throw new ScheduleError(parameter, `${parameter}: "${value}" is not an RFC 3339 time such as 2026-01-02T15:04:05Z`);
  }
  return parsed.toMillis();
}

/** Parses PUT parameters (already checked to be known and single). */
export function parseJobSpec(params: Partial<Record<(typeof PUT_PARAMETERS)[number], string>>): JobSpec {
  const location = params.location === undefined || params.location === '' ? 'UTC' : parseLocation(params.location);
  const oneOff = params['one-off'] !== undefined && parseBoolean('one-off', params['one-off']);
  const immediate = params.immediate !== undefined && parseBoolean('immediate', params.immediate);
  const firstRun = params['first-run'] === undefined ? undefined : parseRfc3339('first-run', params['first-run']);
  const intervalText = params.interval;
  const cronText = params.cron;

  if (oneOff) {
    if (cronText !== undefined) throw new ScheduleError('cron', 'cron: a one-off job cannot have a cron expression');
    const given = [intervalText !== undefined, firstRun !== undefined, immediate].filter(Boolean).length;
    if (given !== 1) {
      throw new ScheduleError('one-off', 'one-off: give exactly one of interval (the delay before the run), first-run or immediate=true');
    }
    if (intervalText !== undefined && ZERO_SECONDS.test(intervalText)) {
      return { recurrence: { kind: 'once' }, interval: null, cron: null, location, oneOff, start: { kind: 'immediate' } };
    }
    if (intervalText !== undefined) {
      parseInterval(intervalText);
      return { recurrence: { kind: 'once' }, interval: null, cron: null, location, oneOff, start: { kind: 'after', delayText: intervalText } };
    }
    const start = firstRun !== undefined ? ({ kind: 'at', ms: firstRun } as const) : ({ kind: 'immediate' } as const);
    return { recurrence: { kind: 'once' }, interval: null, cron: null, location, oneOff, start };
  }

  if (intervalText !== undefined && cronText !== undefined) {
    throw new ScheduleError('cron', 'cron: give either interval or cron, not both');
  }
  if (intervalText === undefined && cronText === undefined) {
    throw new ScheduleError('interval', 'interval: a periodic job needs interval or cron (or set one-off=true)');
  }
  if (immediate && firstRun !== undefined) {
    throw new ScheduleError('immediate', 'immediate: cannot be combined with first-run');
  }
  const recurrence: Recurrence =
    intervalText !== undefined
      ? { kind: 'interval', interval: parseInterval(intervalText) }
      : { kind: 'cron', cron: parseCron(cronText as string, location) };
  // Stored and echoed in canonical form ("pt1s" -> "PT1S", " 60 " -> "60"), within the column widths.
  const interval = recurrence.kind === 'interval' ? recurrence.interval.text : null;
  const cron = recurrence.kind === 'cron' ? recurrence.cron.expression : null;
  if (interval !== null && interval.length > MAX_INTERVAL_CHARS) {
    throw new ScheduleError('interval', `interval: longer than ${MAX_INTERVAL_CHARS} characters`);
  }
  if (cron !== null && cron.length > MAX_CRON_CHARS) {
    throw new ScheduleError('cron', `cron: longer than ${MAX_CRON_CHARS} characters`);
  }
  const start: JobSpec['start'] = immediate ? { kind: 'immediate' } : firstRun !== undefined ? { kind: 'at', ms: firstRun } : { kind: 'regular' };
  return { recurrence, interval, cron, location, oneOff: false, start };
}

/** The first slot of a job created at `nowMs`. A time in the past is kept: the job then runs at once. */
export function firstRunOf(spec: JobSpec, nowMs: number): number {
  switch (spec.start.kind) {
    case 'immediate':
      return nowMs;
    case 'at':
      return spec.start.ms;
    case 'after':
      return addInterval(nowMs, parseInterval(spec.start.delayText), spec.location);
    case 'regular':
      return firstSlot(spec.recurrence, spec.location, nowMs);
  }
}

/**
 * Parsed recurrences by their text: every outcome needs its job's, and parsing a cron expression
 * costs far more than a lookup. Jobs share few distinct schedules; the bound keeps a table of
 * distinct ones from growing without end (it starts afresh when full).
 */
const parsedRecurrences = new Map<string, Recurrence>();
const MAX_PARSED_RECURRENCES = 10_000;

/** Rebuilds a stored job's recurrence (the columns were validated when the job was put). */
export function recurrenceOf(job: { interval: string | null; cron: string | null; location: string; oneOff: boolean }): Recurrence {
  if (job.oneOff) return ONCE;
  const text = job.cron !== null ? `c${job.location}\u0000${job.cron}` : `i${job.interval}`;
  let recurrence = parsedRecurrences.get(text);
  if (recurrence === undefined) {
    recurrence = parseRecurrence(job);
    if (parsedRecurrences.size >= MAX_PARSED_RECURRENCES) parsedRecurrences.clear();
    parsedRecurrences.set(text, recurrence);
  }
  return recurrence;
}

const ONCE: Recurrence = { kind: 'once' };

function parseRecurrence(job: { interval: string | null; cron: string | null; location: string }): Recurrence {
  if (job.cron !== null) return { kind: 'cron', cron: parseCron(job.cron, job.location) };
  if (job.interval !== null) return { kind: 'interval', interval: parseInterval(job.interval) };
  throw new Error('job has neither interval nor cron');
}
