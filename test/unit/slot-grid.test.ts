/**
 * The slot grid of an interval job (README "Time rules"): slot k = anchor + k x interval, computed in the job's
 * location from the anchor, never from the slot before. Fixed times only: no clock.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DateTime } from 'luxon';
import { parseInterval } from '../../src/schedule/interval.js';
import { gridSlotOnOrAfter, slotAt, type SlotFunction } from '../../src/schedule/slot-grid.js';

const YEAR = 365 * 86_400_000;
const ms = (iso: string): number => {
  const parsed = DateTime.fromISO(iso, { setZone: true });
  assert.ok(parsed.isValid, `test data: ${iso}`);
  return parsed.toMillis();
};
const iso = (t: number, zone: string): string => DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true }) as string;

/** Slots 0..n-1 of a grid, as local times. */
function slots(text: string, zone: string, anchor: string, n: number): string[] {
  const interval = parseInterval(text);
  return Array.from({ length: n }, (_, k) => iso(slotAt(interval, zone, ms(anchor), k), zone));
}

/** slotAt that counts how often it runs. */
function counting(): { slot: SlotFunction; count: () => number } {
  let calls = 0;
  return {
    slot: (interval, zone, anchorMs, k) => {
      calls++;
      return slotAt(interval, zone, anchorMs, k);
    },
    count: () => calls,
  };
}

describe('slotAt: slot k is computed from the anchor', () => {
  test('a month-end job stays at the month end, a leap February included (Jan 31 -> Feb 29 -> Mar 31 -> Apr 30 ...)', () => {
    assert.deepEqual(slots('P1M', 'Europe/Berlin', '2028-01-31T10:00:00+01:00', 13), [
      '2028-01-31T10:00:00+01:00',
      '2028-02-29T10:00:00+01:00',
      '2028-03-31T10:00:00+02:00',
      '2028-04-30T10:00:00+02:00',
      '2028-05-31T10:00:00+02:00',
      '2028-06-30T10:00:00+02:00',
      '2028-07-31T10:00:00+02:00',
      '2028-08-31T10:00:00+02:00',
      '2028-09-30T10:00:00+02:00',
      '2028-10-31T10:00:00+01:00',
      '2028-11-30T10:00:00+01:00',
      '2028-12-31T10:00:00+01:00',
      '2029-01-31T10:00:00+01:00',
    ]);
    // In a common year, February clamps to the 28th and March is back on the 31st.
    assert.deepEqual(slots('P1M', 'UTC', '2026-01-31T10:00:00Z', 3), ['2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', '2026-03-31T10:00:00Z']);
  });

  test('P1Y from Feb 29 is Feb 28 in common years and Feb 29 again in the next leap year', () => {
    assert.deepEqual(slots('P1Y', 'UTC', '2028-02-29T12:00:00Z', 5), [
      '2028-02-29T12:00:00Z',
      '2029-02-28T12:00:00Z',
      '2030-02-28T12:00:00Z',
      '2031-02-28T12:00:00Z',
      '2032-02-29T12:00:00Z',
    ]);
  });

  test('P1D at 02:30 in Europe/Berlin: 03:30 on the spring-forward day only, 02:30 again the next day', () => {
    assert.deepEqual(slots('P1D', 'Europe/Berlin', '2026-03-27T02:30:00+01:00', 5), [
      '2026-03-27T02:30:00+01:00',
      '2026-03-28T02:30:00+01:00',
      '2026-03-29T03:30:00+02:00', // 02:30 does not exist that day
      '2026-03-30T02:30:00+02:00',
      '2026-03-31T02:30:00+02:00',
    ]);
  });

  test('P1D at 02:30 in Europe/Berlin on the fall-back day: the earlier of the two 02:30s', () => {
    assert.deepEqual(slots('P1D', 'Europe/Berlin', '2026-10-23T02:30:00+02:00', 4), [
      '2026-10-23T02:30:00+02:00',
      '2026-10-24T02:30:00+02:00',
      '2026-10-25T02:30:00+02:00', // summer time: the first 02:30
      '2026-10-26T02:30:00+01:00',
    ]);
  });

  test('slot 0 is the anchor exactly, also an anchor in the second instance of a repeated hour', () => {
    const anchor = ms('2026-10-25T02:30:00+01:00'); // the second 02:30 (winter time)
    assert.equal(slotAt(parseInterval('P1D'), 'Europe/Berlin', anchor, 0), anchor);
    assert.equal(iso(slotAt(parseInterval('P1D'), 'Europe/Berlin', anchor, 1), 'Europe/Berlin'), '2026-10-26T02:30:00+01:00');
  });

  test('P1DT1H: k days from the anchor in the zone, then k hours of elapsed time', () => {
    // From 01:30 CET: day 1 is 01:30 CET + 1 h = 03:30 CEST (the clocks skip 02:00-03:00); day 2 is 01:30 CEST + 2 h.
    // Stepping from the previous slot would give 03:30 + P1D + 1 h = 04:30 on day 2.
    assert.deepEqual(slots('P1DT1H', 'Europe/Berlin', '2026-03-28T01:30:00+01:00', 4), [
      '2026-03-28T01:30:00+01:00',
      '2026-03-29T03:30:00+02:00',
      '2026-03-30T03:30:00+02:00',
      '2026-03-31T04:30:00+02:00',
    ]);
    assert.equal(slots('P1DT1H', 'UTC', '2026-01-01T00:00:00Z', 25)[24], '2026-01-26T00:00:00Z'); // 24 x 25 h
  });

  test('PT90S is exact elapsed time, across a DST change too', () => {
    const interval = parseInterval('PT90S');
    const anchor = ms('2026-03-29T01:59:00+01:00');
    for (const k of [0, 1, 2, 1000, 123_456_789]) assert.equal(slotAt(interval, 'Europe/Berlin', anchor, k), anchor + k * 90_000);
    assert.equal(iso(slotAt(interval, 'Europe/Berlin', anchor, 1), 'Europe/Berlin'), '2026-03-29T03:00:30+02:00');
    assert.equal(slotAt(parseInterval('90'), 'Europe/Berlin', anchor, 7), anchor + 7 * 90_000);
  });

  test('k must be a whole number >= 0', () => {
    for (const k of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => slotAt(parseInterval('60'), 'UTC', 0, k), RangeError);
    }
  });
});

describe('gridSlotOnOrAfter', () => {
  test('is the first slot >= from: the anchor up to it, a slot itself, else the next one', () => {
    const interval = parseInterval('P1M');
    const anchor = ms('2026-01-31T10:00:00Z');
    const at = (from: string) => iso(gridSlotOnOrAfter(interval, 'UTC', anchor, ms(from)), 'UTC');
    assert.equal(at('2020-01-01T00:00:00Z'), '2026-01-31T10:00:00Z');
    assert.equal(at('2026-01-31T10:00:00Z'), '2026-01-31T10:00:00Z');
    assert.equal(at('2026-01-31T10:00:00.001Z'), '2026-02-28T10:00:00Z');
    assert.equal(at('2026-02-28T10:00:00Z'), '2026-02-28T10:00:00Z');
    assert.equal(at('2026-03-01T00:00:00Z'), '2026-03-31T10:00:00Z');
    assert.equal(at('2031-05-01T00:00:00Z'), '2031-05-31T10:00:00Z');
  });

  test('agrees with walking the grid slot by slot, for many starting points', () => {
    for (const [text, zone, anchorIso] of [
      ['P1M', 'Europe/Berlin', '2028-01-31T02:30:00+01:00'],
      ['P1D', 'Europe/Berlin', '2026-03-20T02:30:00+01:00'],
      ['P1DT1H', 'America/New_York', '2026-03-01T01:30:00-05:00'],
      ['PT7M', 'UTC', '2026-01-01T00:00:00.123Z'],
    ] as const) {
      const interval = parseInterval(text);
      const anchor = ms(anchorIso);
      const grid = Array.from({ length: 400 }, (_, k) => slotAt(interval, zone, anchor, k));
      const span = grid[399] - anchor;
      for (let i = 0; i < 300; i++) {
        const from = anchor + Math.floor((span * i) / 300) + (i % 7) - 3;
        const expected = grid.find((slot) => slot >= from);
        assert.equal(gridSlotOnOrAfter(interval, zone, anchor, from), expected, `${text} from ${new Date(from).toISOString()}`);
      }
    }
  });

  test('P1D after 10 years of downtime: the right slot in a few computations, not one per missed day', () => {
    const interval = parseInterval('P1D');
    const zone = 'Europe/Berlin';
    const anchor = ms('2026-03-28T02:30:00+01:00');
    const { slot, count } = counting();
    const found = gridSlotOnOrAfter(interval, zone, anchor, ms('2036-03-30T12:00:00+02:00'), slot);
    assert.equal(iso(found, zone), '2036-03-31T02:30:00+02:00');
    assert.ok(count() <= 4, `${count()} slot computations for ~3650 missed slots`);
  });

  test('PT1S after 10 years of downtime: arithmetic, a few computations, on the grid', () => {
    const interval = parseInterval('PT1S');
    const anchor = ms('2026-01-01T00:00:00.250Z');
    const from = anchor + 10 * YEAR + 12_345_678.9;
    const { slot, count } = counting();
    const found = gridSlotOnOrAfter(interval, 'Europe/Berlin', anchor, from, slot);
    assert.ok(found >= from && found - 1000 < from, `${found} is the first slot >= ${from}`);
    assert.equal((found - anchor) % 1000, 0);
    assert.ok(count() <= 3, `${count()} slot computations for ~315 million missed slots`);
  });

  test('P1M after a century: a few computations', () => {
    const { slot, count } = counting();
    const found = gridSlotOnOrAfter(parseInterval('P1M'), 'UTC', ms('2026-01-31T10:00:00Z'), ms('2126-02-01T00:00:00Z'), slot);
    assert.equal(iso(found, 'UTC'), '2126-02-28T10:00:00Z');
    assert.ok(count() <= 4, `${count()} slot computations`);
  });

  test('a zone that skipped a whole day (Pacific/Apia, 2011-12-30): slots never go back', () => {
    const zone = 'Pacific/Apia';
    const interval = parseInterval('P1D');
    const anchor = ms('2011-12-28T10:00:00-10:00');
    const grid = [0, 1, 2, 3].map((k) => slotAt(interval, zone, anchor, k));
    assert.deepEqual(
      grid.map((t) => iso(t, zone)),
      [
        '2011-12-28T10:00:00-10:00',
        '2011-12-29T10:00:00-10:00',
        '2011-12-31T10:00:00+14:00', // Dec 30 did not exist: moved forward by the gap onto the next slot
        '2011-12-31T10:00:00+14:00',
      ],
    );
    assert.equal(iso(gridSlotOnOrAfter(interval, zone, anchor, grid[1] + 1), zone), '2011-12-31T10:00:00+14:00');
    assert.equal(iso(gridSlotOnOrAfter(interval, zone, anchor, grid[3] + 1), zone), '2012-01-01T10:00:00+14:00');
  });
});
