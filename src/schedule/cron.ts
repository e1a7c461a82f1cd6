import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { IANAZone } from 'luxon';
import { ScheduleError } from './schedule-error.js';

/**
 * A parsed cron expression bound to a time zone.
 *
 * Format: 5 fields (minute hour day-of-month month day-of-week) or 6 fields with seconds first. Field syntax is
 * cron-parser's: `*`, `?`, lists, ranges, steps, month/day names, `L` and `#`. Or one of the classic macros
 * (CRON_MACROS below: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly), in any letter case, which stands
 * for its 5-field expression evaluated the same way, in the job's location; the rule keeps the macro as its
 * expression (lower-cased), so it is stored and echoed as given. Not accepted: other `@` words (cron-parser's own
 * @minutely, @weekdays, ... and Vixie cron's @reboot), `H` (hashed) values, any other field count.
 *
 * DST rules (README):
 * - Occurrences are local wall-clock times in the job's location.
 * - Spring forward: a wall time that does not exist is moved forward by the length of the gap (as luxon does) and
 *   runs once: `30 2 * * *` in Europe/Berlin on 2026-03-29 runs at 03:30 CEST; `0 2 * * *` runs at 03:00 CEST.
 * - Fall back: a job pinned to particular hours runs once, at the first (summer-time) instance of a repeated wall
 *   time: `30 2 * * *` in Berlin on 2026-10-25 runs at 02:30 CEST only. A job whose hour field matches every hour
 *   (`* * * * *`, `0 * * * *`, `0,30 * * * *`) follows elapsed time and also runs in the repeated hour, so an
 *   hourly job keeps running every hour (02:00 CEST, then 02:00 CET), like Vixie cron's "wildcard" jobs.
 *
 * How: cron-parser is used in UTC as a pure wall-clock matcher (it has no DST there); the wall times it yields are
 * mapped to instants with the zone's UTC offsets from luxon, segment by segment between offset transitions. This
 * avoids cron-parser's own DST handling, which skips moved occurrences when asked from just after a gap and can fail
 * with "loop limit exceeded" around 30-minute transitions (Australia/Lord_Howe). Assumes a zone changes offset at
 * most once per day and by at most 6 hours, true of every current IANA zone.
 */
export interface CronRule {
  /** The expression as given (trimmed). */
  expression: string;
  /** The first occurrence strictly after `afterMs`, in ms since epoch. */
  next(afterMs: number): number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Longer than any DST shift: how far back from `afterMs` a transition can still affect the next occurrence. */
const EDGE_WINDOW_MS = 6 * HOUR_MS;
/** Each loop step crosses one offset transition; zones have a few per year, so this is decades. */
const MAX_SEGMENTS = 1000;

const FIELD_NAMES = ['second', 'minute', 'hour', 'day of month', 'month', 'day of week'];

/**
 * The accepted macros and what they stand for (Vixie cron's, less @reboot). Mapped here rather than left to
 * cron-parser, which knows most of them but not @midnight, and accepts more (@minutely, @weekdays, ...) than Dalga
 * documents.
 */
export const CRON_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function invalid(expression: string, what: string): never {
  throw new ScheduleError('cron', `cron: ${JSON.stringify(expression)} ${what}`);
}

/**
 * Parses a 5- or 6-field cron expression evaluated in `zone` (an already validated IANA name).
 * @throws ScheduleError('cron', ...) naming what is wrong; ScheduleError('location', ...) if `zone` is unknown.
 */
export function parseCron(expression: string, zone: string): CronRule {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new ScheduleError(
      'cron',
      'cron: must not be empty; expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first',
    );
  }
  if (typeof zone !== 'string' || !IANAZone.isValidZone(zone)) {
    throw new ScheduleError('location', `location: ${JSON.stringify(zone)} is not a known IANA time zone name`);
  }
  let text = expression.trim();
  /** The fields cron-parser reads: the expression itself, or what a macro stands for. */
  let pattern = text;
  if (text.startsWith('@')) {
    const macro = text.toLowerCase();
    if (!Object.hasOwn(CRON_MACROS, macro)) {
      invalid(text, `is not a supported macro; accepted: ${Object.keys(CRON_MACROS).join(', ')}`);
    }
    text = macro;
    pattern = CRON_MACROS[macro];
  }
  const fields = pattern.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    invalid(
      text,
      `has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`,
    );
  }
  const names = fields.length === 6 ? FIELD_NAMES : FIELD_NAMES.slice(1);
  fields.forEach((field, i) => {
    // A standalone H (not inside a name such as THU) is cron-parser's random "hash" value: it would differ per parse.
    if (/(^|[^A-Z])H($|[^A-Z])/i.test(field)) {
      invalid(text, `${names[i]} field "${field}": H (hashed) values are not supported`);
    }
  });

  let wallClock: CronExpression;
  try {
    wallClock = CronExpressionParser.parse(pattern, { tz: 'UTC', currentDate: 0 });
    wallClock.next(); // surfaces expressions that never match ("loop limit exceeded")
  } catch (err) {
    invalid(text, `is not a valid cron expression: ${(err as Error).message}`);
  }
  const everyHour = wallClock.fields.hour.values.length === 24;
  const tz = IANAZone.create(zone);

  /** The first matching wall-clock time strictly after wall time `wall` (both as "local time read as UTC" ms). */
  const nextWall = (wall: number): number => {
    wallClock.reset(new Date(wall));
    return wallClock.next().getTime();
  };
  /** UTC offset in ms at instant `t` (luxon). Wall time of t = t + offsetAt(t). */
  const offsetAt = (t: number): number => tz.offset(t) * MINUTE_MS;
  /** The last transition found: a one-entry memo per rule, so calls near a transition skip the bisection. */
  let knownTransition = Number.NaN;
  /** First instant in (start, end] whose offset differs from `offset` (= offsetAt(start)), or null. */
  const firstChange = (start: number, end: number, offset: number): number | null => {
    for (let lo = start; lo < end; ) {
      let hi = Math.min(lo + DAY_MS, end);
      if (offsetAt(hi) !== offset) {
        const known = knownTransition;
        if (known > lo && known <= hi && offsetAt(known - 1) === offset && offsetAt(known) !== offset) return known;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (offsetAt(mid) === offset) lo = mid;
          else hi = mid;
        }
        knownTransition = hi;
        return hi;
      }
      lo = hi;
    }
    return null;
  };

  return {
    expression: text,
    next(afterMs: number): number {
      if (!Number.isFinite(afterMs)) throw new RangeError(`cron next: invalid time ${afterMs}`);
      const after = Math.floor(afterMs);
      // The segment [segStart, next transition) of constant offset `offset`, entered from offset `prevOffset`.
      let from = after; // looking for instants > from
      let offset = offsetAt(after);
      let segStart = after; // an instant of this segment (offsetAt(segStart) === offset)
      let prevOffset = offset;
      let transition = -Infinity; // the transition that started this segment, if recent enough to matter
      const back = after - EDGE_WINDOW_MS;
      const backOffset = offsetAt(back);
      if (backOffset !== offset) {
        const t = firstChange(back, after, backOffset);
        if (t !== null) {
          transition = t;
          prevOffset = offsetAt(t - 1);
        }
      }

      for (let segment = 0; segment < MAX_SEGMENTS; segment++) {
        let best = Infinity;
        // Occurrences that are wall times of this segment: wall W <-> instant W - offset.
        let minWall = from + offset;
        if (prevOffset > offset && !everyHour) {
          // Fall back: walls in [transition + offset, transition + prevOffset) already ran before the transition.
          minWall = Math.max(minWall, transition + prevOffset - 1);
        }
        const native = nextWall(minWall) - offset;
        const end = firstChange(segStart, native, offset);
        if (end === null) best = native;
        if (prevOffset < offset) {
          // Spring forward: walls in the gap [transition + prevOffset, transition + offset) move forward by the gap,
          // i.e. wall W runs at instant W - prevOffset.
          const gapWall = nextWall(Math.max(from + prevOffset, transition + prevOffset - 1));
          if (gapWall < transition + offset) best = Math.min(best, gapWall - prevOffset);
        }
        if (best !== Infinity) return best;
        // Nothing before the next transition: continue in the following segment.
        const next = end as number;
        prevOffset = offset;
        offset = offsetAt(next);
        transition = next;
        segStart = next;
        from = Math.max(from, next - 1);
      }
      throw new Error(`cron ${JSON.stringify(text)}: no occurrence found after ${new Date(afterMs).toISOString()}`);
    },
  };
}
