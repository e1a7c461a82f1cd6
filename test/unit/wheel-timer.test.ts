import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TimingWheel } from '../../src/wheel/timing-wheel.js';
import { WheelTimer, MAX_TIMER_DELAY_MS, type ExpiredListener, type WheelTimerOptions } from '../../src/wheel/wheel-timer.js';
import { FakeClock, NODE_TIMEOUT_MAX } from '../helpers/fake-clock.js';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;
const T0 = Date.UTC(2025, 0, 1) + 12_345;

/** One onExpired call: when (wall clock), and copies of its arrays (they are reused by the next call). */
type Delivery = { at: number; keys: string[]; dues: number[] };

/**
 * What JobService keeps per key: its timer's handle, kept after the timer fired (then stale, and
 * place() inserts a new timer).
 */
class Handles {
  readonly of = new Map<string, number>();
  constructor(private readonly timer: WheelTimer<string>) {}
  place(key: string, dueMs: number): void {
    this.of.set(key, this.timer.place(this.of.get(key) ?? -1, key, dueMs));
  }
  remove(key: string): boolean {
    const handle = this.of.get(key);
    this.of.delete(key);
    return handle !== undefined && this.timer.remove(handle, key);
  }
}

/** A timer whose onExpired records deliveries (then calls `then`, if given). */
function setup(start = T0, options: WheelTimerOptions = {}, then?: ExpiredListener<string>) {
  const clock = new FakeClock(start);
  const wheel = new TimingWheel<string>(start);
  const deliveries: Delivery[] = [];
  const timer: WheelTimer<string> = new WheelTimer(
    wheel,
    clock,
    (keys, dues) => {
      assert.equal(keys.length, dues.length);
      deliveries.push({ at: clock.now(), keys: [...keys], dues: [...dues] });
      then?.(keys, dues);
    },
    options,
  );
  return { clock, wheel, timer, deliveries, jobs: new Handles(timer) };
}

describe('WheelTimer', () => {
  test('nothing is armed while the wheel is empty', () => {
    const { clock, timer, deliveries } = setup();
    timer.start();
    assert.equal(clock.pendingCount, 0);
    assert.equal(timer.armedAt, null);
    clock.advance(YEAR);
    assert.equal(clock.setCount, 0);
    assert.equal(clock.firedCount, 0);
    assert.deepEqual(deliveries, []);
  });

  test('exactly one timer, for wheel.nextExpiry(), re-armed only when a place() is earlier', () => {
    const { clock, wheel, timer, jobs } = setup();
    timer.start();
    jobs.place('a', T0 + 3);
    assert.equal(clock.pendingCount, 1);
    assert.equal(timer.armedAt, T0 + 3); // within level 0: the exact due time
    assert.deepEqual(
      clock.pending().map((p) => p.at),
      [T0 + 3],
    );
    jobs.place('a', T0 + 1000); // moved later: the timer stays (it wakes up early, harmlessly)
    assert.equal(clock.setCount, 1);
    assert.equal(wheel.size, 1);
    jobs.remove('a');
    jobs.place('a', T0 + 1000); // re-armed for the next expiry: 1000 ms or the cascade before it
    const armedA = timer.armedAt!;
    assert.equal(armedA, wheel.nextExpiry());
    assert.ok(armedA > T0 && armedA <= T0 + 1000);
    const sets = clock.setCount;

    jobs.place('b', T0 + 5000); // later: the armed timer stays
    assert.equal(clock.pendingCount, 1);
    assert.equal(clock.setCount, sets);
    assert.equal(timer.armedAt, armedA);

    jobs.place('c', T0 + 5); // earlier: re-armed
    assert.equal(clock.pendingCount, 1);
    assert.equal(clock.setCount, sets + 1);
    assert.equal(timer.armedAt, T0 + 5);
    assert.equal(clock.nextAt(), T0 + 5);
    assert.equal(clock.pending()[0].delay, 5);
  });

  test('delivers keys on their due millisecond with their due times, then arms nothing when empty', () => {
    const { clock, timer, deliveries, jobs } = setup();
    timer.start();
    jobs.place('a', T0 + 1000);
    jobs.place('b', T0 + 5000);
    jobs.place('c', T0 + 500);
    jobs.place('c2', T0 + 499.5); // rounded up: never early
    clock.advance(499);
    assert.deepEqual(deliveries, []);
    clock.advance(10_000);
    assert.deepEqual(deliveries, [
      { at: T0 + 500, keys: ['c', 'c2'], dues: [T0 + 500, T0 + 500] }, // same millisecond: one call
      { at: T0 + 1000, keys: ['a'], dues: [T0 + 1000] },
      { at: T0 + 5000, keys: ['b'], dues: [T0 + 5000] },
    ]);
    assert.equal(clock.pendingCount, 0);
    assert.equal(timer.armedAt, null);
    const fired = clock.firedCount;
    clock.advance(YEAR); // no idle ticking
    assert.equal(clock.firedCount, fired);
  });

  test('far-future keys: delays clamped to 2^31-1 ms, fires on the exact millisecond', () => {
    const { clock, timer, deliveries, jobs } = setup(T0, { stepCheckMs: MAX_TIMER_DELAY_MS });
    timer.start();
    const due = T0 + 3 * YEAR + 789;
    jobs.place('far', due);
    const [pending] = clock.pending();
    assert.ok(pending.delay <= MAX_TIMER_DELAY_MS);
    assert.equal(MAX_TIMER_DELAY_MS, NODE_TIMEOUT_MAX);
    clock.advance(due - 1 - T0);
    assert.deepEqual(deliveries, []);
    clock.advance(1);
    assert.deepEqual(deliveries, [{ at: due, keys: ['far'], dues: [due] }]);
    assert.equal(clock.overflowedDelays, 0, 'a delay above 2^31-1 would make Node fire after 1 ms');
    // 3 years / 24.8 days per clamped timer + a few cascade wake-ups
    assert.ok(clock.firedCount < (3 * YEAR) / MAX_TIMER_DELAY_MS + 15, `fired ${clock.firedCount} timers`);
    assert.equal(clock.pendingCount, 0);
  });

  test('while timers wait, the one timer sleeps at most stepCheckMs (watching the wall clock); none while empty', () => {
    const { clock, timer, deliveries, jobs } = setup();
    timer.start();
    jobs.place('later', T0 + HOUR);
    assert.equal(timer.armedAt, T0 + 1000);
    clock.advance(10_000);
    assert.equal(clock.firedCount, 10, 'one wake-up a second');
    assert.equal(clock.pendingCount, 1);
    clock.advance(HOUR);
    assert.deepEqual(deliveries, [{ at: T0 + HOUR, keys: ['later'], dues: [T0 + HOUR] }]);
    const fired = clock.firedCount;
    clock.advance(DAY);
    assert.equal(clock.firedCount, fired, 'no wake-ups with an empty wheel');
  });

  test('a late timer (blocked event loop) delivers everything due, in due order, in one call, with the due times', () => {
    const { clock, timer, deliveries, jobs } = setup();
    timer.start();
    jobs.place('b', T0 + 150);
    jobs.place('a', T0 + 100);
    jobs.place('c', T0 + 400);
    clock.stall(300); // the loop is blocked for 300 ms: nothing runs
    assert.deepEqual(deliveries, []);
    clock.runDue();
    assert.deepEqual(deliveries, [{ at: T0 + 300, keys: ['a', 'b'], dues: [T0 + 100, T0 + 150] }]);
    clock.advance(100);
    assert.deepEqual(deliveries[1], { at: T0 + 400, keys: ['c'], dues: [T0 + 400] });
  });

  test('a clock that jumped forward delivers everything due at the next wake-up (within a second), with the wall due times', () => {
    const { clock, timer, deliveries, jobs } = setup();
    timer.start();
    jobs.place('a', T0 + 1000);
    jobs.place('b', T0 + 2 * HOUR);
    jobs.place('c', T0 + 5 * HOUR);
    const wait = timer.armedAt! - T0; // 1000 ms, or a cascade point before it
    clock.jump(3 * HOUR); // wall clock steps forward; the armed timer still waits its delay
    assert.deepEqual(deliveries, []);
    clock.advance(wait);
    assert.deepEqual(deliveries, [{ at: T0 + 3 * HOUR + wait, keys: ['a', 'b'], dues: [T0 + 1000, T0 + 2 * HOUR] }]);
    clock.advance(2 * HOUR);
    assert.deepEqual(deliveries[1], { at: T0 + 5 * HOUR, keys: ['c'], dues: [T0 + 5 * HOUR] });
  });

  test('a clock that jumped forward fires what became due within stepCheckMs, not at the old wake-up', () => {
    const steps: number[] = [];
    const { clock, timer, deliveries, jobs } = setup(T0, { onClockStep: (step) => steps.push(step) });
    timer.start();
    jobs.place('a', T0 + 10 * 60_000);
    jobs.place('b', T0 + 2 * HOUR);
    clock.jump(HOUR);
    clock.advance(999);
    assert.deepEqual(deliveries, []);
    clock.advance(1);
    assert.deepEqual(deliveries, [{ at: T0 + HOUR + 1000, keys: ['a'], dues: [T0 + 10 * 60_000] }]);
    assert.deepEqual(steps, [HOUR]);
    clock.advance(HOUR - 1000);
    assert.deepEqual(deliveries[1], { at: T0 + 2 * HOUR, keys: ['b'], dues: [T0 + 2 * HOUR] }, 'then on time by the stepped clock');
  });

  test('a clock that jumped back: timers placed before it come out early by the step (their due shifted alike), for the receiver to place again; none is lost', () => {
    const steps: number[] = [];
    const due = new Map([['a', 10_000]]);
    const { clock, timer, deliveries, jobs } = setup(0, { onClockStep: (step) => steps.push(step) }, (keys) => {
      // What the job service does: a job not due by the wall clock goes back on the wheel.
      for (const key of keys) if (clock.now() < due.get(key)!) jobs.place(key, due.get(key)!);
    });
    timer.start();
    jobs.place('a', 10_000);
    clock.advance(5000);
    clock.jump(-4000); // wall clock now 1000; wheel time stays 5000
    clock.advance(1000);
    assert.deepEqual(steps, [-4000], 'noticed at the next wake-up');
    due.set('b', 8000);
    jobs.place('b', 8000); // placed after the step: at its wall time
    clock.advance(4000);
    assert.deepEqual(deliveries, [{ at: 6000, keys: ['a'], dues: [6000] }], "'a' comes out 4000 ms early, and goes back");
    clock.advance(1999);
    assert.equal(deliveries.length, 1);
    clock.advance(1);
    assert.deepEqual(deliveries[1], { at: 8000, keys: ['b'], dues: [8000] });
    clock.advance(2000);
    assert.deepEqual(deliveries[2], { at: 10_000, keys: ['a'], dues: [10_000] });
    assert.equal(clock.pendingCount, 0);
  });

  test('after a backward jump, keys due before the wheel time wait for the clock, not fire at once', () => {
    const { clock, timer, deliveries, jobs } = setup(0);
    timer.start();
    jobs.place('x', 5000);
    clock.advance(5000);
    assert.deepEqual(deliveries, [{ at: 5000, keys: ['x'], dues: [5000] }]); // wheel time is now 5000
    clock.jump(-3000); // wall clock 2000
    jobs.place('y', 4000); // <= wheel time, but 2000 ms ahead of the clock
    clock.advance(1999);
    assert.equal(deliveries.length, 1);
    clock.advance(1);
    assert.deepEqual(deliveries[1], { at: 4000, keys: ['y'], dues: [4000] });
  });

  test('place() from inside onExpired works (recurring job, and a key due at once)', () => {
    let runs = 0;
    const { clock, wheel, timer, deliveries, jobs } = setup(T0, {}, (keys) => {
      for (const key of keys) {
        if (key === 'every100' && ++runs < 5) jobs.place('every100', clock.now() + 100);
        if (key === 'spawn') jobs.place('child', clock.now()); // due right away
      }
    });
    timer.start();
    jobs.place('every100', T0 + 100);
    jobs.place('spawn', T0 + 250);
    clock.advance(1000);
    assert.deepEqual(
      deliveries.map(({ at, keys, dues }) => [at - T0, keys.join(), dues.map((d) => d - T0).join()]),
      [
        [100, 'every100', '100'],
        [200, 'every100', '200'],
        [250, 'spawn', '250'],
        [251, 'child', '250'], // Node runs a 0 ms timeout after 1 ms
        [300, 'every100', '300'],
        [400, 'every100', '400'],
        [500, 'every100', '500'],
      ],
    );
    assert.equal(clock.pendingCount, 0);
    assert.equal(wheel.size, 0);
  });

  test('stop() disarms; place() while stopped arms nothing; start() arms for the earliest', () => {
    const { clock, timer, deliveries, jobs } = setup();
    timer.start();
    jobs.place('a', T0 + 100);
    timer.stop();
    assert.equal(clock.pendingCount, 0);
    assert.equal(timer.armedAt, null);
    jobs.place('b', T0 + 50);
    assert.equal(clock.pendingCount, 0);
    clock.advance(200);
    assert.deepEqual(deliveries, []);
    timer.start();
    assert.equal(clock.pendingCount, 1);
    assert.equal(timer.armedAt, T0 + 200); // both overdue: fire on the next timer
    clock.advance(1);
    assert.deepEqual(deliveries, [{ at: T0 + 201, keys: ['b', 'a'], dues: [T0 + 50, T0 + 100] }]);
  });

  test('stop() from inside onExpired leaves nothing armed', () => {
    let calls = 0;
    const { clock, wheel, timer, jobs } = setup(T0, {}, () => {
      calls++;
      timer.stop();
    });
    timer.start();
    jobs.place('a', T0 + 3);
    jobs.place('b', T0 + 20);
    clock.advance(3);
    assert.equal(calls, 1);
    assert.equal(clock.pendingCount, 0);
    assert.equal(timer.armedAt, null);
    assert.equal(timer.isRunning, false);
    clock.advance(100);
    assert.equal(calls, 1);
    assert.deepEqual(
      wheel.peek(5).map((e) => e.key),
      ['b'],
    );
  });

  test('remove(): disarms when the wheel empties; removing the earliest wakes up once for nothing', () => {
    const { clock, timer, deliveries, jobs } = setup();
    timer.start();
    jobs.place('a', T0 + 100);
    const a = jobs.of.get('a')!;
    assert.equal(jobs.remove('a'), true);
    assert.equal(timer.remove(a, 'a'), false);
    assert.equal(clock.pendingCount, 0);
    assert.equal(timer.armedAt, null);

    jobs.place('a', T0 + 3);
    jobs.place('b', T0 + 300);
    jobs.remove('a');
    assert.equal(clock.pendingCount, 1);
    assert.equal(timer.armedAt, T0 + 3);
    clock.advance(3);
    assert.equal(clock.firedCount, 1);
    assert.deepEqual(deliveries, []); // onExpired is never called with no keys
    assert.equal(clock.pendingCount, 1);
    assert.ok(timer.armedAt! > T0 + 3 && timer.armedAt! <= T0 + 300);
    clock.advance(297);
    assert.deepEqual(deliveries, [{ at: T0 + 300, keys: ['b'], dues: [T0 + 300] }]);
  });

  test('handles: place() moves a live timer, inserts after it fired; remove() of a stale handle does nothing', () => {
    const { clock, wheel, timer, deliveries } = setup();
    timer.start();
    let a = timer.place(-1, 'a', T0 + HOUR);
    assert.equal(timer.armedAt, Math.min(wheel.nextExpiry()!, T0 + 1000));
    assert.equal(timer.place(a, 'a', T0 + 3), a, 'moved earlier (within level 0): the same timer');
    assert.equal(wheel.size, 1);
    assert.equal(timer.armedAt, T0 + 3, 're-armed');
    clock.advance(3);
    assert.deepEqual(deliveries, [{ at: T0 + 3, keys: ['a'], dues: [T0 + 3] }]);
    assert.equal(timer.remove(a, 'a'), false, 'the fired timer is gone');
    const b = timer.place(-1, 'b', T0 + 100);
    a = timer.place(a, 'a', T0 + 30); // a's old handle is stale (maybe reused by b): a new timer
    assert.equal(wheel.size, 2);
    assert.deepEqual(wheel.peek(5), [
      { key: 'a', due: T0 + 30 },
      { key: 'b', due: T0 + 100 },
    ]);
    assert.equal(timer.remove(b, 'b'), true);
    assert.equal(timer.remove(a, 'a'), true);
    assert.equal(wheel.size, 0);
    assert.equal(timer.armedAt, null, 'disarmed when the wheel empties');
    clock.advance(2 * HOUR);
    assert.equal(deliveries.length, 1);
  });

  test('an exception in onExpired propagates, and the timer is still re-armed', () => {
    let calls = 0;
    const { clock, wheel, timer, jobs } = setup(T0, {}, () => {
      if (++calls === 1) throw new Error('boom');
    });
    timer.start();
    jobs.place('a', T0 + 10);
    jobs.place('b', T0 + 20);
    assert.throws(() => clock.advance(15), /boom/);
    assert.equal(clock.pendingCount, 1);
    assert.ok(timer.armedAt! > T0 + 10 && timer.armedAt! <= T0 + 20);
    clock.advance(10);
    assert.equal(calls, 2);
    assert.equal(wheel.size, 0);
  });

  test('random places/removes/clock moves: every key delivered once on time with its due time, early only after a backward step (and placed again), at most 1 timer armed', () => {
    let seed = 12345;
    const r = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    /**
     * key -> wall due, how many clock steps had been observed when it was placed, and the wall -
     * wheel offset it was placed at (a later backward step shifts its handed-out due alike).
     */
    const due = new Map<string, { due: number; steps: number; offset: number }>();
    let steps = 0;
    let deliveredCount = 0;
    let earlyCount = 0;
    let shiftedDues = 0;
    const place = (key: string, d: number) => {
      jobs.place(key, d);
      due.set(key, { due: Math.ceil(d), steps, offset: timer.time.toWall(0) });
    };
    const { clock, wheel, timer, jobs } = setup(
      T0,
      // An hour between wake-ups when idle: the test advances by years.
      { onClockStep: () => steps++, stepCheckMs: HOUR },
      (keys, dues) => {
        assert.ok(keys.length > 0);
        keys.forEach((key, i) => {
          const entry = due.get(key);
          assert.ok(entry, `unexpected or duplicate ${key}`);
          assert.equal(dues[i], entry.due - entry.offset + timer.time.toWall(0), `${key}: due handed out`);
          if (dues[i] !== entry.due) shiftedDues++;
          assert.ok(dues[i] <= clock.now() + timer.time.stepBoundMs, `${key}: handed out before its due time`);
          if (clock.now() < entry.due) {
            // Early: only for a timer placed before a step was observed, or within the step bound.
            const early = entry.due - clock.now();
            assert.ok(steps > entry.steps || early <= timer.time.stepBoundMs, `${key} early by ${early} ms with no step since`);
            earlyCount++;
            place(key, entry.due);
            return;
          }
          due.delete(key);
          deliveredCount++;
        });
      },
    );
    timer.start();
    for (let op = 0; op < 3000; op++) {
      const x = r();
      const key = 'k' + Math.floor(r() * 200);
      if (x < 0.5) {
        place(key, clock.now() + Math.floor((r() < 0.8 ? 10_000 : 3 * YEAR) * r()) - 50);
      } else if (x < 0.6) {
        assert.equal(jobs.remove(key), due.delete(key));
      } else if (x < 0.97) {
        clock.advance(Math.floor(r() * (r() < 0.9 ? 2000 : 30 * DAY)));
      } else if (x < 0.985) {
        clock.stall(Math.floor(r() * 5000));
      } else {
        clock.jump(Math.floor(r() * 20_000) - 10_000);
      }
      assert.ok(clock.pendingCount <= 1);
      assert.equal(clock.pendingCount === 0, wheel.size === 0, `op ${op}: armed iff the wheel holds timers`);
      assert.equal(wheel.size, due.size);
    }
    clock.advance(4 * YEAR); // let everything run out
    assert.equal(wheel.size, 0);
    assert.equal(due.size, 0);
    assert.equal(clock.pendingCount, 0);
    assert.ok(deliveredCount > 500, `only ${deliveredCount} deliveries`);
    assert.ok(earlyCount > 0, 'the backward steps handed out some timers early');
    assert.ok(shiftedDues > 0, 'some due times were handed out shifted by a backward step');
  });
});

describe('FakeClock', () => {
  test('runs timeouts in due order (ties: creation order), each seeing its own time', () => {
    const clock = new FakeClock(1000);
    const log: string[] = [];
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`b2@${clock.now()}`), 20);
    const h = clock.setTimeout(() => log.push('never'), 15);
    clock.clearTimeout(h);
    clock.clearTimeout(h); // twice is harmless
    clock.setTimeout(() => {
      log.push(`c@${clock.now()}`);
      clock.setTimeout(() => log.push(`nested@${clock.now()}`), 5);
    }, 30);
    assert.equal(clock.advance(34), 4);
    assert.deepEqual(log, ['a@1010', 'b@1020', 'b2@1020', 'c@1030']);
    assert.equal(clock.now(), 1034);
    clock.advance(1);
    assert.deepEqual(log.at(-1), 'nested@1035');
    assert.equal(clock.pendingCount, 0);
  });

  test("Node's delay rules: < 1, NaN and > 2^31-1 become 1 ms", () => {
    const clock = new FakeClock(0);
    clock.setTimeout(() => {}, 0);
    clock.setTimeout(() => {}, Number.NaN);
    clock.setTimeout(() => {}, 2 ** 31);
    clock.setTimeout(() => {}, NODE_TIMEOUT_MAX);
    assert.deepEqual(
      clock.pending().map((p) => p.delay),
      [1, 1, 1, NODE_TIMEOUT_MAX],
    );
    assert.equal(clock.overflowedDelays, 1);
  });

  test('set() forward runs timers; set() backward and jump() only move the wall clock', () => {
    const clock = new FakeClock(0);
    let ran = 0;
    clock.setTimeout(() => ran++, 100);
    clock.set(50);
    assert.equal(ran, 0);
    clock.set(10); // back: nothing runs, the timer still fires 50 ms later
    assert.equal(clock.now(), 10);
    assert.deepEqual(clock.pending()[0].at, 60);
    clock.jump(1000);
    assert.equal(ran, 0);
    clock.advance(49);
    assert.equal(ran, 0);
    clock.advance(1);
    assert.equal(ran, 1);
    assert.equal(clock.now(), 1060);
  });

  test('stall() lets timers fall due without running them; runNext/runAll', () => {
    const clock = new FakeClock(0);
    const at: number[] = [];
    clock.setTimeout(() => at.push(clock.now()), 10);
    clock.setTimeout(() => at.push(clock.now()), 20);
    clock.setTimeout(() => at.push(clock.now()), 500);
    clock.stall(100);
    assert.equal(at.length, 0);
    assert.equal(clock.runDue(), 2);
    assert.deepEqual(at, [100, 100]);
    assert.equal(clock.runNext(), true);
    assert.deepEqual(at, [100, 100, 500]);
    assert.equal(clock.runNext(), false);
    clock.setTimeout(() => clock.setTimeout(() => at.push(clock.now()), 5), 5);
    assert.equal(clock.runAll(), 2);
    assert.equal(at.at(-1), 510);
  });

  test('a runaway re-arm loop throws instead of hanging', () => {
    const clock = new FakeClock(0, { maxTimersPerCall: 100 });
    const loop = () => {
      clock.setTimeout(loop, 0);
    };
    loop();
    assert.throws(() => clock.advance(1000), /runaway/);
  });

  test('advanceAsync lets promise chains started by callbacks progress', async () => {
    const clock = new FakeClock(0);
    const log: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => {
          log.push(`then@${clock.now()}`);
          clock.setTimeout(() => log.push(`next@${clock.now()}`), 10);
        });
    }, 10);
    await clock.advanceAsync(30);
    assert.deepEqual(log, ['then@10', 'next@20']);
  });
});
