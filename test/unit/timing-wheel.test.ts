import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TimingWheel, type WheelEntry, type WheelOptions } from '../../src/wheel/timing-wheel.js';
import { SeededRandom } from '../helpers/seeded-random.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
/** An arbitrary, unaligned epoch time: 2025-01-01T00:00:00.000Z + 12 345 ms. */
const T0 = Date.UTC(2025, 0, 1) + 12_345;

/** Deterministic PRNG: the same seed gives the same timers. */
function prng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

/**
 * Drive the wheel the way WheelTimer does: advance to nextExpiry() until empty; record the wheel's
 * time when each key came out (nextExpiry may lie in the past for overdue keys: advance treats it as now).
 */
function drain<K>(wheel: TimingWheel<K>, maxSteps = 1_000_000): { fired: Array<[K, number]>; steps: number } {
  const fired: Array<[K, number]> = [];
  let steps = 0;
  for (let t = wheel.nextExpiry(); t !== null; t = wheel.nextExpiry()) {
    assert.ok(++steps <= maxSteps, 'too many steps');
    const keys = wheel.advance(t);
    for (const key of keys) fired.push([key, wheel.time]);
  }
  return { fired, steps };
}

/** The simplest correct scheduler: an array, sorted on demand by (due, insertion sequence). */
class ReferenceModel {
  now: number;
  private seq = 0;
  entries: Array<{ key: string; due: number; seq: number }> = [];
  constructor(now: number) {
    this.now = now;
  }
  add(key: string, due: number): void {
    this.cancel(key);
    this.entries.push({ key, due: Math.ceil(due), seq: this.seq++ });
  }
  cancel(key: string): boolean {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i === -1) return false;
    this.entries.splice(i, 1);
    return true;
  }
  sorted(): Array<{ key: string; due: number; seq: number }> {
    return [...this.entries].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }
  advance(now: number): string[] {
    if (now > this.now) this.now = now;
    const due = this.sorted().filter((e) => e.due <= this.now);
    const keys = new Set(due.map((e) => e.key));
    this.entries = this.entries.filter((e) => !keys.has(e.key));
    return due.map((e) => e.key);
  }
  peek(n: number): WheelEntry<string>[] {
    return this.sorted()
      .slice(0, n)
      .map((e) => ({ key: e.key, due: e.due }));
  }
  minDue(): number | null {
    let min: number | null = null;
    for (const e of this.entries) if (min === null || e.due < min) min = e.due;
    return min;
  }
}

describe('TimingWheel: construction and stats', () => {
  test('defaults: 1 ms tick, 64 slots, 8 levels covering 2^48 ms', () => {
    const wheel = new TimingWheel<string>(T0);
    const stats = wheel.stats();
    assert.equal(stats.now, T0);
    assert.equal(stats.size, 0);
    assert.equal(stats.nextExpiry, null);
    assert.equal(stats.levels.length, 8);
    assert.deepEqual(
      stats.levels.map((l) => [l.level, l.tickMs, l.spanMs, l.slots]),
      Array.from({ length: 8 }, (_, i) => [i, 64 ** i, 64 ** (i + 1), 64]),
    );
    assert.equal(stats.levels[7].spanMs, 2 ** 48);
    // cursor = the slot the current time points at, per level
    assert.equal(stats.levels[0].cursor, T0 % 64);
    assert.equal(stats.levels[1].cursor, Math.floor(T0 / 64) % 64);
    assert.equal(stats.levels[6].cursor, Math.floor(T0 / 64 ** 6) % 64);
  });

  test('default level count adapts to tick and slot count', () => {
    assert.equal(new TimingWheel(0, { tickMs: 1000 }).stats().levels.length, 7); // 1000 * 64^7 >= 2^48
    assert.equal(new TimingWheel(0, { slotsPerLevel: 256 }).stats().levels.length, 6);
    assert.equal(new TimingWheel(0, { slotsPerLevel: 2 }).stats().levels.length, 48);
    assert.equal(new TimingWheel(0, { levels: 3 }).stats().levels.length, 3);
  });

  test('rejects bad options and bad due times', () => {
    assert.throws(() => new TimingWheel(0, { slotsPerLevel: 48 }), RangeError);
    assert.throws(() => new TimingWheel(0, { slotsPerLevel: 1 }), RangeError);
    assert.throws(() => new TimingWheel(0, { tickMs: 0 }), RangeError);
    assert.throws(() => new TimingWheel(0, { tickMs: 1.5 }), RangeError);
    assert.throws(() => new TimingWheel(0, { levels: 0 }), RangeError);
    assert.throws(() => new TimingWheel(-1), RangeError);
    assert.throws(() => new TimingWheel(Number.NaN), RangeError);
    const wheel = new TimingWheel<string>(T0);
    assert.throws(() => wheel.add('a', Number.NaN), RangeError);
    assert.throws(() => wheel.add('a', Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => wheel.add('a', 2 ** 60), RangeError);
    assert.throws(() => wheel.slotEntries(8, 0), RangeError);
    assert.throws(() => wheel.slotEntries(0, 64), RangeError);
    assert.throws(() => wheel.slotCounts(-1), RangeError);
    assert.equal(wheel.size, 0);
  });

  test('slotEntries, slotCounts and stats show where timers sit', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('soon', T0 + 5); // level 0 (same level-1 slot as T0 or the next: within 64 ticks)
    wheel.add('soon2', T0 + 5);
    wheel.add('hour', T0 + HOUR); // 3.6e6 ms: level 3 (64^3 = 262144 <= span < 64^4)
    wheel.add('past', T0 - 10);
    const stats = wheel.stats();
    assert.equal(stats.size, 4);
    assert.equal(stats.overdue, 1);
    assert.equal(stats.overflow, 0);
    assert.equal(stats.nextExpiry, T0 - 10);
    assert.deepEqual(wheel.overdueEntries(), [{ key: 'past', due: T0 - 10 }]);

    const soonLevel = Math.floor((T0 + 5) / 64) === Math.floor(T0 / 64) ? 0 : 1;
    if (soonLevel === 0) {
      const slot = (T0 + 5) % 64;
      assert.deepEqual(wheel.slotEntries(0, slot), [
        { key: 'soon', due: T0 + 5 },
        { key: 'soon2', due: T0 + 5 },
      ]);
      assert.equal(wheel.slotCounts(0)[slot], 2);
    }
    assert.equal(stats.levels.reduce((n, l) => n + l.timers, 0), 3);
    const hourLevel = stats.levels.findIndex((l) => wheel.slotCounts(l.level).some((c, s) => c > 0 && wheel.slotEntries(l.level, s).some((e) => e.key === 'hour')));
    assert.equal(hourLevel, 3);
    const counts3 = wheel.slotCounts(3);
    assert.equal(counts3.length, 64);
    assert.equal(counts3.reduce((a, b) => a + b, 0), 1);
    assert.equal(counts3.indexOf(1), Math.floor((T0 + HOUR) / 64 ** 3) % 64);
    assert.equal(stats.levels[3].occupiedSlots, 1);
  });
});

describe('TimingWheel: basic behaviour', () => {
  test('expiry order across levels, each key exactly on its due millisecond', () => {
    const wheel = new TimingWheel<string>(T0);
    const offsets: Record<string, number> = {
      ms1: 1,
      ms5: 5,
      ms63: 63,
      ms64: 64,
      ms70: 70,
      sec5: 5 * SECOND,
      min5: 5 * MINUTE,
      hour5: 5 * HOUR,
      day3: 3 * DAY + 17,
      day40: 40 * DAY + 123,
      year1: YEAR + 1,
      year3: 3 * YEAR + 777,
    };
    // insert in a scrambled order
    for (const key of ['year3', 'ms64', 'day3', 'ms1', 'hour5', 'year1', 'ms70', 'sec5', 'ms5', 'day40', 'min5', 'ms63']) {
      wheel.add(key, T0 + offsets[key]);
    }
    assert.equal(wheel.size, 12);
    const { fired, steps } = drain(wheel);
    const expected = Object.entries(offsets)
      .sort((a, b) => a[1] - b[1])
      .map(([key, off]) => [key, T0 + off]);
    assert.deepEqual(fired, expected);
    // each key costs at most one step per level (cascades) plus its firing
    assert.ok(steps <= 12 * 9, `steps=${steps}`);
    assert.equal(wheel.size, 0);
    assert.equal(wheel.nextExpiry(), null);
  });

  test('a key is not returned one millisecond early and is returned on its due millisecond', () => {
    const wheel = new TimingWheel<string>(T0);
    const offsets = [1, 2, 63, 64, 65, 4095, 4096, 4097, 262_143, 262_144, 1e7 + 3, 2 ** 30 + 5, YEAR, 3 * YEAR + 1];
    for (const off of offsets) {
      wheel.add('k' + off, T0 + off);
      assert.deepEqual(wheel.advance(T0 + off - 1), [], `k${off} must not fire at due-1`);
      assert.deepEqual(wheel.advance(T0 + off), ['k' + off], `k${off} must fire at due`);
      // put the clock back to T0 for the next one: use a fresh wheel instead
    }
    // the same with a fresh wheel per key, so every key starts its journey from far away
    for (const off of offsets) {
      const w = new TimingWheel<string>(T0);
      w.add('x', T0 + off);
      assert.deepEqual(w.advance(T0 + off - 1), []);
      assert.equal(w.size, 1);
      assert.equal(w.dueOf('x'), T0 + off);
      assert.deepEqual(w.advance(T0 + off), ['x']);
    }
  });

  test('cancel', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('a', T0 + 10);
    wheel.add('b', T0 + 20);
    wheel.add('c', T0 + HOUR);
    wheel.add('d', T0 + 20);
    assert.equal(wheel.cancel('b'), true);
    assert.equal(wheel.cancel('b'), false);
    assert.equal(wheel.cancel('nope'), false);
    assert.equal(wheel.cancel('c'), true);
    assert.equal(wheel.has('b'), false);
    assert.equal(wheel.has('a'), true);
    assert.equal(wheel.dueOf('c'), undefined);
    assert.equal(wheel.size, 2);
    assert.deepEqual(wheel.advance(T0 + 2 * HOUR), ['a', 'd']);
    assert.equal(wheel.size, 0);
    assert.equal(wheel.nextExpiry(), null);
    // cancel of a fired key
    assert.equal(wheel.cancel('a'), false);
  });

  test('reschedule the same key earlier and later', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('job', T0 + DAY);
    wheel.add('other', T0 + 500);
    wheel.add('job', T0 + 100); // earlier, from level 4 to level 1
    assert.equal(wheel.size, 2);
    assert.equal(wheel.dueOf('job'), T0 + 100);
    const ne = wheel.nextExpiry()!;
    assert.ok(ne <= T0 + 100 && ne > T0, `nextExpiry ${ne - T0}`); // a cascade point or the due time itself
    assert.deepEqual(wheel.advance(T0 + 99), []);
    assert.deepEqual(wheel.advance(T0 + 100), ['job']);

    wheel.add('job', T0 + 300);
    wheel.add('job', T0 + 2 * YEAR); // later
    assert.equal(wheel.size, 2);
    assert.deepEqual(wheel.advance(T0 + YEAR), ['other']);
    assert.equal(wheel.nextExpiry()! <= T0 + 2 * YEAR, true);
    assert.deepEqual(wheel.advance(T0 + 2 * YEAR - 1), []);
    assert.deepEqual(wheel.advance(T0 + 2 * YEAR), ['job']);

    // reschedule moves the key to the back of its new due time's queue
    wheel.add('x', T0 + 3 * YEAR);
    wheel.add('y', T0 + 3 * YEAR);
    wheel.add('x', T0 + 3 * YEAR);
    assert.deepEqual(wheel.advance(T0 + 3 * YEAR), ['y', 'x']);
  });

  test('far-future timers (1 and 3 years) cascade down and fire on their exact millisecond', () => {
    const wheel = new TimingWheel<string>(T0);
    const y1 = T0 + YEAR + 12_345;
    const y3 = T0 + 3 * YEAR + 678;
    wheel.add('y3', y3);
    wheel.add('y1', y1);
    const { fired, steps } = drain(wheel);
    assert.deepEqual(fired, [
      ['y1', y1],
      ['y3', y3],
    ]);
    assert.ok(steps <= 2 * 9, `took ${steps} steps`);

    // and with big irregular advances that overshoot levels
    const w = new TimingWheel<string>(T0);
    w.add('y1', y1);
    w.add('y3', y3);
    const r = prng(7);
    let t = T0;
    for (const [key, due] of [
      ['y1', y1],
      ['y3', y3],
    ] as const) {
      // irregular jumps of up to 40 days, landing right before, then right on, the due time
      for (;;) {
        t = Math.min(t + Math.floor(r() * 40 * DAY), due - 1);
        assert.deepEqual(w.advance(t), []);
        if (t === due - 1) break;
      }
      assert.equal(w.size, key === 'y1' ? 2 : 1);
      t = due;
      assert.deepEqual(w.advance(t), [key]);
    }
  });

  test('thousands of keys in one slot fire together, in insertion order', () => {
    const wheel = new TimingWheel<string>(T0);
    const due = T0 + 3 * DAY;
    const n = 5000;
    for (let i = 0; i < n; i++) wheel.add('same-' + i, due);
    // plus thousands of keys sharing one higher-level slot with different due times
    const base = Math.floor((T0 + 10 * DAY) / 64 ** 3) * 64 ** 3;
    const spread: Array<[string, number]> = [];
    for (let i = 0; i < 3000; i++) spread.push(['spread-' + i, base + ((i * 7919) % 64 ** 3)]);
    for (const [k, d] of spread) wheel.add(k, d);
    assert.equal(wheel.size, n + 3000);
    const stats = wheel.stats();
    const maxSlot = Math.max(...stats.levels.flatMap((l) => wheel.slotCounts(l.level)));
    assert.ok(maxSlot >= 3000, `largest slot holds ${maxSlot}`);

    // cancel some in the middle of the big slot
    for (let i = 1000; i < 1100; i++) assert.equal(wheel.cancel('same-' + i), true);

    assert.deepEqual(wheel.advance(due - 1), []);
    const out = wheel.advance(due);
    assert.equal(out.length, n - 100);
    const expected: string[] = [];
    for (let i = 0; i < n; i++) if (i < 1000 || i >= 1100) expected.push('same-' + i);
    assert.deepEqual(out, expected);

    const { fired } = drain(wheel);
    const expectedSpread = [...spread].sort((a, b) => a[1] - b[1]);
    assert.deepEqual(fired, expectedSpread);
  });

  test('keys due in the past (or now) fire at the next advance, in due order, before later keys', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('future', T0 + 1);
    wheel.add('p2', T0 - 2);
    wheel.add('now', T0);
    wheel.add('p5', T0 - 5);
    wheel.add('p2b', T0 - 2);
    wheel.add('ancient', 0);
    wheel.add('negative', -1e9);
    assert.equal(wheel.nextExpiry()! <= -1e9, true);
    // advance to an earlier time counts as the current time
    assert.deepEqual(wheel.advance(T0 - 1000), ['negative', 'ancient', 'p5', 'p2', 'p2b', 'now']);
    assert.equal(wheel.stats().now, T0);
    assert.equal(wheel.nextExpiry(), T0 + 1);
    assert.deepEqual(wheel.advance(T0 + 1), ['future']);
  });

  test('overdue keys come out before keys that became due since', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('late', T0 + 10);
    wheel.advance(T0 + 5);
    wheel.add('overdue', T0 + 1); // <= now
    assert.deepEqual(wheel.advance(T0 + 20), ['overdue', 'late']);
  });

  test('fractional due times round up, so nothing fires early', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('a', T0 + 10.2);
    wheel.add('b', T0 + 10.01);
    wheel.add('c', T0 + 9.999);
    assert.equal(wheel.dueOf('a'), T0 + 11);
    assert.equal(wheel.dueOf('c'), T0 + 10);
    assert.deepEqual(wheel.advance(T0 + 10.9), ['c']);
    assert.deepEqual(wheel.advance(T0 + 11), ['a', 'b']);
  });

  test('advance is monotonic: going back does nothing', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('a', T0 + 100);
    assert.deepEqual(wheel.advance(T0 + 50), []);
    assert.deepEqual(wheel.advance(T0 - YEAR), []);
    assert.deepEqual(wheel.advance(Number.NaN), []);
    assert.equal(wheel.time, T0 + 50);
    assert.equal(wheel.size, 1);
    assert.deepEqual(wheel.advance(T0 + 100), ['a']);
  });

  test('long idle gap: jumps over empty slots instead of walking them', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('c', T0 + 9 * YEAR + 5);
    wheel.add('a', T0 + 3 * DAY);
    wheel.add('b', T0 + 2 * YEAR);
    const started = process.hrtime.bigint();
    const out = wheel.advance(T0 + 10 * YEAR);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual(out, ['a', 'b', 'c']);
    // Walking 3.15e11 one-millisecond slots would take minutes; jumping takes microseconds.
    assert.ok(elapsedMs < 2000, `advance over 10 years took ${elapsedMs} ms`);
    assert.equal(wheel.size, 0);

    // a year at once with a few timers spread out
    const w = new TimingWheel<string>(T0);
    const dues = [HOUR, 17 * DAY, 100 * DAY + 1, 200 * DAY, 364 * DAY].map((d) => T0 + d);
    dues.forEach((d, i) => w.add('t' + i, d));
    w.add('later', T0 + YEAR + 1);
    const t1 = process.hrtime.bigint();
    assert.deepEqual(w.advance(T0 + YEAR), ['t0', 't1', 't2', 't3', 't4']);
    assert.ok(Number(process.hrtime.bigint() - t1) / 1e6 < 2000);
    assert.deepEqual(w.advance(T0 + YEAR + 1), ['later']);

    // an empty wheel advanced by centuries
    const empty = new TimingWheel<string>(T0);
    assert.deepEqual(empty.advance(T0 + 300 * YEAR), []);
    empty.add('x', T0 + 300 * YEAR + 1);
    assert.deepEqual(empty.advance(T0 + 300 * YEAR + 1), ['x']);
  });

  test('nextExpiry is never later than the earliest due time and leads to it', () => {
    const wheel = new TimingWheel<string>(T0);
    assert.equal(wheel.nextExpiry(), null);
    wheel.add('a', T0 + 3 * DAY + 5);
    const ne = wheel.nextExpiry()!;
    assert.ok(ne <= T0 + 3 * DAY + 5);
    assert.ok(ne > T0);
    wheel.add('b', T0 + 7);
    assert.equal(wheel.nextExpiry(), T0 + 7);
    wheel.cancel('b');
    assert.ok(wheel.nextExpiry()! <= T0 + 3 * DAY + 5);
  });

  test('peek returns the next n entries in order without changing anything', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.add('d', T0 + YEAR);
    wheel.add('b', T0 + 5 * MINUTE);
    wheel.add('a2', T0 + 10);
    wheel.add('c', T0 + DAY);
    wheel.add('a1', T0 + 10);
    wheel.add('z', T0 - 3);
    const before = wheel.stats();
    assert.deepEqual(wheel.peek(0), []);
    assert.deepEqual(wheel.peek(3), [
      { key: 'z', due: T0 - 3 },
      { key: 'a2', due: T0 + 10 },
      { key: 'a1', due: T0 + 10 },
    ]);
    assert.deepEqual(
      wheel.peek(100).map((e) => e.key),
      ['z', 'a2', 'a1', 'b', 'c', 'd'],
    );
    assert.deepEqual(wheel.stats(), before);
    assert.deepEqual(wheel.advance(T0 + DAY), ['z', 'a2', 'a1', 'b', 'c']);
  });

  test('clear drops everything and the wheel stays usable', () => {
    const wheel = new TimingWheel<string>(T0);
    for (let i = 0; i < 1000; i++) wheel.add('k' + i, T0 + i * 1000);
    wheel.add('old', T0 - 1);
    wheel.clear();
    assert.equal(wheel.size, 0);
    assert.equal(wheel.has('k5'), false);
    assert.equal(wheel.nextExpiry(), null);
    assert.deepEqual(wheel.peek(5), []);
    assert.equal(wheel.stats().levels.reduce((n, l) => n + l.timers + l.occupiedSlots, 0), 0);
    assert.deepEqual(wheel.advance(T0 + DAY), []);
    wheel.add('k5', T0 + DAY + 1);
    assert.deepEqual(wheel.advance(T0 + DAY + 1), ['k5']);
  });

  test('tick longer than 1 ms: still exact per key, and nextExpiry points at the due time', () => {
    const wheel = new TimingWheel<string>(1000, { tickMs: 10 });
    wheel.add('a', 1005);
    wheel.add('b', 1003);
    wheel.add('c', 1009);
    wheel.add('far', 1000 + DAY + 7);
    assert.equal(wheel.nextExpiry(), 1003);
    assert.deepEqual(wheel.advance(1002), []);
    assert.deepEqual(wheel.advance(1004), ['b']);
    assert.equal(wheel.nextExpiry(), 1005); // no spinning on the slot start
    wheel.cancel('a');
    assert.equal(wheel.nextExpiry(), 1009);
    assert.deepEqual(wheel.advance(1009), ['c']);
    const { fired } = drain(wheel);
    assert.deepEqual(fired, [['far', 1000 + DAY + 7]]);
  });

  test('timers beyond the top level (small wheel) still fire exactly', () => {
    // 4 slots x 3 levels = 64 ticks of reach; anything further goes through the overflow list
    const wheel = new TimingWheel<string>(T0, { slotsPerLevel: 4, levels: 3 });
    wheel.add('far', T0 + YEAR + 3);
    wheel.add('near', T0 + 10);
    wheel.add('mid', T0 + 1000);
    // 'far' and 'mid' are more than 64 ticks away: beyond the top level's current span
    const overflow = wheel.overflowEntries().map((e) => e.key);
    assert.ok(overflow.includes('far') && overflow.includes('mid'), overflow.join());
    assert.equal(wheel.stats().overflow, overflow.length);
    const { fired, steps } = drain(wheel);
    assert.deepEqual(fired, [
      ['near', T0 + 10],
      ['mid', T0 + 1000],
      ['far', T0 + YEAR + 3],
    ]);
    assert.ok(steps < 50, `steps=${steps}`);
  });

  test('timers due beyond 2^48 ms (past the default top level) work', () => {
    const start = 2 ** 48 - 100;
    const wheel = new TimingWheel<string>(start);
    wheel.add('cross', 2 ** 48 + 5); // crosses the top-level span boundary
    wheel.add('way', 2 ** 50 + 1);
    assert.deepEqual(drain(wheel).fired, [
      ['cross', 2 ** 48 + 5],
      ['way', 2 ** 50 + 1],
    ]);
  });

  test('keys of any type, with Map-like equality', () => {
    const wheel = new TimingWheel<unknown>(T0);
    const obj = { id: 1 };
    const sym = Symbol('s');
    wheel.add(1, T0 + 1);
    wheel.add('1', T0 + 2);
    wheel.add(obj, T0 + 3);
    wheel.add({ id: 1 }, T0 + 4); // a different object
    wheel.add(sym, T0 + 5);
    wheel.add(Number.NaN, T0 + 6);
    wheel.add(Number.NaN, T0 + 7); // NaN is one key
    wheel.add(-0, T0 + 8);
    wheel.add(0, T0 + 9); // 0 and -0 are one key
    wheel.add(2.5, T0 + 10);
    wheel.add(2 ** 40, T0 + 11);
    wheel.add(10n, T0 + 12);
    wheel.add('', T0 + 13);
    wheel.add(null, T0 + 14);
    assert.equal(wheel.size, 12);
    assert.equal(wheel.dueOf(Number.NaN), T0 + 7);
    assert.equal(wheel.dueOf(-0), T0 + 9);
    assert.equal(wheel.has(obj), true);
    assert.equal(wheel.has({ id: 1 }), false);
    assert.equal(wheel.has(2 ** 40), true);
    assert.equal(wheel.has(2 ** 40 + 1), false);
    assert.equal(wheel.cancel(obj), true);
    assert.equal(wheel.cancel(obj), false);
    const out = wheel.advance(T0 + 100);
    assert.equal(out.length, 11);
    assert.deepEqual(out.slice(0, 2), [1, '1']);
    assert.ok(Number.isNaN(out[4] as number));
    assert.deepEqual(out.slice(5), [0, 2.5, 2 ** 40, 10n, '', null]);
  });

  test('churn: many keys added, cancelled and re-added keep the index consistent', () => {
    const wheel = new TimingWheel<string>(T0);
    const live = new Map<string, number>();
    const r = prng(99);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 2000; i++) {
        const key = 'job-' + Math.floor(r() * 5000);
        if (r() < 0.6) {
          const due = T0 + 1 + Math.floor(r() * YEAR);
          wheel.add(key, due);
          live.set(key, due);
        } else {
          assert.equal(wheel.cancel(key), live.delete(key));
        }
      }
      assert.equal(wheel.size, live.size);
    }
    for (let i = 0; i < 5000; i++) {
      const key = 'job-' + i;
      assert.equal(wheel.dueOf(key), live.get(key));
    }
    const fired = drain(wheel).fired;
    assert.equal(fired.length, live.size);
    for (const [key, at] of fired) assert.equal(at, live.get(key));
  });
});

describe('TimingWheel: randomized comparison with a reference model', () => {
  const configs: Array<{ name: string; start: number; options: WheelOptions; seed: number }> = [
    { name: 'defaults, epoch start', start: T0, options: {}, seed: 1 },
    { name: 'defaults, start 0', start: 0, options: {}, seed: 2 },
    { name: '4 slots x 3 levels (overflow)', start: T0, options: { slotsPerLevel: 4, levels: 3 }, seed: 3 },
    { name: '2 slots x 6 levels', start: 12_345, options: { slotsPerLevel: 2, levels: 6 }, seed: 4 },
    { name: 'tick 7 ms, 8 slots', start: T0, options: { tickMs: 7, slotsPerLevel: 8 }, seed: 5 },
    { name: 'tick 1000 ms, 256 slots', start: T0, options: { tickMs: 1000, slotsPerLevel: 256 }, seed: 6 },
  ];

  for (const { name, start, options, seed } of configs) {
    test(name, () => {
      const r = prng(seed);
      const wheel = new TimingWheel<string>(start, options);
      const model = new ReferenceModel(start);
      const pick = (n: number) => Math.floor(r() * n);
      const recentDues: number[] = [];
      const randomDue = (): number => {
        const now = model.now;
        const x = r();
        let due: number;
        if (x < 0.15 && recentDues.length > 0) due = recentDues[pick(recentDues.length)]; // ties
        else if (x < 0.3) due = now + pick(100);
        else if (x < 0.5) due = now + pick(100_000);
        else if (x < 0.65) due = now + pick(30 * DAY);
        else if (x < 0.75) due = now + pick(3 * YEAR);
        else if (x < 0.85) due = now - pick(5000); // past
        else if (x < 0.9) due = now;
        else due = now + r() * 1000; // fractional
        recentDues.push(due);
        if (recentDues.length > 20) recentDues.shift();
        return due;
      };
      const keyName = () => 'k' + pick(300);

      let fired = 0;
      for (let op = 0; op < 4000; op++) {
        const x = r();
        if (x < 0.45) {
          const key = keyName();
          const due = randomDue();
          wheel.add(key, due);
          model.add(key, due);
        } else if (x < 0.6) {
          const key = keyName();
          assert.equal(wheel.cancel(key), model.cancel(key), `cancel ${key} at op ${op}`);
        } else if (x < 0.95) {
          const now = model.now;
          const y = r();
          let to: number;
          const ne = wheel.nextExpiry();
          if (y < 0.25 && ne !== null) to = ne;
          else if (y < 0.35 && ne !== null) to = ne - 1;
          else if (y < 0.6) to = now + pick(200);
          else if (y < 0.75) to = now + pick(5 * DAY);
          else if (y < 0.85) to = now + pick(2 * YEAR);
          else if (y < 0.9) to = now - pick(1000); // backwards: treated as now
          else to = now + r() * 10; // fractional
          const got = wheel.advance(to);
          const want = model.advance(to);
          assert.deepEqual(got, want, `advance to ${to - start} at op ${op}`);
          fired += got.length;
        } else {
          const n = 1 + pick(8);
          assert.deepEqual(wheel.peek(n), model.peek(n), `peek(${n}) at op ${op}`);
        }

        // invariants after every operation
        assert.equal(wheel.size, model.entries.length);
        assert.equal(wheel.time, model.now);
        const ne = wheel.nextExpiry();
        const min = model.minDue();
        if (min === null) {
          assert.equal(ne, null);
        } else {
          assert.ok(ne !== null && ne <= min, `nextExpiry ${ne} later than earliest due ${min} at op ${op}`);
          // progress: unless something is already due, the next expiry lies in the future
          if (min > model.now) assert.ok(ne > model.now, `nextExpiry ${ne} not after now ${model.now}`);
        }
        if (op % 50 === 0) {
          for (const e of model.entries) assert.equal(wheel.dueOf(e.key), e.due);
          const stats = wheel.stats();
          const inLevels = stats.levels.reduce((n, l) => n + l.timers, 0);
          assert.equal(inLevels + stats.overdue + stats.overflow, stats.size);
        }
      }
      assert.ok(fired > 500, `only ${fired} keys fired: the test is not exercising much`);

      // finally drain both completely, following nextExpiry
      const rest = drain(wheel).fired;
      const restModel = model.sorted();
      assert.deepEqual(
        rest.map(([k]) => k),
        restModel.map((e) => e.key),
      );
      for (let i = 0; i < rest.length; i++) {
        const due = restModel[i].due;
        // follows nextExpiry: each key fires at max(due, the wheel's time)
        assert.equal(rest[i][1], Math.max(due, model.now), `key ${rest[i][0]}`);
      }
    });
  }
});

describe('TimingWheel: handle API (insert / move / remove)', () => {
  test('handle timers fire like keyed ones; a stale handle (fired, removed, reused) changes nothing', () => {
    const wheel = new TimingWheel<string>(T0);
    const a = wheel.insert('a', T0 + 10);
    const b = wheel.insert('b', T0 + 5);
    wheel.add('k', T0 + 7);
    assert.equal(wheel.size, 3);
    assert.equal(wheel.has('a'), false, 'handle timers are not in the key index');
    assert.equal(wheel.cancel('a'), false);
    assert.equal(wheel.remove(a, 'b'), false, 'a handle only answers to its own key');
    assert.equal(wheel.move(b, 'b', T0 + 20), true);
    assert.deepEqual(wheel.advance(T0 + 10), ['k', 'a']);
    assert.equal(wheel.remove(a, 'a'), false, 'fired: the handle is stale');
    const c = wheel.insert('c', T0 + 30); // reuses a freed record
    assert.ok(c === a || c !== b);
    assert.equal(wheel.remove(a === c ? a : c, 'a'), false, 'a record reused for another key is not touched');
    assert.equal(wheel.move(b, 'b', T0 + 25), true);
    assert.equal(wheel.remove(b, 'b'), true);
    assert.equal(wheel.remove(b, 'b'), false);
    assert.equal(wheel.remove(-1, 'b') || wheel.remove(1e9, 'b') || wheel.remove(0.5, 'b'), false);
    assert.throws(() => wheel.insert('x', NaN), RangeError);
    assert.deepEqual(wheel.advance(T0 + YEAR), ['c']);
    assert.equal(wheel.size, 0);
    assert.equal(wheel.nextExpiry(), null);
  });

  test('randomized: keyed and handle timers together match the reference model', () => {
    const r = prng(7);
    const pick = (n: number) => Math.floor(r() * n);
    const wheel = new TimingWheel<string>(T0, { slotsPerLevel: 8 });
    const model = new ReferenceModel(T0);
    const handles = new Map<string, number>(); // what a caller keeps, stale handles included
    let fired = 0;
    let staleRemoves = 0;
    for (let op = 0; op < 6000; op++) {
      const x = r();
      const byHandle = r() < 0.5;
      const key = (byHandle ? 'h' : 'k') + pick(200);
      const now = model.now;
      const due = r() < 0.1 ? now - pick(100) : now + (r() < 0.5 ? pick(2000) : pick(2 * YEAR)) + (r() < 0.2 ? 0.5 : 0);
      if (x < 0.45) {
        if (byHandle) {
          const handle = handles.get(key);
          if (handle === undefined || !wheel.move(handle, key, due)) handles.set(key, wheel.insert(key, due));
        } else {
          wheel.add(key, due);
        }
        model.add(key, due);
      } else if (x < 0.6) {
        const want = model.cancel(key);
        if (byHandle) {
          const handle = handles.get(key);
          const got = handle !== undefined && wheel.remove(handle, key);
          if (handle !== undefined && !want) staleRemoves++;
          handles.delete(key);
          assert.equal(got, want, `remove ${key} at op ${op}`);
        } else {
          assert.equal(wheel.cancel(key), want, `cancel ${key} at op ${op}`);
        }
      } else {
        const to = r() < 0.3 && wheel.nextExpiry() !== null ? (wheel.nextExpiry() as number) : now + pick(r() < 0.5 ? 3000 : YEAR);
        const got = wheel.advance(to);
        assert.deepEqual(got, model.advance(to), `advance at op ${op}`);
        fired += got.length;
      }
      assert.equal(wheel.size, model.entries.length);
      if (op % 100 === 0) assert.deepEqual(wheel.peek(5), model.peek(5), `peek at op ${op}`);
    }
    assert.ok(fired > 500 && staleRemoves > 50, `fired ${fired}, stale removes ${staleRemoves}: too little exercised`);
    assert.deepEqual(drain(wheel).fired.map(([k]) => k), model.sorted().map((e) => e.key));
  });
});
