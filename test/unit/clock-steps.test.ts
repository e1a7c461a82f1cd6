/**
 * Wall-clock steps under a running job service (a fake clock with separate wall and monotonic
 * time, the real SQLite store): nothing is lost, nothing runs before its wall-clock due time, a
 * forward step runs what became due within a second, and a backward step stalls no job waiting
 * out an interval or a retry while calendar and cron schedules keep their wall time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobKey, splitJobKey } from '../../src/jobs/job-key.js';
import { JobService } from '../../src/jobs/job-service.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import { JobStore } from '../../src/store/job-store.js';
import type { RunResult } from '../../src/jobs/run-outcome.js';
import { PROCESS_LOCK_FENCE } from '../../src/store/write-fence.js';
import { allShards } from '../helpers/test-fence.js';
import { TimingWheel } from '../../src/wheel/timing-wheel.js';
import { WheelTimer } from '../../src/wheel/wheel-timer.js';
import { createTestDatabase, databaseSettings, type TestDatabase } from '../helpers/databases.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
const SECOND = 1000;
const HOUR = 3_600_000;

interface Fired {
  key: string;
  /** Wall time of the callback. */
  at: number;
  /** Monotonic time of the callback: elapsed time across steps. */
  mono: number;
  /** Dalga-Sched. */
  sched: number;
  attempt: number;
}

/** A job service whose wheel fires through startRun/finishRun, as the dispatcher does; the endpoint answers `answer(key)`. */
async function harness(store: JobStore, answer: (key: string) => number = () => 200) {
  const clock = new FakeClock(T0);
  const fired: Fired[] = [];
  const steps: number[] = [];
  let service: JobService;
  const timer: WheelTimer<number> = new WheelTimer(
    new TimingWheel<number>(T0),
    clock,
    (ids) => {
      for (const id of ids) {
        const ticket = service.startRun(id);
        if (!ticket) continue;
        const key = ticket.key;
        fired.push({ key, at: clock.now(), mono: clock.monotonic(), sched: ticket.sched, attempt: ticket.attempt });
        const status = answer(key);
        const result: RunResult = {
          status,
          error: status === 200 ? null : `endpoint answered ${status}`,
          startedAt: clock.now(),
          finishedAt: clock.now(),
        };
        void service.finishRun(ticket, result);
      }
    },
    {
      onClockStep: (step) => {
        steps.push(step);
        service.followClockStepBack(step);
      },
    },
  );
  service = new JobService({
    store,
    gate: { map: store.shards, mayWrite: () => true, fence: () => PROCESS_LOCK_FENCE, onFenced: () => {} },
    clock,
    timer,
    policy: {
      retryIntervalMs: 10 * SECOND,
      retryMultiplier: 1,
      retryMaxIntervalMs: 10 * SECOND,
      retryStopAfterMs: 0,
      fixedIntervals: true,
      randomizationFactor: 0,
      random: Math.random,
    },
  });
  await service.loadShards(allShards(store), true);
  timer.start();
  const firedOf = (path: string) => fired.filter((f) => splitJobKey(f.key).path === path);
  return { clock, service, fired, firedOf, steps };
}

describe('wall-clock steps (job service, fake clock, SQLite)', () => {
  let db: TestDatabase;
  let store: JobStore;

  before(async () => {
    db = createTestDatabase('sqlite');
    store = await JobStore.open(databaseSettings(db));
    await store.upgradeSchema();
  });

  after(async () => {
    await store?.close();
    await db?.drop();
  });

  test('nothing ever runs before its wall-clock due time, whatever the steps', async () => {
    const { clock, service, fired } = await harness(store);
    for (let i = 0; i < 20; i++) await service.schedule('never-early', `j${i}`, parseJobSpec({ interval: String(1 + (i % 7)) }));
    await service.schedule('never-early', 'cron', parseJobSpec({ cron: '*/10 * * * * *' }));
    for (const step of [30 * SECOND, -30 * SECOND, HOUR, -HOUR, 5 * SECOND, -2 * HOUR]) {
      await clock.advanceAsync(7 * SECOND);
      clock.jump(step);
      await clock.advanceAsync(20 * SECOND);
    }
    assert.ok(fired.length > 200, `${fired.length} runs`);
    for (const run of fired) assert.ok(run.at >= run.sched, `${run.key} ran ${run.sched - run.at} ms before its slot`);
  });

  test('a backward step: jobs waiting out an interval keep their cadence; a job put after it runs on time; rows follow', async () => {
    for (const step of [-30 * SECOND, -HOUR]) {
      const path = `back${-step}`;
      const { clock, service, firedOf, steps } = await harness(store);
      await service.schedule(path, 'every5', parseJobSpec({ interval: '5' }));
      await clock.advanceAsync(12 * SECOND); // runs at +5 s and +10 s; next at +15 s
      assert.equal(firedOf(path).length, 2);
      clock.jump(step);
      await clock.advanceAsync(SECOND); // the next wake-up notices the step
      assert.deepEqual(steps, [step]);
      await service.schedule(path, 'new5', parseJobSpec({ interval: '5' }));
      const putAt = clock.monotonic();
      await clock.advanceAsync(12 * SECOND);
      const runs = firedOf(path);
      const every5 = runs.filter((r) => r.key === jobKey(path, 'every5'));
      // Elapsed time since the first run: 5 s apart across the step, not stalled by it.
      assert.deepEqual(
        every5.map((r) => r.mono - every5[0].mono),
        [0, 5 * SECOND, 10 * SECOND, 15 * SECOND, 20 * SECOND],
      );
      assert.deepEqual(
        runs.filter((r) => r.key === jobKey(path, 'new5')).map((r) => r.mono - putAt),
        [5 * SECOND, 10 * SECOND],
      );
      await new Promise((resolve) => setTimeout(resolve, 50)); // the background row writes
      for (const body of ['every5', 'new5']) {
        assert.equal((await store.get(path, body))?.nextRun, service.get(path, body)?.nextRun, `${body}: the row follows memory`);
      }
    }
  });

  test('a backward step: a retry keeps its remaining backoff; cron and day intervals keep their wall time', async () => {
    const { clock, service, firedOf } = await harness(store, (key) => (key === jobKey('pinned', 'failing') ? 500 : 200));
    await service.schedule('pinned', 'failing', parseJobSpec({ interval: '3600', immediate: 'true' }));
    await service.schedule('pinned', 'cron', parseJobSpec({ cron: '0 5 12 * * *' })); // 12:05:00 UTC daily
    await service.schedule('pinned', 'daily', parseJobSpec({ interval: 'P1D', 'first-run': '2026-06-01T12:10:00Z' }));
    await clock.advanceAsync(2 * SECOND); // the failing job ran once; its retry waits 10 s
    assert.equal(firedOf('pinned').length, 1);
    clock.jump(-HOUR); // 11:00:02 by the wall clock
    await clock.advanceAsync(9 * SECOND);
    const retry = firedOf('pinned').filter((r) => r.key === jobKey('pinned', 'failing'));
    assert.equal(retry.length, 2, 'the retry ran after its 10 s of backoff, not an hour later');
    assert.equal(retry[1].attempt, 2);
    assert.equal(firedOf('pinned').filter((r) => r.key !== jobKey('pinned', 'failing')).length, 0);
    assert.equal(service.get('pinned', 'cron')?.nextRun, Date.UTC(2026, 5, 1, 12, 5), 'cron keeps 12:05');
    assert.equal(service.get('pinned', 'daily')?.nextRun, Date.UTC(2026, 5, 1, 12, 10), 'P1D keeps 12:10');
    await clock.advanceAsync(HOUR + 10 * 60 * SECOND);
    const pinned = firedOf('pinned').filter((r) => r.key !== jobKey('pinned', 'failing'));
    assert.deepEqual(
      pinned.map((r) => [splitJobKey(r.key).body, new Date(r.at).toISOString()]),
      [
        ['cron', '2026-06-01T12:05:00.000Z'],
        ['daily', '2026-06-01T12:10:00.000Z'],
      ],
    );
  });

  test('a forward step runs what became due within a second, each job once, then on its slots', async () => {
    const { clock, service, firedOf } = await harness(store);
    for (let i = 0; i < 10; i++) await service.schedule('forward', `j${i}`, parseJobSpec({ interval: '60' }));
    await service.schedule('forward', 'later', parseJobSpec({ interval: String(2 * 3600) }));
    await clock.advanceAsync(10 * SECOND);
    clock.jump(HOUR);
    const steppedAt = clock.now();
    await clock.advanceAsync(SECOND);
    const runs = firedOf('forward');
    assert.equal(runs.length, 10, 'every job due by the stepped clock, once (no backfill)');
    for (const run of runs) assert.ok(run.at - steppedAt <= SECOND, `ran ${run.at - steppedAt} ms after the step`);
    assert.equal(service.get('forward', 'later')?.nextRun, T0 + 2 * HOUR, 'not due yet: untouched');
    await clock.advanceAsync(60 * SECOND);
    assert.equal(firedOf('forward').length, 20, 'then every 60 s again');
  });
});
