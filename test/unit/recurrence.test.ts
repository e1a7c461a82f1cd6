import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DateTime } from 'luxon';
import { parseCron } from '../../src/schedule/cron.js';
import { parseInterval } from '../../src/schedule/interval.js';
import { firstSlot, nextSlot, randomizeSlot, type Recurrence } from '../../src/schedule/recurrence.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const ms = (iso: string): number => DateTime.fromISO(iso, { setZone: true }).toMillis();
const iso = (t: number, zone: string): string =>
  DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true }) as string;
const every = (text: string): Recurrence => ({ kind: 'interval', interval: parseInterval(text) });
const cron = (expression: string, zone: string): Recurrence => ({ kind: 'cron', cron: parseCron(expression, zone) });
const FIXED = { fixedIntervals: true };
const AFTER_COMPLETION = { fixedIntervals: false };

describe('nextSlot: fixed rate', () => {
  // [recurrence text, zone, previous slot, now, expected next slot]
  const cases: Array<[string, string, string, string, string]> = [
    // On time: previous slot + interval.
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:00.005Z', '2026-01-01T10:01:00Z'],
    ['PT1H30M', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:01Z', '2026-01-01T11:30:00Z'],
    // Clock behind the slot: still the slot after it.
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T09:59:00Z', '2026-01-01T10:01:00Z'],
    // Missed slots are skipped: the first slot >= now, on the original grid.
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:05:30Z', '2026-01-01T10:06:00Z'],
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00Z', '2026-01-01T10:05:00Z'],
    ['60', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:05:00.001Z', '2026-01-01T10:06:00Z'],
    ['PT0.5S', 'UTC', '2026-01-01T10:00:00Z', '2026-01-01T10:00:01.2Z', '2026-01-01T10:00:01.500Z'],
    // Calendar intervals keep the local time across DST.
    ['P1D', 'Europe/Berlin', '2026-03-28T09:00:00+01:00', '2026-03-28T09:00:01+01:00', '2026-03-29T09:00:00+02:00'],
    ['P1D', 'Europe/Berlin', '2026-10-24T09:00:00+02:00', '2026-10-24T09:00:01+02:00', '2026-10-25T09:00:00+01:00'],
    ['P1D', 'America/New_York', '2026-03-07T09:00:00-05:00', '2026-03-07T09:00:01-05:00', '2026-03-08T09:00:00-04:00'],
    ['P1D', 'America/New_York', '2026-10-31T09:00:00-04:00', '2026-10-31T09:00:01-04:00', '2026-11-01T09:00:00-05:00'],
    // Fixed units are exact elapsed time across DST.
    ['PT1H', 'Europe/Berlin', '2026-03-29T01:30:00+01:00', '2026-03-29T01:30:01+01:00', '2026-03-29T03:30:00+02:00'],
    ['PT1H', 'Europe/Berlin', '2026-10-25T02:30:00+02:00', '2026-10-25T02:30:01+02:00', '2026-10-25T02:30:00+01:00'],
    ['PT1H', 'America/New_York', '2026-03-08T01:30:00-05:00', '2026-03-08T01:30:01-05:00', '2026-03-08T03:30:00-04:00'],
    ['PT1H', 'America/New_York', '2026-11-01T01:30:00-04:00', '2026-11-01T01:30:01-04:00', '2026-11-01T01:30:00-05:00'],
    // Missed calendar slots: skipped, local time kept.
    ['P1D', 'Europe/Berlin', '2026-01-10T09:00:00+01:00', '2026-07-15T12:00:00+02:00', '2026-07-16T09:00:00+02:00'],
    ['P1D', 'Europe/Berlin', '2026-01-10T09:00:00+01:00', '2026-07-15T09:00:00+02:00', '2026-07-15T09:00:00+02:00'],
    ['P1W', 'America/New_York', '2026-01-05T08:00:00-05:00', '2026-06-03T00:00:00-04:00', '2026-06-08T08:00:00-04:00'],
    // Month ends: each slot is the previous one + P1M, so the clamped day sticks (Jan 31 -> Feb 28 -> Mar 28).
    ['P1M', 'UTC', '2026-01-31T10:00:00Z', '2026-01-31T10:00:01Z', '2026-02-28T10:00:00Z'],
    ['P1M', 'UTC', '2026-02-28T10:00:00Z', '2026-02-28T10:00:01Z', '2026-03-28T10:00:00Z'],
    // ... but missed slots are skipped in one step from the last slot served (Jan 31 + P2M = Mar 31).
    ['P1M', 'UTC', '2026-01-31T10:00:00Z', '2026-03-15T00:00:00Z', '2026-03-31T10:00:00Z'],
    // Leap days.
    ['P1Y', 'UTC', '2028-02-29T12:00:00Z', '2028-02-29T12:00:01Z', '2029-02-28T12:00:00Z'],
    ['P1Y', 'UTC', '2028-02-29T12:00:00Z', '2031-06-01T00:00:00Z', '2032-02-29T12:00:00Z'],
    // Mixed calendar and clock parts, many missed.
    ['P1DT1H', 'UTC', '2026-01-01T00:00:00Z', '2026-01-20T12:00:00Z', '2026-01-20T19:00:00Z'], // 19 x 25 h,
  ];
  for (const [text, zone, slot, now, expected] of cases) {
    test(`${text} in ${zone}: slot ${slot}, now ${now}`, () => {
      const next = nextSlot(every(text), zone, ms(slot), ms(now), ms(now), FIXED);
      assert.equal(iso(next as number, zone), expected);
    });
  }

  test('PT1S disabled for 3 years: first slot >= now, computed arithmetically', () => {
    const slot = ms('2026-01-01T00:00:00.250Z');
    const now = slot + 3 * 365 * DAY + 12_345_678.9;
    const start = performance.now();
    const next = nextSlot(every('PT1S'), 'Europe/Berlin', slot, now, now, FIXED) as number;
    assert.ok(performance.now() - start < 20);
    assert.ok(next >= now);
    assert.ok(next - SECOND < now);
    assert.equal((next - slot) % SECOND, 0);
    assert.equal(nextSlot(every('1'), 'UTC', slot, now, now, FIXED), next);
  });

  test('P1D disabled for 30 years: local time kept, computed with an estimate', () => {
    const zone = 'Europe/Berlin';
    const slot = ms('2026-03-28T02:15:00+01:00');
    const now = ms('2056-08-01T12:00:00+02:00');
    const start = performance.now();
    const next = nextSlot(every('P1D'), zone, slot, now, now, FIXED) as number;
    assert.ok(performance.now() - start < 100);
    assert.equal(iso(next, zone), '2056-08-02T02:15:00+02:00');
  });

  test('is an exact slot sequence: each result fed back gives the next', () => {
    const zone = 'America/New_York';
    const rec = every('P1D');
    let slot = ms('2026-10-30T01:30:00-04:00');
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      slot = nextSlot(rec, zone, slot, slot + 1, slot + 1, FIXED) as number;
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
      const next = nextSlot(cron(expression, zone), zone, ms(slot), ms(now), ms(now), FIXED);
      assert.equal(iso(next as number, zone), expected);
    });
  }

  test('once: null', () => {
    assert.equal(nextSlot({ kind: 'once' }, 'UTC', 0, 1, 1, FIXED), null);
    assert.equal(nextSlot({ kind: 'once' }, 'UTC', 0, 1, 1, AFTER_COMPLETION), null);
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
      const next = nextSlot(rec, zone, ms(slot), completedMs + 3, completedMs, AFTER_COMPLETION);
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
      assert.equal(randomizeSlot(rec, zone, slot, factor, () => r) - slot, expected);
    });
  }

  test('P1D over a 23-hour DST day spreads over 23 hours', () => {
    const zone = 'Europe/Berlin';
    const from = ms('2026-03-28T12:00:00+01:00');
    assert.equal(randomizeSlot(every('P1D'), zone, from, 1, () => 0.5) - from, 11.5 * HOUR);
  });

  test('stays within [slot, slot + factor x length) for many random values', () => {
    const rec = every('PT10S');
    for (let i = 0; i < 1000; i++) {
      const r = i / 1000;
      const t = randomizeSlot(rec, 'UTC', slot, 0.3, () => r);
      assert.ok(t >= slot && t < slot + 3000 && Number.isInteger(t));
    }
  });
});
