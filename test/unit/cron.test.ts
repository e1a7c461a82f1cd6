import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { parseCron } from '../../src/schedule/cron.js';
import { ScheduleError } from '../../src/schedule/schedule-error.js';

const ms = (iso: string): number => DateTime.fromISO(iso, { setZone: true }).toMillis();
const iso = (t: number, zone: string): string => DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true }) as string;

/** The next `n` occurrences after `fromIso`, each asked from the previous one. */
function occurrences(expression: string, zone: string, fromIso: string, n: number): string[] {
  const rule = parseCron(expression, zone);
  const out: string[] = [];
  let t = ms(fromIso);
  for (let i = 0; i < n; i++) {
    t = rule.next(t);
    out.push(iso(t, zone));
  }
  return out;
}

/** All occurrences in [fromIso, toIso). */
function between(expression: string, zone: string, fromIso: string, toIso: string): string[] {
  const rule = parseCron(expression, zone);
  const out: string[] = [];
  for (let t = rule.next(ms(fromIso) - 1); t < ms(toIso); t = rule.next(t)) out.push(iso(t, zone));
  return out;
}

describe('parseCron: valid', () => {
  const cases: Array<[string, string]> = [
    ['*/5 * * * *', '*/5 * * * *'],
    ['0 9 * * 1-5', '0 9 * * 1-5'],
    ['0 9 * * MON-FRI', '0 9 * * MON-FRI'],
    ['0 0 1 JAN,JUL *', '0 0 1 JAN,JUL *'],
    ['0 0 L * *', '0 0 L * *'],
    ['0 0 * * THU#2', '0 0 * * THU#2'],
    ['* * * * * *', '* * * * * *'],
    ['  30  2 * * *  ', '30  2 * * *'],
    ['? * * * *', '? * * * *'],
    // Macros: stored trimmed and lower-cased, as given otherwise.
    ['@yearly', '@yearly'],
    ['@annually', '@annually'],
    ['@monthly', '@monthly'],
    ['@weekly', '@weekly'],
    ['@daily', '@daily'],
    ['@midnight', '@midnight'],
    ['@hourly', '@hourly'],
    ['  @DAILY ', '@daily'],
    ['@Hourly', '@hourly'],
  ];
  for (const [expression, stored] of cases) {
    test(JSON.stringify(expression), () => {
      assert.equal(parseCron(expression, 'UTC').expression, stored);
    });
  }
});

describe('parseCron: invalid', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /must not be empty/],
    ['   ', /must not be empty/],
    ['* * * *', /has 4 fields; expected 5/],
    ['* * * * * * *', /has 7 fields; expected 5/],
    ['@reboot', /"@reboot" is not a supported macro; accepted: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly$/],
    ['@minutely', /not a supported macro/], // cron-parser knows it; Dalga does not document it
    ['@weekdays', /not a supported macro/],
    ['@', /not a supported macro/],
    ['@daily 5', /not a supported macro/],
    ['@dailyx', /not a supported macro/],
    ['@constructor', /not a supported macro/],
    ['daily', /has 1 field; expected 5/],
    ['61 * * * *', /61.*0-59/],
    ['* 24 * * *', /24.*0-23/],
    ['* * 32 * *', /32.*1-31/],
    ['* * 0 * *', /0.*1-31/],
    ['* * * 13 *', /13.*1-12/],
    ['* * * * 8', /8.*0-7/],
    ['60 * * * * *', /60.*0-59/],
    ['* * * * * *x', /\*x/],
    ['5-3 * * * *', /5-3/],
    ['*/0 * * * *', /every 0/],
    ['a b c d e', /Invalid characters/],
    ['0 0 30 2 *', /day of month/],
    ['H * * * *', /minute field "H": H \(hashed\) values are not supported/],
    ['0 H(0-3) * * *', /hour field .*not supported/],
  ];
  for (const [expression, what] of cases) {
    test(JSON.stringify(expression), () => {
      assert.throws(
        () => parseCron(expression, 'UTC'),
        (err: unknown) => {
          assert.ok(err instanceof ScheduleError, String(err));
          assert.equal(err.parameter, 'cron');
          assert.match(err.message, /^cron: /);
          assert.match(err.message, what);
          return true;
        },
      );
    });
  }

  test('unknown zone names location', () => {
    assert.throws(
      () => parseCron('* * * * *', 'Mars/Olympus'),
      (err: unknown) => err instanceof ScheduleError && err.parameter === 'location' && /^location: /.test(err.message),
    );
  });
});

describe('next', () => {
  // [expression, zone, from (exclusive), expected next occurrences]
  const cases: Array<[string, string, string, string[]]> = [
    ['* * * * * *', 'UTC', '2026-01-01T00:00:00.500Z', ['2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z', '2026-01-01T00:00:03Z']],
    ['0 * * * *', 'UTC', '2026-01-01T00:00:00Z', ['2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z']],
    ['0 * * * *', 'UTC', '2026-01-01T00:59:59.999Z', ['2026-01-01T01:00:00Z']],
    ['*/15 * * * * *', 'UTC', '2026-01-01T00:00:14Z', ['2026-01-01T00:00:15Z', '2026-01-01T00:00:30Z']],
    ['0 9 * * 1-5', 'Europe/Berlin', '2026-01-02T10:00:00+01:00', ['2026-01-05T09:00:00+01:00', '2026-01-06T09:00:00+01:00']],
    ['0 0 L 2 *', 'UTC', '2027-06-01T00:00:00Z', ['2028-02-29T00:00:00Z', '2029-02-28T00:00:00Z']],
    ['0 0 29 2 *', 'UTC', '2029-03-01T00:00:00Z', ['2032-02-29T00:00:00Z']],
    // Spring forward: the missing 02:30 is moved forward by the gap and runs once.
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00+01:00', ['2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00']],
    ['0 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00+01:00', ['2026-03-29T03:00:00+02:00', '2026-03-30T02:00:00+02:00']],
    ['30 2 * * *', 'America/New_York', '2026-03-07T12:00:00-05:00', ['2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00']],
    // ... also when asked from between the end of the gap and the moved time.
    ['30 2 * * *', 'Europe/Berlin', '2026-03-29T03:10:00+02:00', ['2026-03-29T03:30:00+02:00', '2026-03-30T02:30:00+02:00']],
    // Hourly: the hour that does not exist is skipped, nothing else.
    [
      '0 * * * *',
      'Europe/Berlin',
      '2026-03-29T00:30:00+01:00',
      ['2026-03-29T01:00:00+01:00', '2026-03-29T03:00:00+02:00', '2026-03-29T04:00:00+02:00'],
    ],
    ['0 * * * *', 'America/New_York', '2026-03-08T00:30:00-05:00', ['2026-03-08T01:00:00-05:00', '2026-03-08T03:00:00-04:00']],
    // Fall back, fixed hour: runs once, at the first (summer-time) instance.
    ['30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00+02:00', ['2026-10-25T02:30:00+02:00', '2026-10-26T02:30:00+01:00']],
    ['30 1 * * *', 'America/New_York', '2026-10-31T12:00:00-04:00', ['2026-11-01T01:30:00-04:00', '2026-11-02T01:30:00-05:00']],
    // ... also when asked from inside the repeated hour (a completion or retry after the transition).
    ['30 2 * * *', 'Europe/Berlin', '2026-10-25T02:10:00+01:00', ['2026-10-26T02:30:00+01:00']],
    ['30 1 * * *', 'America/New_York', '2026-11-01T01:10:00-05:00', ['2026-11-02T01:30:00-05:00']],
    [
      '0,30 1-3 * * *',
      'Europe/Berlin',
      '2026-10-25T00:10:00+02:00',
      [
        '2026-10-25T01:00:00+02:00',
        '2026-10-25T01:30:00+02:00',
        '2026-10-25T02:00:00+02:00',
        '2026-10-25T02:30:00+02:00',
        '2026-10-25T03:00:00+01:00',
        '2026-10-25T03:30:00+01:00',
      ],
    ],
    // Fall back, every hour: elapsed time, the repeated hour runs again.
    [
      '0 * * * *',
      'Europe/Berlin',
      '2026-10-25T00:30:00+02:00',
      ['2026-10-25T01:00:00+02:00', '2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T03:00:00+01:00'],
    ],
    [
      '*/30 * * * *',
      'America/New_York',
      '2026-11-01T00:50:00-04:00',
      [
        '2026-11-01T01:00:00-04:00',
        '2026-11-01T01:30:00-04:00',
        '2026-11-01T01:00:00-05:00',
        '2026-11-01T01:30:00-05:00',
        '2026-11-01T02:00:00-05:00',
      ],
    ],
    // 30-minute DST in Lord Howe (cron-parser's own tz handling throws here).
    [
      '0 * * * *',
      'Australia/Lord_Howe',
      '2026-04-05T00:30:00+11:00',
      ['2026-04-05T01:00:00+11:00', '2026-04-05T02:00:00+10:30', '2026-04-05T03:00:00+10:30'],
    ],
  ];
  for (const [expression, zone, from, expected] of cases) {
    test(`${expression} in ${zone} after ${from}`, () => {
      assert.deepEqual(occurrences(expression, zone, from, expected.length), expected);
    });
  }

  test('macros are their 5-field expressions, evaluated in the location', () => {
    const pairs: Array<[string, string]> = [
      ['@yearly', '0 0 1 1 *'],
      ['@annually', '0 0 1 1 *'],
      ['@monthly', '0 0 1 * *'],
      ['@weekly', '0 0 * * 0'],
      ['@daily', '0 0 * * *'],
      ['@midnight', '0 0 * * *'],
      ['@hourly', '0 * * * *'],
    ];
    for (const [macro, fields] of pairs) {
      for (const zone of ['UTC', 'Europe/Berlin', 'America/Santiago']) {
        for (const from of ['2026-03-28T12:00:00Z', '2026-09-05T12:00:00Z', '2026-10-24T12:00:00Z']) {
          assert.deepEqual(occurrences(macro, zone, from, 3), occurrences(fields, zone, from, 3), `${macro} in ${zone} from ${from}`);
        }
      }
    }
  });

  const macroCases: Array<[string, string, string, string[]]> = [
    ['@daily', 'Europe/Berlin', '2026-03-28T12:00:00+01:00', ['2026-03-29T00:00:00+01:00', '2026-03-30T00:00:00+02:00']],
    ['@midnight', 'Asia/Tokyo', '2026-01-15T10:00:00Z', ['2026-01-16T00:00:00+09:00', '2026-01-17T00:00:00+09:00']],
    ['@weekly', 'America/New_York', '2026-01-15T10:00:00Z', ['2026-01-18T00:00:00-05:00', '2026-01-25T00:00:00-05:00']], // Sundays
    ['@monthly', 'UTC', '2026-01-31T10:00:00Z', ['2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z']],
    ['@yearly', 'Europe/Istanbul', '2026-06-01T00:00:00Z', ['2027-01-01T00:00:00+03:00', '2028-01-01T00:00:00+03:00']],
    // Every hour: elapsed time through the repeated hour on the fall-back day, like 0 * * * *.
    [
      '@hourly',
      'Europe/Berlin',
      '2026-10-25T01:30:00+02:00',
      ['2026-10-25T02:00:00+02:00', '2026-10-25T02:00:00+01:00', '2026-10-25T03:00:00+01:00'],
    ],
  ];
  for (const [macro, zone, from, expected] of macroCases) {
    test(`${macro} in ${zone} after ${from}`, () => {
      assert.deepEqual(occurrences(macro, zone, from, expected.length), expected);
    });
  }

  test('next is strictly after afterMs', () => {
    const rule = parseCron('*/5 * * * *', 'UTC');
    const at = ms('2026-01-01T10:05:00Z');
    assert.equal(rule.next(at), ms('2026-01-01T10:10:00Z'));
    assert.equal(rule.next(at - 1), at);
  });

  test('6 fields: every second, across the Berlin fall-back transition without gaps or repeats', () => {
    const rule = parseCron('* * * * * *', 'Europe/Berlin');
    let t = ms('2026-10-25T01:59:00+02:00');
    const end = ms('2026-10-25T03:01:00+01:00');
    let count = 0;
    while (t < end) {
      const next = rule.next(t);
      assert.equal(next - t, 1000, iso(t, 'Europe/Berlin'));
      t = next;
      count++;
    }
    assert.equal(count, (end - ms('2026-10-25T01:59:00+02:00')) / 1000);
  });

  const days: Array<[string, string, string, string, string[]]> = [
    ['30 2 * * *', 'Europe/Berlin', '2026-03-29T00:00:00+01:00', '2026-03-30T00:00:00+02:00', ['2026-03-29T03:30:00+02:00']],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-25T00:00:00+02:00', '2026-10-26T00:00:00+01:00', ['2026-10-25T02:30:00+02:00']],
    ['30 2 * * *', 'America/New_York', '2026-03-08T00:00:00-05:00', '2026-03-09T00:00:00-04:00', ['2026-03-08T03:30:00-04:00']],
    ['30 1 * * *', 'America/New_York', '2026-11-01T00:00:00-04:00', '2026-11-02T00:00:00-05:00', ['2026-11-01T01:30:00-04:00']],
    [
      '* 2 * * *',
      'Europe/Berlin',
      '2026-10-25T00:00:00+02:00',
      '2026-10-26T00:00:00+01:00',
      Array.from({ length: 60 }, (_, m) => `2026-10-25T02:${String(m).padStart(2, '0')}:00+02:00`),
    ],
  ];
  for (const [expression, zone, from, to, expected] of days) {
    test(`${expression} in ${zone} runs once per wall time on ${from.slice(0, 10)}`, () => {
      assert.deepEqual(between(expression, zone, from, to), expected);
    });
  }
});

describe('next matches a luxon wall-clock reference around DST transitions', () => {
  /**
   * Reference: every matching local wall time W of each day, mapped with luxon: W if it exists once; the earlier
   * instant if it exists twice (both instants when the hour field is "every hour"); luxon's forward shift if it does
   * not exist.
   */
  function reference(minutes: number[], hours: number[], zone: string, dayIso: string, days: number): number[] {
    const everyHour = hours.length === 24;
    const out = new Set<number>();
    const start = DateTime.fromISO(dayIso, { zone }).startOf('day');
    for (let d = 0; d < days; d++) {
      const day = start.plus({ days: d });
      for (const hour of hours) {
        for (const minute of minutes) {
          const dt = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour, minute }, { zone });
          const instants = dt
            .getPossibleOffsets()
            .map((x) => x.toMillis())
            .sort((a, b) => a - b);
          if (instants.length === 0) out.add(dt.toMillis());
          else {
            out.add(instants[0] as number);
            if (everyHour && instants.length > 1) out.add(instants[1] as number);
          }
        }
      }
    }
    return [...out].sort((a, b) => a - b);
  }
  const all = (step: number, max: number): number[] => Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
  const expressions: Array<[string, number[], number[]]> = [
    ['30 2 * * *', [30], [2]],
    ['0,30 1-3 * * *', [0, 30], [1, 2, 3]],
    ['10,45 2,3 * * *', [10, 45], [2, 3]],
    ['*/15 2 * * *', [0, 15, 30, 45], [2]],
    ['0 * * * *', [0], all(1, 23)],
    ['*/20 * * * *', [0, 20, 40], all(1, 23)],
    ['0 0 * * *', [0], [0]],
    ['0 */2 * * *', [0], all(2, 23)],
  ];
  const transitions: Array<[string, string]> = [
    ['Europe/Berlin', '2026-03-28'],
    ['Europe/Berlin', '2026-10-24'],
    ['America/New_York', '2026-03-07'],
    ['America/New_York', '2026-10-31'],
    ['Australia/Lord_Howe', '2026-04-04'],
    ['Australia/Lord_Howe', '2026-10-03'],
    ['America/Havana', '2026-03-07'],
    ['America/Havana', '2026-10-31'],
  ];
  for (const [zone, dayIso] of transitions) {
    test(`${zone} ${dayIso}`, () => {
      for (const [expression, minutes, hours] of expressions) {
        const expected = reference(minutes, hours, zone, dayIso, 4);
        const rule = parseCron(expression, zone);
        const t0 = DateTime.fromISO(dayIso, { zone }).toMillis();
        for (let t = t0; t < t0 + 2 * 86_400_000; t += 11 * 60_000 + 7_000) {
          const want = expected.find((x) => x > t) as number;
          const got = rule.next(t);
          assert.equal(iso(got, zone), iso(want, zone), `${expression} after ${iso(t, zone)}`);
        }
      }
    });
  }
});

test('next is fast enough to call per job per run', () => {
  const rule = parseCron('*/5 * * * *', 'Europe/Berlin');
  const start = performance.now();
  for (let i = 0; i < 5000; i++) rule.next(1_767_225_600_000 + i * 7_777_777);
  const perCall = (performance.now() - start) / 5000;
  assert.ok(perCall < 1, `${perCall} ms per call`);
});
