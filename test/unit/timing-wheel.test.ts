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

/** The wheel's output of one advance(), in parallel arrays. */
interface Fired<K> {
  keys: K[];
  dues: number[];
}

/**
 * advance() into fresh arrays, checking what every advance() promises: the arrays are parallel
 * and as long as the returned count, in due order, and nothing comes out before its due time.
 */
function fire<K>(wheel: TimingWheel<K>, to: number): Fired<K> {
  const keys: K[] = [];
  const dues: number[] = [];
  const n = wheel.advance(to, keys, dues);
  assert.equal(keys.length, n);
  assert.equal(dues.length, n);
  for (let i = 0; i < n; i++) {
    assert.ok(dues[i] <= wheel.time, `${String(keys[i])} handed out before its due time ${dues[i]}`);
    if (i > 0) assert.ok(dues[i - 1] <= dues[i], `not in due order at ${i}`);
  }
  return { keys, dues };
}

/** The keys fire() hands out. */
function fireKeys<K>(wheel: TimingWheel<K>, to: number): K[] {
  return fire(wheel, to).keys;
}

/** Everything the wheel holds, key -> due (a full peek). */
function contents<K>(wheel: TimingWheel<K>): Map<K, number> {
  return new Map(wheel.peek(wheel.size).map((e) => [e.key, e.due]));
}

/**
 * What a caller of the handle API keeps, as JobService does: each key's last handle, kept after
 * its timer fired (then stale). set() moves the key's timer, or inserts a new one when the handle
 * is stale; remove() forgets the key.
 */
class Handles<K> {
  readonly of = new Map<K, number>();
  constructor(private readonly wheel: TimingWheel<K>) {}
  set(key: K, due: number): void {
    const handle = this.of.get(key);
    if (handle === undefined || !this.wheel.move(handle, key, due)) this.of.set(key, this.wheel.insert(key, due));
  }
  remove(key: K): boolean {
    const handle = this.of.get(key);
    this.of.delete(key);
    return handle !== undefined && this.wheel.remove(handle, key);
  }
}

/**
 * Drive the wheel the way WheelTimer does: advance to nextExpiry() until empty; record the wheel's
 * time when each key came out (nextExpiry may lie in the past for overdue keys: advance treats it
 * as now), and the due time it was handed out with.
 */
function drain<K>(wheel: TimingWheel<K>, maxSteps = 1_000_000): { fired: Array<[K, number]>; dues: Map<K, number>; steps: number } {
  const fired: Array<[K, number]> = [];
  const dues = new Map<K, number>();
  let steps = 0;
  for (let t = wheel.nextExpiry(); t !== null; t = wheel.nextExpiry()) {
    assert.ok(++steps <= maxSteps, 'too many steps');
    const out = fire(wheel, t);
    out.keys.forEach((key, i) => {
      fired.push([key, wheel.time]);
      assert.ok(!dues.has(key), `${String(key)} handed out twice`);
      dues.set(key, out.dues[i]);
    });
  }
  return { fired, dues, steps };
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
  advance(now: number): Fired<string> {
    if (now > this.now) this.now = now;
    const due = this.sorted().filter((e) => e.due <= this.now);
    const keys = new Set(due.map((e) => e.key));
    this.entries = this.entries.filter((e) => !keys.has(e.key));
    return { keys: due.map((e) => e.key), dues: due.map((e) => e.due) };
  }
  peek(n: number): WheelEntry<string>[] {
    return this.sorted()
      .slice(0, n)
      .map((e) => ({ key: e.key, due: e.due }));
  }
  contents(): Map<string, number> {
    return new Map(this.entries.map((e) => [e.key, e.due]));
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
    assert.throws(() => wheel.insert('a', Number.NaN), RangeError);
    assert.throws(() => wheel.insert('a', Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => wheel.insert('a', 2 ** 60), RangeError);
    assert.throws(() => wheel.slotEntries(8, 0), RangeError);
    assert.throws(() => wheel.slotEntries(0, 64), RangeError);
    assert.throws(() => wheel.slotCounts(-1), RangeError);
    assert.equal(wheel.size, 0);
    // a bad due time leaves a moved timer where it was
    const b = wheel.insert('b', T0 + 5);
    assert.throws(() => wheel.move(b, 'b', Number.NaN), RangeError);
    assert.deepEqual(wheel.peek(5), [{ key: 'b', due: T0 + 5 }]);
  });

  test('slotEntries, slotCounts and stats show where timers sit', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('soon', T0 + 5); // level 0 (same level-1 slot as T0 or the next: within 64 ticks)
    wheel.insert('soon2', T0 + 5);
    wheel.insert('hour', T0 + HOUR); // 3.6e6 ms: level 3 (64^3 = 262144 <= span < 64^4)
    wheel.insert('past', T0 - 10);
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
    assert.equal(
      stats.levels.reduce((n, l) => n + l.timers, 0),
      3,
    );
    const hourLevel = stats.levels.findIndex((l) =>
      wheel.slotCounts(l.level).some((c, s) => c > 0 && wheel.slotEntries(l.level, s).some((e) => e.key === 'hour')),
    );
    assert.equal(hourLevel, 3);
    const counts3 = wheel.slotCounts(3);
    assert.equal(counts3.length, 64);
    assert.equal(
      counts3.reduce((a, b) => a + b, 0),
      1,
    );
    assert.equal(counts3.indexOf(1), Math.floor((T0 + HOUR) / 64 ** 3) % 64);
    assert.equal(stats.levels[3].occupiedSlots, 1);
  });
});

describe('TimingWheel: basic behaviour', () => {
  test('expiry order across levels, each key exactly on its due millisecond, handed out with it', () => {
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
      wheel.insert(key, T0 + offsets[key]);
    }
    assert.equal(wheel.size, 12);
    const { fired, dues, steps } = drain(wheel);
    const expected = Object.entries(offsets)
      .sort((a, b) => a[1] - b[1])
      .map(([key, off]): [string, number] => [key, T0 + off]);
    assert.deepEqual(fired, expected);
    assert.deepEqual(dues, new Map(expected));
    // each key costs at most one step per level (cascades) plus its firing
    assert.ok(steps <= 12 * 9, `steps=${steps}`);
    assert.equal(wheel.size, 0);
    assert.equal(wheel.nextExpiry(), null);
  });

  test('a key is not returned one millisecond early and is returned on its due millisecond', () => {
    const wheel = new TimingWheel<string>(T0);
    const offsets = [1, 2, 63, 64, 65, 4095, 4096, 4097, 262_143, 262_144, 1e7 + 3, 2 ** 30 + 5, YEAR, 3 * YEAR + 1];
    for (const off of offsets) {
      wheel.insert('k' + off, T0 + off);
      assert.deepEqual(fire(wheel, T0 + off - 1), { keys: [], dues: [] }, `k${off} must not fire at due-1`);
      assert.deepEqual(fire(wheel, T0 + off), { keys: ['k' + off], dues: [T0 + off] }, `k${off} must fire at due`);
    }
    // the same with a fresh wheel per key, so every key starts its journey from far away
    for (const off of offsets) {
      const w = new TimingWheel<string>(T0);
      w.insert('x', T0 + off);
      assert.deepEqual(fireKeys(w, T0 + off - 1), []);
      assert.deepEqual(w.peek(2), [{ key: 'x', due: T0 + off }]);
      assert.deepEqual(fire(w, T0 + off), { keys: ['x'], dues: [T0 + off] });
    }
  });

  test('remove by handle', () => {
    const wheel = new TimingWheel<string>(T0);
    const handles = new Handles(wheel);
    handles.set('a', T0 + 10);
    handles.set('b', T0 + 20);
    handles.set('c', T0 + HOUR);
    handles.set('d', T0 + 20);
    const b = handles.of.get('b')!;
    assert.equal(handles.remove('b'), true);
    assert.equal(wheel.remove(b, 'b'), false, 'removed twice');
    assert.equal(handles.remove('nope'), false);
    assert.equal(handles.remove('c'), true);
    assert.deepEqual(
      contents(wheel),
      new Map([
        ['a', T0 + 10],
        ['d', T0 + 20],
      ]),
    );
    assert.equal(wheel.size, 2);
    const a = handles.of.get('a')!;
    assert.deepEqual(fire(wheel, T0 + 2 * HOUR), { keys: ['a', 'd'], dues: [T0 + 10, T0 + 20] });
    assert.equal(wheel.size, 0);
    assert.equal(wheel.nextExpiry(), null);
    // removing a fired timer
    assert.equal(wheel.remove(a, 'a'), false);
  });

  test('reschedule the same key earlier and later', () => {
    const wheel = new TimingWheel<string>(T0);
    const handles = new Handles(wheel);
    handles.set('job', T0 + DAY);
    handles.set('other', T0 + 500);
    const job = handles.of.get('job');
    handles.set('job', T0 + 100); // earlier, from level 4 to level 1
    assert.equal(handles.of.get('job'), job, 'moved, not a second timer');
    assert.equal(wheel.size, 2);
    assert.equal(contents(wheel).get('job'), T0 + 100);
    const ne = wheel.nextExpiry()!;
    assert.ok(ne <= T0 + 100 && ne > T0, `nextExpiry ${ne - T0}`); // a cascade point or the due time itself
    assert.deepEqual(fireKeys(wheel, T0 + 99), []);
    assert.deepEqual(fire(wheel, T0 + 100), { keys: ['job'], dues: [T0 + 100] });

    handles.set('job', T0 + 300); // its handle is stale: a new timer
    handles.set('job', T0 + 2 * YEAR); // later
    assert.equal(wheel.size, 2);
    assert.deepEqual(fireKeys(wheel, T0 + YEAR), ['other']);
    assert.equal(wheel.nextExpiry()! <= T0 + 2 * YEAR, true);
    assert.deepEqual(fireKeys(wheel, T0 + 2 * YEAR - 1), []);
    assert.deepEqual(fire(wheel, T0 + 2 * YEAR), { keys: ['job'], dues: [T0 + 2 * YEAR] });

    // reschedule moves the key to the back of its new due time's queue
    handles.set('x', T0 + 3 * YEAR);
    handles.set('y', T0 + 3 * YEAR);
    handles.set('x', T0 + 3 * YEAR);
    assert.deepEqual(fireKeys(wheel, T0 + 3 * YEAR), ['y', 'x']);
  });

  test('far-future timers (1 and 3 years) cascade down and fire on their exact millisecond', () => {
    const wheel = new TimingWheel<string>(T0);
    const y1 = T0 + YEAR + 12_345;
    const y3 = T0 + 3 * YEAR + 678;
    wheel.insert('y3', y3);
    wheel.insert('y1', y1);
    const { fired, steps } = drain(wheel);
    assert.deepEqual(fired, [
      ['y1', y1],
      ['y3', y3],
    ]);
    assert.ok(steps <= 2 * 9, `took ${steps} steps`);

    // and with big irregular advances that overshoot levels
    const w = new TimingWheel<string>(T0);
    w.insert('y1', y1);
    w.insert('y3', y3);
    const r = prng(7);
    let t = T0;
    for (const [key, due] of [
      ['y1', y1],
      ['y3', y3],
    ] as const) {
      // irregular jumps of up to 40 days, landing right before, then right on, the due time
      for (;;) {
        t = Math.min(t + Math.floor(r() * 40 * DAY), due - 1);
        assert.deepEqual(fireKeys(w, t), []);
        if (t === due - 1) break;
      }
      assert.equal(w.size, key === 'y1' ? 2 : 1);
      t = due;
      assert.deepEqual(fire(w, t), { keys: [key], dues: [due] });
    }
  });

  test('thousands of keys in one slot fire together, in insertion order', () => {
    const wheel = new TimingWheel<string>(T0);
    const handles = new Handles(wheel);
    const due = T0 + 3 * DAY;
    const n = 5000;
    for (let i = 0; i < n; i++) handles.set('same-' + i, due);
    // plus thousands of keys sharing one higher-level slot with different due times
    const base = Math.floor((T0 + 10 * DAY) / 64 ** 3) * 64 ** 3;
    const spread: Array<[string, number]> = [];
    for (let i = 0; i < 3000; i++) spread.push(['spread-' + i, base + ((i * 7919) % 64 ** 3)]);
    for (const [k, d] of spread) handles.set(k, d);
    assert.equal(wheel.size, n + 3000);
    const stats = wheel.stats();
    const maxSlot = Math.max(...stats.levels.flatMap((l) => wheel.slotCounts(l.level)));
    assert.ok(maxSlot >= 3000, `largest slot holds ${maxSlot}`);

    // remove some in the middle of the big slot
    for (let i = 1000; i < 1100; i++) assert.equal(handles.remove('same-' + i), true);

    assert.deepEqual(fireKeys(wheel, due - 1), []);
    const out = fire(wheel, due);
    assert.equal(out.keys.length, n - 100);
    const expected: string[] = [];
    for (let i = 0; i < n; i++) if (i < 1000 || i >= 1100) expected.push('same-' + i);
    assert.deepEqual(out.keys, expected);
    assert.ok(out.dues.every((d) => d === due));

    const { fired, dues } = drain(wheel);
    const expectedSpread = [...spread].sort((a, b) => a[1] - b[1]);
    assert.deepEqual(fired, expectedSpread);
    assert.deepEqual(dues, new Map(spread));
  });

  test('keys due in the past (or now) fire at the next advance, in due order, before later keys', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('future', T0 + 1);
    wheel.insert('p2', T0 - 2);
    wheel.insert('now', T0);
    wheel.insert('p5', T0 - 5);
    wheel.insert('p2b', T0 - 2);
    wheel.insert('ancient', 0);
    wheel.insert('negative', -1e9);
    assert.equal(wheel.nextExpiry()! <= -1e9, true);
    // advance to an earlier time counts as the current time
    assert.deepEqual(fire(wheel, T0 - 1000), {
      keys: ['negative', 'ancient', 'p5', 'p2', 'p2b', 'now'],
      dues: [-1e9, 0, T0 - 5, T0 - 2, T0 - 2, T0],
    });
    assert.equal(wheel.stats().now, T0);
    assert.equal(wheel.nextExpiry(), T0 + 1);
    assert.deepEqual(fireKeys(wheel, T0 + 1), ['future']);
  });

  test('overdue keys come out before keys that became due since', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('late', T0 + 10);
    fire(wheel, T0 + 5);
    wheel.insert('overdue', T0 + 1); // <= now
    assert.deepEqual(fire(wheel, T0 + 20), { keys: ['overdue', 'late'], dues: [T0 + 1, T0 + 10] });
  });

  test('fractional due times round up, so nothing fires early', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('a', T0 + 10.2);
    wheel.insert('b', T0 + 10.01);
    wheel.insert('c', T0 + 9.999);
    assert.equal(contents(wheel).get('a'), T0 + 11);
    assert.equal(contents(wheel).get('c'), T0 + 10);
    assert.deepEqual(fire(wheel, T0 + 10.9), { keys: ['c'], dues: [T0 + 10] });
    assert.deepEqual(fire(wheel, T0 + 11), { keys: ['a', 'b'], dues: [T0 + 11, T0 + 11] });
  });

  test('advance is monotonic: going back does nothing', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('a', T0 + 100);
    assert.deepEqual(fireKeys(wheel, T0 + 50), []);
    assert.deepEqual(fireKeys(wheel, T0 - YEAR), []);
    assert.deepEqual(fireKeys(wheel, Number.NaN), []);
    assert.equal(wheel.time, T0 + 50);
    assert.equal(wheel.size, 1);
    assert.deepEqual(fireKeys(wheel, T0 + 100), ['a']);
  });

  test('advance empties the arrays it is given, so the caller can reuse them', () => {
    const wheel = new TimingWheel<string>(T0);
    const keys: string[] = ['stale'];
    const dues: number[] = [1, 2];
    assert.equal(wheel.advance(T0 + 1, keys, dues), 0);
    assert.deepEqual([keys, dues], [[], []]);
    wheel.insert('a', T0 + 2);
    wheel.insert('b', T0 + 3);
    assert.equal(wheel.advance(T0 + 3, keys, dues), 2);
    assert.deepEqual(
      [keys, dues],
      [
        ['a', 'b'],
        [T0 + 2, T0 + 3],
      ],
    );
    wheel.insert('c', T0 + 4);
    assert.equal(wheel.advance(T0 + 4, keys, dues), 1);
    assert.deepEqual([keys, dues], [['c'], [T0 + 4]]);
  });

  test('long idle gap: jumps over empty slots instead of walking them', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('c', T0 + 9 * YEAR + 5);
    wheel.insert('a', T0 + 3 * DAY);
    wheel.insert('b', T0 + 2 * YEAR);
    const started = process.hrtime.bigint();
    const out = fire(wheel, T0 + 10 * YEAR);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    assert.deepEqual(out, { keys: ['a', 'b', 'c'], dues: [T0 + 3 * DAY, T0 + 2 * YEAR, T0 + 9 * YEAR + 5] });
    // Walking 3.15e11 one-millisecond slots would take minutes; jumping takes microseconds.
    assert.ok(elapsedMs < 2000, `advance over 10 years took ${elapsedMs} ms`);
    assert.equal(wheel.size, 0);

    // a year at once with a few timers spread out
    const w = new TimingWheel<string>(T0);
    const dues = [HOUR, 17 * DAY, 100 * DAY + 1, 200 * DAY, 364 * DAY].map((d) => T0 + d);
    dues.forEach((d, i) => w.insert('t' + i, d));
    w.insert('later', T0 + YEAR + 1);
    const t1 = process.hrtime.bigint();
    assert.deepEqual(fire(w, T0 + YEAR), { keys: ['t0', 't1', 't2', 't3', 't4'], dues });
    assert.ok(Number(process.hrtime.bigint() - t1) / 1e6 < 2000);
    assert.deepEqual(fireKeys(w, T0 + YEAR + 1), ['later']);

    // an empty wheel advanced by centuries
    const empty = new TimingWheel<string>(T0);
    assert.deepEqual(fireKeys(empty, T0 + 300 * YEAR), []);
    empty.insert('x', T0 + 300 * YEAR + 1);
    assert.deepEqual(fireKeys(empty, T0 + 300 * YEAR + 1), ['x']);
  });

  test('nextExpiry is never later than the earliest due time and leads to it', () => {
    const wheel = new TimingWheel<string>(T0);
    assert.equal(wheel.nextExpiry(), null);
    wheel.insert('a', T0 + 3 * DAY + 5);
    const ne = wheel.nextExpiry()!;
    assert.ok(ne <= T0 + 3 * DAY + 5);
    assert.ok(ne > T0);
    const b = wheel.insert('b', T0 + 7);
    assert.equal(wheel.nextExpiry(), T0 + 7);
    assert.equal(wheel.remove(b, 'b'), true);
    assert.ok(wheel.nextExpiry()! <= T0 + 3 * DAY + 5);
    assert.ok(wheel.nextExpiry()! > T0 + 7, 'the removed timer no longer counts');
  });

  test('peek returns the next n entries in order without changing anything', () => {
    const wheel = new TimingWheel<string>(T0);
    wheel.insert('d', T0 + YEAR);
    wheel.insert('b', T0 + 5 * MINUTE);
    wheel.insert('a2', T0 + 10);
    wheel.insert('c', T0 + DAY);
    wheel.insert('a1', T0 + 10);
    wheel.insert('z', T0 - 3);
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
    assert.deepEqual(fireKeys(wheel, T0 + DAY), ['z', 'a2', 'a1', 'b', 'c']);
  });

  test('clear drops everything and the wheel stays usable; old handles are stale', () => {
    const wheel = new TimingWheel<string>(T0);
    const handles = new Handles(wheel);
    for (let i = 0; i < 1000; i++) handles.set('k' + i, T0 + i * 1000);
    handles.set('old', T0 - 1);
    wheel.clear();
    assert.equal(wheel.size, 0);
    assert.equal(wheel.remove(handles.of.get('k5')!, 'k5'), false);
    assert.equal(wheel.move(handles.of.get('k6')!, 'k6', T0 + 1), false);
    assert.equal(wheel.nextExpiry(), null);
    assert.deepEqual(wheel.peek(5), []);
    assert.equal(
      wheel.stats().levels.reduce((n, l) => n + l.timers + l.occupiedSlots, 0),
      0,
    );
    assert.deepEqual(fireKeys(wheel, T0 + DAY), []);
    handles.set('k5', T0 + DAY + 1);
    assert.equal(wheel.size, 1);
    assert.deepEqual(fire(wheel, T0 + DAY + 1), { keys: ['k5'], dues: [T0 + DAY + 1] });
  });

  test('tick longer than 1 ms: still exact per key, and nextExpiry points at the due time', () => {
    const wheel = new TimingWheel<string>(1000, { tickMs: 10 });
    const a = wheel.insert('a', 1005);
    wheel.insert('b', 1003);
    wheel.insert('c', 1009);
    wheel.insert('far', 1000 + DAY + 7);
    assert.equal(wheel.nextExpiry(), 1003);
    assert.deepEqual(fireKeys(wheel, 1002), []);
    assert.deepEqual(fire(wheel, 1004), { keys: ['b'], dues: [1003] });
    assert.equal(wheel.nextExpiry(), 1005); // no spinning on the slot start
    assert.equal(wheel.remove(a, 'a'), true);
    assert.equal(wheel.nextExpiry(), 1009);
    assert.deepEqual(fire(wheel, 1009), { keys: ['c'], dues: [1009] });
    const { fired, dues } = drain(wheel);
    assert.deepEqual(fired, [['far', 1000 + DAY + 7]]);
    assert.deepEqual(dues, new Map([['far', 1000 + DAY + 7]]));
  });

  test('timers beyond the top level (small wheel) still fire exactly', () => {
    // 4 slots x 3 levels = 64 ticks of reach; anything further goes through the overflow list
    const wheel = new TimingWheel<string>(T0, { slotsPerLevel: 4, levels: 3 });
    wheel.insert('far', T0 + YEAR + 3);
    wheel.insert('near', T0 + 10);
    wheel.insert('mid', T0 + 1000);
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
    wheel.insert('cross', 2 ** 48 + 5); // crosses the top-level span boundary
    wheel.insert('way', 2 ** 50 + 1);
    assert.deepEqual(drain(wheel).fired, [
      ['cross', 2 ** 48 + 5],
      ['way', 2 ** 50 + 1],
    ]);
  });

  test('keys of any type come out as given; a handle answers only to its own key, with Map-like equality', () => {
    const wheel = new TimingWheel<unknown>(T0);
    const obj = { id: 1 };
    const sym = Symbol('s');
    const keys: unknown[] = [1, '1', obj, { id: 1 }, sym, Number.NaN, 0, 2.5, 2 ** 40, 10n, '', null, undefined];
    const handles = keys.map((key, i) => wheel.insert(key, T0 + 1 + i));
    assert.equal(wheel.size, keys.length);
    const handleOf = (key: unknown) => handles[keys.indexOf(key)];
    assert.equal(wheel.remove(handleOf(1), '1'), false);
    assert.equal(wheel.remove(handleOf('1'), 1), false);
    assert.equal(wheel.remove(handleOf(obj), { id: 1 }), false, 'another object');
    assert.equal(wheel.remove(handleOf(2 ** 40), 2 ** 40 + 1), false);
    assert.equal(wheel.remove(handleOf(''), null), false);
    assert.equal(wheel.remove(handleOf(null), undefined), false);
    assert.equal(wheel.move(handleOf(0), -0, T0 + 7.5), true, '-0 is 0'); // T0 + 8, after 2.5 (moved there later)
    assert.equal(wheel.move(handles[5], Number.NaN, T0 + 6), true, 'NaN is NaN');
    assert.equal(wheel.remove(handleOf(obj), obj), true);
    assert.equal(wheel.remove(handleOf(obj), obj), false);
    assert.equal(wheel.size, keys.length - 1);
    const out = fire(wheel, T0 + 100);
    assert.equal(out.keys.length, keys.length - 1);
    assert.deepEqual(out.keys.slice(0, 2), [1, '1']);
    assert.equal(out.keys[2], keys[3]);
    assert.equal(out.keys[3], sym);
    assert.ok(Number.isNaN(out.keys[4]));
    assert.deepEqual(out.keys.slice(5), [2.5, 0, 2 ** 40, 10n, '', null, undefined]);
    assert.deepEqual(out.dues, [T0 + 1, T0 + 2, T0 + 4, T0 + 5, T0 + 6, T0 + 8, T0 + 8, T0 + 9, T0 + 10, T0 + 11, T0 + 12, T0 + 13]);
    // freed records hold no key: not even an undefined key matches them
    assert.equal(wheel.remove(handleOf(undefined), undefined), false);
    assert.equal(wheel.move(handleOf(undefined), undefined, T0 + 200), false);
    assert.equal(wheel.size, 0);
  });

  test('churn: many keys inserted, moved, removed and re-inserted keep the handles right', () => {
    const wheel = new TimingWheel<string>(T0);
    const handles = new Handles(wheel);
    const live = new Map<string, number>();
    const r = prng(99);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 2000; i++) {
        const key = 'job-' + Math.floor(r() * 5000);
        if (r() < 0.6) {
          const due = T0 + 1 + Math.floor(r() * YEAR);
          handles.set(key, due);
          live.set(key, due);
        } else {
          assert.equal(handles.remove(key), live.delete(key));
        }
      }
      assert.equal(wheel.size, live.size);
    }
    assert.deepEqual(contents(wheel), live);
    const { fired, dues } = drain(wheel);
    assert.equal(fired.length, live.size);
    for (const [key, at] of fired) assert.equal(at, live.get(key));
    assert.deepEqual(dues, live);
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
      const handles = new Handles(wheel);
      const model = new ReferenceModel(start);
      const pick = (n: number) => Math.floor(r() * n);
      const recentDues: number[] = [];
      const randomDue = (): number => {
        const now = model.now;
        const x = r();
        let due: number;
        if (x < 0.15 && recentDues.length > 0)
          due = recentDues[pick(recentDues.length)]; // ties
        else if (x < 0.3) due = now + pick(100);
        else if (x < 0.5) due = now + pick(100_000);
        else if (x < 0.65) due = now + pick(30 * DAY);
        else if (x < 0.75) due = now + pick(3 * YEAR);
        else if (x < 0.85)
          due = now - pick(5000); // past
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
          handles.set(key, due);
          model.add(key, due);
        } else if (x < 0.6) {
          const key = keyName();
          assert.equal(handles.remove(key), model.cancel(key), `remove ${key} at op ${op}`);
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
          else if (y < 0.9)
            to = now - pick(1000); // backwards: treated as now
          else to = now + r() * 10; // fractional
          const got = fire(wheel, to);
          const want = model.advance(to);
          assert.deepEqual(got, want, `advance to ${to - start} at op ${op}`);
          fired += got.keys.length;
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
          assert.deepEqual(contents(wheel), model.contents(), `contents at op ${op}`);
          const stats = wheel.stats();
          const inLevels = stats.levels.reduce((n, l) => n + l.timers, 0);
          assert.equal(inLevels + stats.overdue + stats.overflow, stats.size);
        }
      }
      assert.ok(fired > 500, `only ${fired} keys fired: the test is not exercising much`);

      // finally drain both completely, following nextExpiry
      const rest = drain(wheel);
      const restModel = model.sorted();
      assert.deepEqual(
        rest.fired.map(([k]) => k),
        restModel.map((e) => e.key),
      );
      assert.deepEqual(rest.dues, new Map(restModel.map((e) => [e.key, e.due])));
      for (let i = 0; i < rest.fired.length; i++) {
        const due = restModel[i].due;
        // follows nextExpiry: each key fires at max(due, the wheel's time)
        assert.equal(rest.fired[i][1], Math.max(due, model.now), `key ${rest.fired[i][0]}`);
      }
    });
  }
});

describe('TimingWheel: handles', () => {
  test('a stale handle (fired, removed, reused, foreign key) changes nothing', () => {
    const wheel = new TimingWheel<string>(T0);
    const a = wheel.insert('a', T0 + 10);
    const b = wheel.insert('b', T0 + 5);
    const k = wheel.insert('k', T0 + 7);
    assert.equal(wheel.size, 3);
    assert.equal(wheel.remove(a, 'b'), false, 'a handle only answers to its own key');
    assert.equal(wheel.move(a, 'k', T0 + 1), false);
    assert.equal(wheel.move(b, 'b', T0 + 20), true);
    assert.deepEqual(fire(wheel, T0 + 10), { keys: ['k', 'a'], dues: [T0 + 7, T0 + 10] });
    assert.equal(wheel.remove(a, 'a'), false, 'fired: the handle is stale');
    assert.equal(wheel.move(k, 'k', T0 + 50), false, 'fired: moving it does nothing');
    assert.equal(wheel.size, 1);
    const c = wheel.insert('c', T0 + 30);
    assert.ok(c === a || c === k, 'freed records are recycled');
    assert.equal(wheel.remove(c, c === a ? 'a' : 'k'), false, 'a record reused for another key is not touched');
    assert.equal(wheel.move(b, 'b', T0 + 25), true);
    assert.equal(wheel.remove(b, 'b'), true);
    assert.equal(wheel.remove(b, 'b'), false);
    assert.equal(wheel.remove(-1, 'b') || wheel.remove(1e9, 'b') || wheel.remove(0.5, 'b'), false);
    assert.equal(wheel.move(-1, 'c', T0) || wheel.move(1e9, 'c', T0) || wheel.move(c + 0.5, 'c', T0), false);
    assert.throws(() => wheel.insert('x', Number.NaN), RangeError);
    assert.deepEqual(fire(wheel, T0 + YEAR), { keys: ['c'], dues: [T0 + 30] });
    assert.equal(wheel.size, 0);
    assert.equal(wheel.nextExpiry(), null);
  });

  test('randomized: callers that keep stale handles and callers that drop fired ones match the reference model', () => {
    const r = prng(7);
    const pick = (n: number) => Math.floor(r() * n);
    const wheel = new TimingWheel<string>(T0, { slotsPerLevel: 8 });
    const model = new ReferenceModel(T0);
    /** 'h' keys: handles kept after firing, as JobService keeps them (stale until the next set). */
    const keeping = new Handles(wheel);
    /** 'd' keys: the caller drops a key's handle when it fires. */
    const dropping = new Map<string, number>();
    let fired = 0;
    let staleRemoves = 0;
    let staleMoves = 0;
    for (let op = 0; op < 6000; op++) {
      const x = r();
      const keeps = r() < 0.5;
      const key = (keeps ? 'h' : 'd') + pick(200);
      const now = model.now;
      const due = r() < 0.1 ? now - pick(100) : now + (r() < 0.5 ? pick(2000) : pick(2 * YEAR)) + (r() < 0.2 ? 0.5 : 0);
      if (x < 0.45) {
        if (keeps) {
          const handle = keeping.of.get(key);
          if (handle !== undefined && !model.entries.some((e) => e.key === key)) {
            staleMoves++;
            assert.equal(wheel.move(handle, key, due), false, `stale move ${key} at op ${op}`);
          }
          keeping.set(key, due);
        } else {
          const handle = dropping.get(key);
          if (handle === undefined) dropping.set(key, wheel.insert(key, due));
          else assert.equal(wheel.move(handle, key, due), true, `move ${key} at op ${op}`);
        }
        model.add(key, due);
      } else if (x < 0.6) {
        const want = model.cancel(key);
        if (keeps) {
          if (keeping.of.has(key) && !want) staleRemoves++;
          assert.equal(keeping.remove(key), want, `remove ${key} at op ${op}`);
        } else {
          const handle = dropping.get(key);
          dropping.delete(key);
          assert.equal(handle !== undefined, want, `${key}: the caller holds a handle iff the key is on the wheel`);
          if (handle !== undefined) assert.equal(wheel.remove(handle, key), true, `remove ${key} at op ${op}`);
        }
      } else {
        const to = r() < 0.3 && wheel.nextExpiry() !== null ? (wheel.nextExpiry() as number) : now + pick(r() < 0.5 ? 3000 : YEAR);
        const got = fire(wheel, to);
        assert.deepEqual(got, model.advance(to), `advance at op ${op}`);
        for (const k of got.keys) dropping.delete(k);
        fired += got.keys.length;
      }
      assert.equal(wheel.size, model.entries.length);
      if (op % 100 === 0) assert.deepEqual(wheel.peek(5), model.peek(5), `peek at op ${op}`);
    }
    assert.ok(
      fired > 500 && staleRemoves > 50 && staleMoves > 50,
      `fired ${fired}, stale removes ${staleRemoves}, stale moves ${staleMoves}: too little exercised`,
    );
    const rest = drain(wheel);
    assert.deepEqual(
      rest.fired.map(([k]) => k),
      model.sorted().map((e) => e.key),
    );
    assert.deepEqual(rest.dues, model.contents());
  });
});
