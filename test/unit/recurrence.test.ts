import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { parseCron } from '../../src/schedule/cron.js';
import { parseInterval } from '../../src/schedule/interval.js';
import { gridSlotOnOrAfter } from '../../src/schedule/slot-grid.js';
import { firstSlot, nextSlot, randomizeSlot, slotOnOrAfter, type Recurrence } from '../../src/schedule/recurrence.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const ms = (iso: string): number => DateTime.fromISO(iso, { setZone: true }).toMillis();
const iso = (t: number, zone: string): string => DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true }) as string;
const every = (text: string): Recurrence => ({ kind: 'interval', interval: parseInterval(text) });
const cron = (expression: string, zone: string): Recurrence => ({ kind: 'cron', cron: parseCron(expression, zone) });
const FIXED = { fixedIntervals: true };
const AFTER_COMPLETION = { fixedIntervals: false };

describe('nextSlot: fixed rate', () => {
  // [recurrence text, zone, anchor (the job's first slot), slot just served, now, expected next slot]
  const cases: Array<[string, string, string, string, string, string]> = [
    // On time: previous slot + interval.
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00.005Z', '2026-01-01T10:01:00Z'],
    ['PT1H30M', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:00:01Z', '2026-01-01T11:30:00Z'],
    ['60', 'UTC', '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00.005Z', '2026-01-01T10:01:00Z'],
    // Clock behind the slot: still the slot after it.
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T09:59:00Z', '2026-01-01T10:01:00Z'],
    // Missed slots are skipped: the first slot >= now, on the anchor's grid.
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:05:30Z', '2026-01-01T10:06:00Z'],
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00Z', '2026-01-01T10:05:00Z'],
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00.001Z', '2026-01-01T10:06:00Z'],
    ['PT0.5S', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z', '2026-01-01T10:00:01.2Z', '2026-01-01T10:00:01.500Z'],
    // Calendar intervals keep the local time across DST.
    ['P1D', 'Europe/Berlin', '2026-03-28T09:00:00+01:00', '2026-03-28T09:00:00+01:00', '2026-03-28T09:00:01+01:00', '2026-03-29T09:00:00+02:00'],
    ['P1D', 'Europe/Berlin', '2026-10-24T09:00:00+02:00', '2026-10-24T09:00:00+02:00', '2026-10-24T09:00:01+02:00', '2026-10-25T09:00:00+01:00'],
    ['P1D', 'America/New_York', '2026-03-07T09:00:00-05:00', '2026-03-07T09:00:00-05:00', '2026-03-07T09:00:01-05:00', '2026-03-08T09:00:00-04:00'],
    ['P1D', 'America/New_York', '2026-10-31T09:00:00-04:00', '2026-10-31T09:00:00-04:00', '2026-10-31T09:00:01-04:00', '2026-11-01T09:00:00-05:00'],
    // A P1D slot moved by spring forward (02:30 -> 03:30) is moved on that day only.
    ['P1D', 'Europe/Berlin', '2026-03-20T02:30:00+01:00', '2026-03-28T02:30:00+01:00', '2026-03-28T02:30:01+01:00', '2026-03-29T03:30:00+02:00'],
    ['P1D', 'Europe/Berlin', '2026-03-20T02:30:00+01:00', '2026-03-29T03:30:00+02:00', '2026-03-29T03:30:01+02:00', '2026-03-30T02:30:00+02:00'],
    // Fixed units are exact elapsed time across DST.
    ['PT1H', 'Europe/Berlin', '2026-03-29T01:30:00+01:00', '2026-03-29T01:30:00+01:00', '2026-03-29T01:30:01+01:00', '2026-03-29T03:30:00+02:00'],
    ['PT1H', 'Europe/Berlin', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:01+02:00', '2026-10-25T02:30:00+01:00'],
    ['PT1H', 'America/New_York', '2026-03-08T01:30:00-05:00', '2026-03-08T01:30:00-05:00', '2026-03-08T01:30:01-05:00', '2026-03-08T03:30:00-04:00'],
    ['PT1H', 'America/New_York', '2026-11-01T01:30:00-04:00', '2026-11-01T01:30:00-04:00', '2026-11-01T01:30:01-04:00', '2026-11-01T01:30:00-05:00'],
    // Missed calendar slots: skipped, local time kept.
    ['P1D', 'Europe/Berlin', '2026-01-10T09:00:00+01:00', '2026-01-10T09:00:00+01:00', '2026-07-15T12:00:00+02:00', '2026-07-16T09:00:00+02:00'],
    ['P1D', 'Europe/Berlin', '2026-01-10T09:00:00+01:00', '2026-01-10T09:00:00+01:00', '2026-07-15T09:00:00+02:00', '2026-07-15T09:00:00+02:00'],
    ['P1W', 'America/New_York', '2026-01-05T08:00:00-05:00', '2026-01-05T08:00:00-05:00', '2026-06-03T00:00:00-04:00', '2026-06-08T08:00:00-04:00'],
    // Month ends: every slot is computed from the anchor, so a Jan 31 job is back on the 31st after February.
    ['P1M', 'UTC', '2026-01-31T10:00:00Z', '2026-01-31T10:00:00Z', '2026-01-31T10:00:01Z', '2026-02-28T10:00:00Z'],
    ['P1M', 'UTC', '2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', '2026-02-28T10:00:01Z', '2026-03-31T10:00:00Z'],
    ['P1M', 'UTC', '2026-01-31T10:00:00Z', '2026-01-31T10:00:00Z', '2026-03-15T00:00:00Z', '2026-03-31T10:00:00Z'],
    ['P1M', 'UTC', '2026-01-31T10:00:00Z', '2026-03-31T10:00:00Z', '2026-03-31T10:00:01Z', '2026-04-30T10:00:00Z'],
    // ... and a job anchored on the 28th stays on the 28th.
    ['P1M', 'UTC', '2026-02-28T10:00:00Z', '2026-02-28T10:00:00Z', '2026-02-28T10:00:01Z', '2026-03-28T10:00:00Z'],
    // Leap days.
    ['P1Y', 'UTC', '2028-02-29T12:00:00Z', '2028-02-29T12:00:00Z', '2028-02-29T12:00:01Z', '2029-02-28T12:00:00Z'],
    ['P1Y', 'UTC', '2028-02-29T12:00:00Z', '2029-02-28T12:00:00Z', '2029-02-28T12:00:01Z', '2030-02-28T12:00:00Z'],
    ['P1Y', 'UTC', '2028-02-29T12:00:00Z', '2028-02-29T12:00:00Z', '2031-06-01T00:00:00Z', '2032-02-29T12:00:00Z'],
    // Mixed calendar and clock parts, many missed.
    ['P1DT1H', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-01-20T12:00:00Z', '2026-01-20T19:00:00Z'], // 19 x 25 h
  ];
  for (const [text, zone, anchor, slot, now, expected] of cases) {
    test(`${text} in ${zone}: anchor ${anchor}, slot ${slot}, now ${now}`, () => {
      const next = nextSlot(every(text), zone, ms(anchor), ms(slot), ms(now), ms(now), FIXED);
      assert.equal(iso(next as number, zone), expected);
    });
  }

  test('the slot sequence does not depend on which slots ran (Jan 31, P1M, over a leap year)', () => {
    const zone = 'Europe/Berlin';
    const rec = every('P1M');
    const anchor = ms('2028-01-31T10:00:00+01:00');
    // Every slot served on time: the next one is asked for just after each.
    const onTime: number[] = [anchor];
    while (onTime.length < 13) {
      const last = onTime[onTime.length - 1];
      onTime.push(nextSlot(rec, zone, anchor, last, last + 1, last + 1, FIXED) as number);
    }
    assert.deepEqual(
      onTime.map((t) => iso(t, zone).slice(0, 10)),
      [
        '2028-01-31',
        '2028-02-29',
        '2028-03-31',
        '2028-04-30',
        '2028-05-31',
        '2028-06-30',
        '2028-07-31',
        '2028-08-31',
        '2028-09-30',
        '2028-10-31',
        '2028-11-30',
        '2028-12-31',
        '2029-01-31',
      ],
    );
    // The same job down for a while, several times: February, May-June and September-October missed.
    const served: number[] = [anchor];
    for (const now of [
      '2028-03-15T00:00:00+01:00',
      '2028-04-30T10:00:00+02:00',
      '2028-07-01T00:00:00+02:00',
      '2028-11-01T00:00:00+01:00',
      '2028-12-31T09:00:00+01:00',
      '2029-01-31T09:00:00+01:00',
    ]) {
      served.push(nextSlot(rec, zone, anchor, served[served.length - 1], ms(now), ms(now), FIXED) as number);
    }
    assert.deepEqual(
      served.map((t) => iso(t, zone).slice(0, 10)),
      ['2028-01-31', '2028-03-31', '2028-04-30', '2028-07-31', '2028-11-30', '2028-12-31', '2029-01-31'],
    );
    for (const slot of served) assert.ok(onTime.includes(slot), `${iso(slot, zone)} is one of the on-time slots`);
  });

  // How many slot computations such a search takes is counted in slot-grid.test.ts: nextSlot is that search.
  test('PT1S down for 10 years: the first slot >= now, on the grid', () => {
    const anchor = ms('2026-01-01T00:00:00.250Z');
    const now = anchor + 10 * 365 * DAY + 12_345_678.9;
    const next = nextSlot(every('PT1S'), 'Europe/Berlin', anchor, anchor, now, now, FIXED) as number;
    assert.ok(next >= now);
    assert.ok(next - SECOND < now);
    assert.equal((next - anchor) % SECOND, 0);
    assert.equal(next, gridSlotOnOrAfter(parseInterval('PT1S'), 'Europe/Berlin', anchor, now));
    assert.equal(nextSlot(every('1'), 'UTC', anchor, anchor, now, now, FIXED), next);
  });

  test('P1D down for 10 years: local time kept, on the grid', () => {
    const zone = 'Europe/Berlin';
    const anchor = ms('2026-03-28T02:15:00+01:00');
    const now = ms('2036-08-01T12:00:00+02:00');
    const next = nextSlot(every('P1D'), zone, anchor, anchor, now, now, FIXED) as number;
    assert.equal(iso(next, zone), '2036-08-02T02:15:00+02:00');
    assert.equal(next, gridSlotOnOrAfter(parseInterval('P1D'), zone, anchor, now));
  });

  test('is an exact slot sequence: each result fed back gives the next', () => {
    const zone = 'America/New_York';
    const rec = every('P1D');
    const anchor = ms('2026-10-30T01:30:00-04:00');
    let slot = anchor;
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      slot = nextSlot(rec, zone, anchor, slot, slot + 1, slot + 1, FIXED) as number;
      seen.push(iso(slot, zone));
    }
    assert.deepEqual(seen, [
      '2026-10-31T01:30:00-04:00',
      '2026-11-01T01:30:00-04:00', // ambiguous: the earlier instant
      '2026-11-02T01:30:00-05:00',
      '2026-11-03T01:30:00-05:00',
    ]);
  });

  const cronCases: Array<[string, string, string, string, string]> = [
    ['*/5 * * * *', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00.010Z', '2026-01-01T10:05:00Z'],
    ['*/5 * * * *', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T09:59:00Z', '2026-01-01T10:05:00Z'],
    ['*/5 * * * *', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:17:30Z', '2026-01-01T10:20:00Z'],
    ['*/5 * * * *', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:15:00Z', '2026-01-01T10:15:00Z'],
    ['* * * * * *', 'UTC', '2026-01-01T10:00:00Z', '2029-01-01T10:00:00.001Z', '2029-01-01T10:00:01Z'],
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T02:30:00+01:00', '2026-03-28T02:30:00.100+01:00', '2026-03-29T03:30:00+02:00'],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00.100+02:00', '2026-10-26T02:30:00+01:00'],
  ];
  for (const [expression, zone, slot, now, expected] of cronCases) {
    test(`cron ${expression} in ${zone}: slot ${slot}, now ${now}`, () => {
      // A cron job has no anchor: whatever is passed is not used.
      const next = nextSlot(cron(expression, zone), zone, 0, ms(slot), ms(now), ms(now), FIXED);
      assert.equal(iso(next as number, zone), expected);
    });
  }

  test('once: null', () => {
    assert.equal(nextSlot({ kind: 'once' }, 'UTC', 0, 0, 1, 1, FIXED), null);
    assert.equal(nextSlot({ kind: 'once' }, 'UTC', 0, 0, 1, 1, AFTER_COMPLETION), null);
  });
});

describe('nextSlot: interval after completion (fixedIntervals = false)', () => {
  // [recurrence, zone, slot, completedAt, expected]
  const cases: Array<[Recurrence, string, string, string, string]> = [
    [every('60'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:07.250Z', '2026-01-01T10:01:07.250Z'],
    [every('PT1H'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T13:30:00Z', '2026-01-01T14:30:00Z'],
    [every('P1D'), 'Europe/Berlin', '2026-03-28T09:00:00+01:00', '2026-03-28T09:00:30+01:00', '2026-03-29T09:00:30+02:00'],
    [cron('*/5 * * * *', 'UTC'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:07:00Z', '2026-01-01T10:10:00Z'],
    [cron('*/5 * * * *', 'UTC'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00Z', '2026-01-01T10:10:00Z'],
    [cron('30 2 * * *', 'Europe/Berlin'), 'Europe/Berlin', '2026-10-25T02:30:00+02:00', '2026-10-25T02:35:00+01:00', '2026-10-26T02:30:00+01:00'],
  ];
  for (const [rec, zone, slot, completed, expected] of cases) {
    test(`${rec.kind === 'cron' ? rec.cron.expression : rec.kind === 'interval' ? rec.interval.text : 'once'}: completed ${completed}`, () => {
      const completedMs = ms(completed);
      // The anchor is not used: slots follow completions, not a grid.
      const next = nextSlot(rec, zone, ms('2020-01-01T00:00:00Z'), ms(slot), completedMs + 3, completedMs, AFTER_COMPLETION);
      assert.equal(iso(next as number, zone), expected);
    });
  }
});

describe('firstSlot', () => {
  const cases: Array<[Recurrence, string, string, string]> = [
    [every('60'), 'UTC', '2026-01-01T10:00:00.123Z', '2026-01-01T10:01:00.123Z'],
    [every('P1D'), 'Europe/Berlin', '2026-03-28T09:00:00+01:00', '2026-03-29T09:00:00+02:00'],
    [cron('*/5 * * * *', 'UTC'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00Z'],
    [cron('*/5 * * * *', 'UTC'), 'UTC', '2026-01-01T10:03:10Z', '2026-01-01T10:05:00Z'],
    [cron('0 9 * * *', 'America/New_York'), 'America/New_York', '2026-03-07T10:00:00-05:00', '2026-03-08T09:00:00-04:00'],
  ];
  for (const [rec, zone, from, expected] of cases) {
    test(`${rec.kind === 'cron' ? rec.cron.expression : rec.kind === 'interval' ? rec.interval.text : 'once'} from ${from}`, () => {
      assert.equal(iso(firstSlot(rec, zone, ms(from)), zone), expected);
    });
  }

  test('once throws', () => {
    assert.throws(() => firstSlot({ kind: 'once' }, 'UTC', 0));
  });
});

describe('slotOnOrAfter: where enabling a job resumes', () => {
  // [recurrence, zone, anchor, from, expected]
  const cases: Array<[string, Recurrence, string, string, string, string]> = [
    ['interval: the next slot of the grid after from', every('60'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:07:30Z', '2026-01-01T10:08:00Z'],
    ['interval: a slot exactly at from is that slot', every('60'), 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:07:00Z', '2026-01-01T10:07:00Z'],
    ['interval: before the anchor, the anchor', every('60'), 'UTC', '2026-01-01T10:00:00Z', '2025-12-31T00:00:00Z', '2026-01-01T10:00:00Z'],
    [
      'interval: a Jan 31 month-end job enabled in April resumes on Apr 30',
      every('P1M'),
      'UTC',
      '2026-01-31T10:00:00Z',
      '2026-04-02T00:00:00Z',
      '2026-04-30T10:00:00Z',
    ],
    [
      'interval: P1D at 02:30 enabled on the spring-forward night resumes at 03:30',
      every('P1D'),
      'Europe/Berlin',
      '2026-03-01T02:30:00+01:00',
      '2026-03-29T01:00:00+01:00',
      '2026-03-29T03:30:00+02:00',
    ],
    ['cron: the next occurrence', cron('*/5 * * * *', 'UTC'), 'UTC', '2000-01-01T00:00:00Z', '2026-01-01T10:07:30Z', '2026-01-01T10:10:00Z'],
    [
      'cron: an occurrence exactly at from is that occurrence',
      cron('*/5 * * * *', 'UTC'),
      'UTC',
      '2000-01-01T00:00:00Z',
      '2026-01-01T10:10:00Z',
      '2026-01-01T10:10:00Z',
    ],
    [
      'cron: in its location',
      cron('30 2 * * *', 'Europe/Berlin'),
      'Europe/Berlin',
      '2000-01-01T00:00:00Z',
      '2026-03-29T00:00:00+01:00',
      '2026-03-29T03:30:00+02:00',
    ],
  ];
  for (const [name, rec, zone, anchor, from, expected] of cases) {
    test(name, () => {
      assert.equal(iso(slotOnOrAfter(rec, zone, ms(anchor), ms(from)) as number, zone), expected);
    });
  }

  test('cron: the anchor is not used', () => {
    const rec = cron('*/5 * * * *', 'UTC');
    const from = ms('2026-01-01T10:07:30Z');
    assert.equal(slotOnOrAfter(rec, 'UTC', 0, from), slotOnOrAfter(rec, 'UTC', ms('2026-01-01T10:03:00Z'), from));
  });

  test('a one-off job has no regular slot: null', () => {
    assert.equal(slotOnOrAfter({ kind: 'once' }, 'UTC', 0, ms('2026-01-01T10:00:00Z')), null);
  });
});

describe('randomizeSlot', () => {
  const slot = ms('2026-01-01T10:00:00Z');
  // [recurrence, zone, slot, factor, random(), expected offset from slot]
  const cases: Array<[string, Recurrence, string, number, number, number]> = [
    ['60 s, random 0', every('60'), 'UTC', 1, 0, 0],
    ['60 s, random 0.999', every('60'), 'UTC', 1, 0.999, 59_940],
    ['60 s, factor 0.5, random 0.999', every('60'), 'UTC', 0.5, 0.999, 29_970],
    ['60 s, factor 0', every('60'), 'UTC', 0, 0.999, 0],
    ['60 s, factor > 1 clamps to 1', every('60'), 'UTC', 5, 0.5, 30_000],
    ['60 s, random 1 stays below the next slot', every('60'), 'UTC', 1, 1, 59_999],
    ['cron */5, random 0.999', cron('*/5 * * * *', 'UTC'), 'UTC', 1, 0.999, 299_700],
    ['P1D, random 0.5', every('P1D'), 'UTC', 1, 0.5, 12 * HOUR],
    ['once is not moved', { kind: 'once' }, 'UTC', 1, 0.999, 0],
  ];
  for (const [name, rec, zone, factor, r, expected] of cases) {
    test(name, () => {
      // The slot as its own anchor: the next regular slot is one interval later.
      assert.equal(randomizeSlot(rec, zone, slot, slot, factor, () => r) - slot, expected);
    });
  }

  test('P1D over a 23-hour DST day spreads over 23 hours', () => {
    const zone = 'Europe/Berlin';
    const from = ms('2026-03-28T12:00:00+01:00');
    assert.equal(randomizeSlot(every('P1D'), zone, from, from, 1, () => 0.5) - from, 11.5 * HOUR);
  });

  test('spreads up to the next slot of the grid, which may be nearer than one interval', () => {
    const zone = 'Europe/Berlin';
    const anchor = ms('2026-03-01T02:30:00+01:00');
    // P1D at 02:30: on the spring-forward day the slot is 03:30, the next one 02:30 the day after, 23 h later.
    const moved = ms('2026-03-29T03:30:00+02:00');
    assert.equal(randomizeSlot(every('P1D'), zone, anchor, moved, 1, () => 0.5) - moved, 11.5 * HOUR);
    assert.ok(randomizeSlot(every('P1D'), zone, anchor, moved, 1, () => 1) < ms('2026-03-30T02:30:00+02:00'));
    // From Feb 28 on a Jan 31 grid the next slot is Mar 31, 31 days away.
    const feb = ms('2026-02-28T10:00:00Z');
    assert.equal(randomizeSlot(every('P1M'), 'UTC', ms('2026-01-31T10:00:00Z'), feb, 1, () => 0.5) - feb, 15.5 * DAY);
  });

  test('stays within [slot, slot + factor x length) for many random values', () => {
    const rec = every('PT10S');
    for (let i = 0; i < 1000; i++) {
      const r = i / 1000;
      const t = randomizeSlot(rec, 'UTC', slot, slot, 0.3, () => r);
      assert.ok(t >= slot && t < slot + 3000 && Number.isInteger(t));
    }
  });
});
