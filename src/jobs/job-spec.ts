import { DateTime } from 'luxon';
import { parseCron } from '../schedule/cron.js';
import { addInterval, parseInterval } from '../schedule/interval.js';
import { parseLocation } from '../schedule/location.js';
import { firstSlot, type Recurrence } from '../schedule/recurrence.js';
import { ScheduleError } from '../schedule/schedule-error.js';

/**
 * What a PUT asks for, validated: the recurrence, where it is evaluated, and when it first runs.
 * The combinations follow the original Dalga:
 * - one-off: exactly one of `interval` (the delay), `first-run`, `immediate`; no `cron`.
 * - periodic: exactly one of `interval`, `cron`; `immediate` excludes `first-run`.
 */
export interface JobSpec {
  recurrence: Recurrence;
  /** Column values as given by the user. */
  interval: string | null;
  cron: string | null;
  location: string;
  oneOff: boolean;
  start: { kind: 'regular' } | { kind: 'immediate' } | { kind: 'at'; ms: number } | { kind: 'after'; delayText: string };
}

export const PUT_PARAMETERS = ['interval', 'cron', 'one-off', 'first-run', 'immediate', 'location'] as const;

const BOOLEANS: Record<string, boolean> = {
  true: true, false: false, '1': true, '0': false, yes: true, no: false, on: true, off: false,
};

export function parseBoolean(parameter: string, value: string): boolean {
  const parsed = BOOLEANS[value.toLowerCase()];
  if (parsed === undefined) {
    throw new ScheduleError(parameter, `${parameter}: "${value}" is not a boolean (true/false/1/0/yes/no/on/off)`);
  }
  return parsed;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

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
      throw new ScheduleError(
        'one-off',
        'one-off: give exactly one of interval (the delay before the run), first-run or immediate=true',
      );
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
  const start: JobSpec['start'] = immediate
    ? { kind: 'immediate' }
    : firstRun !== undefined
      ? { kind: 'at', ms: firstRun }
      : { kind: 'regular' };
  return { recurrence, interval: intervalText ?? null, cron: cronText ?? null, location, oneOff: false, start };
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

/** Rebuilds a stored job's recurrence (the columns were validated when the job was put). */
export function recurrenceOf(job: { interval: string | null; cron: string | null; location: string; oneOff: boolean }): Recurrence {
  if (job.oneOff) return { kind: 'once' };
  if (job.cron !== null) return { kind: 'cron', cron: parseCron(job.cron, job.location) };
  if (job.interval !== null) return { kind: 'interval', interval: parseInterval(job.interval) };
  throw new Error('job has neither interval nor cron');
}
