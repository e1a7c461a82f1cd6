/**
 * applyOutcome: the job after one callback, as a pure function of (job, result, policy), with
 * explicit times. SPEC.md "Callbacks": 200 -> next slot (fixed-rate by default) or delete a one-off;
 * 204 -> delete; anything else -> retry with exponential backoff, never moving next_sched, and
 * disabled (not lost) once the served slot has been failing longer than retry_stop_after.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DateTime } from 'luxon';
import type { Job } from '../../src/jobs/job.js';
import { applyOutcome, type NextState, type OutcomePolicy, type RunResult } from '../../src/jobs/run-outcome.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

const ms = (iso: string): number => {
  const parsed = DateTime.fromISO(iso, { setZone: true });
  assert.ok(parsed.isValid, `test data: ${iso}`);
  return parsed.toMillis();
};
const utc = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
const local = (t: number, zone: string): string =>
  DateTime.fromMillis(t, { zone }).toISO({ suppressMilliseconds: true, includeOffset: true }) as string;

/** The served slot of most cases. */
const T = ms('2026-01-15T10:00:00Z');
const CREATED = ms('2026-01-01T00:00:00Z');

function job(overrides: Partial<Job> = {}): Job {
  return {
    path: 'p',
    body: 'b',
    interval: '60',
    cron: null,
    location: 'UTC',
    oneOff: false,
    nextRun: T,
    nextSched: T,
    pausedRun: null,
    triggeredAt: null,
    attempts: 0,
    failingSince: null,
    lastRun: null,
    lastStatus: null,
    lastError: null,
    createdAt: CREATED,
    updatedAt: CREATED,
    // A job on the grid of its served slot unless a test says otherwise.
    anchor: overrides.nextSched ?? T,
    ...overrides,
  };
}

function ok(startedAt: number, finishedAt = startedAt + 50): RunResult {
  return { status: 200, error: null, startedAt, finishedAt };
}
function gone(startedAt: number, finishedAt = startedAt + 50): RunResult {
  return { status: 204, error: null, startedAt, finishedAt };
}
function failed(status: number | null, startedAt: number, finishedAt = startedAt + 50): RunResult {
  return { status, error: status === null ? 'timeout: no answer within 10000 ms' : `endpoint answered ${status}`, startedAt, finishedAt };
}

const noRandom = (): number => {
  throw new Error('random() must not be called without randomization');
};

function policy(overrides: Partial<OutcomePolicy> = {}): OutcomePolicy {
  return {
    retryIntervalMs: 1_000,
    retryMultiplier: 2,
    retryMaxIntervalMs: 8_000,
    retryStopAfterMs: 0,
    fixedIntervals: true,
    randomizationFactor: 0,
    random: noRandom,
    ...overrides,
  };
}

function updated(state: NextState): Job {
  assert.equal(state.kind, 'update', `expected an update, got ${JSON.stringify(state)}`);
  return (state as Extract<NextState, { kind: 'update' }>).job;
}

/** The fields a run never changes. */
function assertIdentityKept(before: Job, after: Job): void {
  for (const key of ['path', 'body', 'interval', 'cron', 'location', 'oneOff', 'createdAt'] as const) {
    assert.deepEqual(after[key], before[key], `${key} is kept`);
  }
}

describe('200 on a periodic job: fixed-rate next slot', () => {
  // [what, interval, previous slot (served), finishedAt, expected next slot]
  const cases: Array<[string, string, string, string, string]> = [
    ['on time: slot + interval', '60', '2026-01-15T10:00:00Z', '2026-01-15T10:00:00.050Z', '2026-01-15T10:01:00.000Z'],
    ['slow answer, still within the interval', '60', '2026-01-15T10:00:00Z', '2026-01-15T10:00:59.999Z', '2026-01-15T10:01:00.000Z'],
    ['finished exactly on the next slot: that slot', '60', '2026-01-15T10:00:00Z', '2026-01-15T10:01:00Z', '2026-01-15T10:01:00.000Z'],
    ['one slot missed: skipped, no backfill', '60', '2026-01-15T10:00:00Z', '2026-01-15T10:01:00.001Z', '2026-01-15T10:02:00.000Z'],
    ['many slots missed: the first slot not yet past, on the grid', '60', '2026-01-15T10:00:00Z', '2026-01-15T10:05:30Z', '2026-01-15T10:06:00.000Z'],
    ['a day late on a 1 s interval', '1', '2026-01-15T10:00:00Z', '2026-01-16T10:00:00.400Z', '2026-01-16T10:00:01.000Z'],
    ['ISO PT1S', 'PT1S', '2026-01-15T10:00:00Z', '2026-01-15T10:00:00.020Z', '2026-01-15T10:00:01.000Z'],
    ['ISO PT1H30M', 'PT1H30M', '2026-01-15T10:00:00Z', '2026-01-15T10:00:01Z', '2026-01-15T11:30:00.000Z'],
    ['ISO PT0.5S, late', 'PT0.5S', '2026-01-15T10:00:00Z', '2026-01-15T10:00:01.2Z', '2026-01-15T10:00:01.500Z'],
    ['P1M from Jan 31 clamps', 'P1M', '2026-01-31T10:00:00Z', '2026-01-31T10:00:01Z', '2026-02-28T10:00:00.000Z'],
    ['a slot with milliseconds keeps them', '60', '2026-01-15T10:00:00.123Z', '2026-01-15T10:00:00.200Z', '2026-01-15T10:01:00.123Z'],
  ];
  for (const [what, interval, slot, finished, expected] of cases) {
    test(`${what} (${interval})`, () => {
      const before = job({ interval, nextSched: ms(slot), nextRun: ms(slot) });
      const result = ok(ms(slot) + 3, ms(finished));
      const after = updated(applyOutcome(before, result, policy()));
      assert.equal(utc(after.nextSched), expected, 'next_sched');
      assert.equal(utc(after.nextRun), expected, 'next_run = next_sched without randomization');
      assert.equal(after.attempts, 0);
      assert.equal(after.triggeredAt, null);
      assert.equal(after.lastRun, result.startedAt);
      assert.equal(after.lastStatus, 200);
      assert.equal(after.lastError, null);
      assert.equal(after.updatedAt, result.finishedAt);
      assertIdentityKept(before, after);
    });
  }

  test('after failed attempts: attempts reset, the slot after the one that failed, not after the retry', () => {
    const before = job({ attempts: 3, nextRun: T + 7_000, lastStatus: 500, lastError: 'endpoint answered 500' });
    const after = updated(applyOutcome(before, ok(T + 7_000, T + 7_040), policy()));
    assert.equal(after.attempts, 0);
    assert.equal(after.nextSched, T + MINUTE);
    assert.equal(after.nextRun, T + MINUTE);
    assert.equal(after.lastStatus, 200);
    assert.equal(after.lastError, null, 'a success clears the last error');
  });

  test('the input job is not modified', () => {
    const before = job();
    const copy = structuredClone(before);
    applyOutcome(before, ok(T), policy());
    applyOutcome(before, failed(500, T), policy());
    assert.deepEqual(before, copy);
  });

  test('cron: the next occurrence after the served slot', () => {
    const before = job({ interval: null, cron: '*/15 * * * *', nextSched: ms('2026-01-15T10:15:00Z'), nextRun: ms('2026-01-15T10:15:00Z') });
    assert.equal(utc(updated(applyOutcome(before, ok(ms('2026-01-15T10:15:00Z')), policy())).nextSched), '2026-01-15T10:30:00.000Z');
    // Late: the first occurrence not yet past; no backfill.
    const late = updated(applyOutcome(before, ok(ms('2026-01-15T11:07:00Z')), policy()));
    assert.equal(utc(late.nextSched), '2026-01-15T11:15:00.000Z');
  });

  test('a six-field cron: whole seconds', () => {
    const slot = ms('2026-01-15T10:00:05Z');
    const before = job({ interval: null, cron: '* * * * * *', nextSched: slot, nextRun: slot });
    const after = updated(applyOutcome(before, ok(slot + 2, slot + 30), policy()));
    assert.equal(utc(after.nextSched), '2026-01-15T10:00:06.000Z');
  });

  test('a first slot off the grid (first-run) continues from itself', () => {
    const slot = ms('2026-01-15T10:00:07.500Z');
    const after = updated(applyOutcome(job({ nextSched: slot, nextRun: slot }), ok(slot), policy()));
    assert.equal(utc(after.nextSched), '2026-01-15T10:01:07.500Z');
  });
});

describe('200 and 204: deletes', () => {
  test('200 on a one-off job deletes it', () => {
    const oneOff = job({ interval: null, oneOff: true });
    assert.deepEqual(applyOutcome(oneOff, ok(T), policy()), { kind: 'delete' });
  });
  test('200 on a triggered one-off job deletes it', () => {
    const oneOff = job({ interval: null, oneOff: true, triggeredAt: T - 5_000, nextRun: T - 5_000, nextSched: T + HOUR });
    assert.deepEqual(applyOutcome(oneOff, ok(T), policy()), { kind: 'delete' });
  });
  test('200 on a one-off job after failures deletes it', () => {
    const oneOff = job({ interval: null, oneOff: true, attempts: 4 });
    assert.deepEqual(applyOutcome(oneOff, ok(T + 20_000), policy()), { kind: 'delete' });
  });
  for (const [what, j] of [
    ['periodic', job()],
    ['cron', job({ interval: null, cron: '0 9 * * *' })],
    ['one-off', job({ interval: null, oneOff: true })],
    ['periodic, retrying', job({ attempts: 5, nextRun: T + 31_000 })],
    ['triggered', job({ triggeredAt: T, nextSched: T + HOUR })],
  ] as const) {
    test(`204 deletes a ${what} job`, () => {
      assert.deepEqual(applyOutcome(j, gone(T), policy()), { kind: 'delete' });
    });
  }
});

describe('failures: exponential backoff from the end of the attempt; next_sched never moves', () => {
  for (const status of [500, 503, 404, 400, 201, 202, 302, 429, null]) {
    test(`status ${status} is a failure`, () => {
      const before = job();
      const result = failed(status, T + 2, T + 120);
      const after = updated(applyOutcome(before, result, policy()));
      assert.equal(after.attempts, 1);
      assert.equal(after.nextRun, T + 120 + 1_000, 'finishedAt + retry_interval');
      assert.equal(after.nextSched, T, 'the regular slot stays');
      assert.equal(after.triggeredAt, null);
      assert.equal(after.lastStatus, status);
      assert.equal(after.lastError, result.error);
      assert.equal(after.lastRun, T + 2);
      assert.equal(after.updatedAt, T + 120);
      assertIdentityKept(before, after);
    });
  }

  test('the delays double up to retry_max_interval: 1, 2, 4, 8, 8, 8 s', () => {
    let current = job();
    const delays: number[] = [];
    let at = T;
    for (let i = 0; i < 6; i++) {
      const finished = at + 30;
      current = updated(applyOutcome(current, failed(500, at, finished), policy()));
      assert.equal(current.attempts, i + 1);
      assert.equal(current.nextSched, T, `next_sched after ${i + 1} failures`);
      delays.push((current.nextRun as number) - finished);
      at = current.nextRun as number;
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  test('retries go on past the next regular slot without moving next_sched, then success skips what is past', () => {
    let current = job({ attempts: 20, nextRun: T + 5 * MINUTE });
    current = updated(applyOutcome(current, failed(500, T + 5 * MINUTE), policy()));
    assert.equal(current.nextSched, T);
    assert.equal(current.attempts, 21);
    const after = updated(applyOutcome(current, ok(current.nextRun as number, (current.nextRun as number) + 10), policy()));
    assert.equal(utc(after.nextSched), utc(T + 6 * MINUTE), 'slot after now on the original grid');
  });

  test('a multiplier of 1 retries at a constant interval', () => {
    const after = updated(applyOutcome(job({ attempts: 9 }), failed(500, T, T + 10), policy({ retryMultiplier: 1 })));
    assert.equal(after.nextRun, T + 10 + 1_000);
  });

  test('a one-off job is retried too (not deleted on failure)', () => {
    const after = updated(applyOutcome(job({ interval: null, oneOff: true }), failed(500, T), policy()));
    assert.equal(after.oneOff, true);
    assert.equal(after.attempts, 1);
    assert.equal(after.nextRun, T + 50 + 1_000);
  });

  test('randomization never applies to retries', () => {
    const after = updated(applyOutcome(job(), failed(500, T), policy({ randomizationFactor: 1 })));
    assert.equal(after.nextRun, T + 50 + 1_000);
  });
});

describe('retry_stop_after: a slot failing longer than it disables the job, which is kept', () => {
  const stop = policy({ retryStopAfterMs: 10_000 });

  test('within the limit: retried', () => {
    const after = updated(applyOutcome(job({ attempts: 3 }), failed(500, T + 9_900, T + 9_999), stop));
    assert.equal(after.attempts, 4);
    assert.notEqual(after.nextRun, null);
  });

  test('exactly at the limit: still retried (longer than, not as long as)', () => {
    const after = updated(applyOutcome(job({ attempts: 3 }), failed(500, T + 9_900, T + 10_000), stop));
    assert.notEqual(after.nextRun, null);
  });

  test('past the limit: disabled, with attempts and the last error kept', () => {
    const before = job({ attempts: 4, nextRun: T + 10_000 });
    const result = failed(503, T + 10_000, T + 10_001);
    const after = updated(applyOutcome(before, result, stop));
    assert.equal(after.nextRun, null, 'disabled');
    assert.equal(after.attempts, 5);
    assert.equal(after.lastStatus, 503);
    assert.equal(after.lastError, 'endpoint answered 503');
    assert.equal(after.lastRun, T + 10_000);
    assert.equal(after.nextSched, T, 'the slot it gave up on stays recorded');
    assertIdentityKept(before, after);
  });

  test('a timeout past the limit disables too', () => {
    const after = updated(applyOutcome(job({ attempts: 1 }), failed(null, T + 1_000, T + 11_000), stop));
    assert.equal(after.nextRun, null);
    assert.equal(after.lastStatus, null);
    assert.match(after.lastError as string, /timeout/);
  });

  test('a one-off job is disabled, not deleted', () => {
    const state = applyOutcome(job({ interval: null, oneOff: true, attempts: 6 }), failed(500, T + 20_000), stop);
    assert.equal(updated(state).nextRun, null);
  });

  test('the walk: 1, 2, 4 s retries, then disabled at the first failure past 10 s', () => {
    let current = job();
    let at = T;
    const retriesAt: number[] = [];
    for (let i = 0; i < 10 && current.nextRun !== null; i++) {
      current = updated(applyOutcome(current, failed(500, at, at + 10), stop));
      if (current.nextRun !== null) {
        retriesAt.push(current.nextRun - T);
        at = current.nextRun;
      }
    }
    // Failures end at +10, +1020, +3030, +7040, +15050 ms: the fifth is past 10 s.
    assert.deepEqual(retriesAt, [1_010, 3_020, 7_030, 15_040]);
    assert.equal(current.nextRun, null);
    assert.equal(current.attempts, 5);
  });

  test('the window starts at the first failed attempt, is kept across retries, and is cleared by a success', () => {
    // A slot whose first attempt comes late (the job was disabled, or the server was down) still gets the whole window.
    const late = updated(applyOutcome(job(), failed(500, T + 60_000, T + 60_010), stop));
    assert.equal(late.failingSince, T + 60_000);
    assert.notEqual(late.nextRun, null);
    const retried = updated(applyOutcome(late, failed(500, T + 65_000, T + 65_010), stop));
    assert.equal(retried.failingSince, T + 60_000, 'kept across retries');
    assert.notEqual(retried.nextRun, null);
    const stopped = updated(applyOutcome(retried, failed(500, T + 70_005, T + 70_011), stop));
    assert.equal(stopped.nextRun, null, 'more than 10 s after the first failure');
    const recovered = updated(applyOutcome(retried, ok(T + 66_000), stop));
    assert.equal(recovered.failingSince, null);
    assert.equal(recovered.attempts, 0);
  });

  test('0 means retry forever', () => {
    const after = updated(applyOutcome(job({ attempts: 10_000 }), failed(500, T + 365 * 24 * HOUR), policy({ retryStopAfterMs: 0 })));
    assert.notEqual(after.nextRun, null);
  });

  test('a triggered run counts from the trigger, not from next_sched', () => {
    // attempts > 0 and no failing_since: a row from before that column, which counts from the served slot.
    const triggered = job({ triggeredAt: T, nextRun: T, nextSched: T + HOUR, attempts: 2 });
    assert.notEqual(updated(applyOutcome(triggered, failed(500, T + 9_000, T + 9_500), stop)).nextRun, null);
    const after = updated(applyOutcome(triggered, failed(500, T + 10_000, T + 10_500), stop));
    assert.equal(after.nextRun, null);
    assert.equal(after.nextSched, T + HOUR);
  });

  test('success within the limit: back to the slots, attempts reset', () => {
    const after = updated(applyOutcome(job({ attempts: 4 }), ok(T + 9_000), stop));
    assert.equal(after.attempts, 0);
    assert.equal(after.nextRun, T + MINUTE);
  });
});

describe('triggered runs (POST): success goes back to the regular slot', () => {
  test('success: next_run back to next_sched, triggered_at cleared, attempts 0', () => {
    const before = job({ triggeredAt: T, nextRun: T, nextSched: T + 45 * SECOND });
    const after = updated(applyOutcome(before, ok(T + 3, T + 40), policy()));
    assert.equal(after.nextRun, T + 45 * SECOND);
    assert.equal(after.nextSched, T + 45 * SECOND);
    assert.equal(after.triggeredAt, null);
    assert.equal(after.attempts, 0);
    assert.equal(after.lastStatus, 200);
    assert.equal(after.lastRun, T + 3);
  });

  test('success after failed attempts of the triggered run', () => {
    const before = job({ triggeredAt: T, nextRun: T + 3_000, nextSched: T + HOUR, attempts: 2 });
    const after = updated(applyOutcome(before, ok(T + 3_000), policy()));
    assert.equal(after.nextRun, T + HOUR);
    assert.equal(after.attempts, 0);
    assert.equal(after.triggeredAt, null);
  });

  test('a regular slot that passed meanwhile is still served (once)', () => {
    const before = job({ triggeredAt: T, nextRun: T + 30_000, nextSched: T + 10_000, attempts: 4 });
    const after = updated(applyOutcome(before, ok(T + 30_000), policy()));
    assert.equal(after.nextRun, T + 10_000, 'due at once, serving its slot');
    assert.equal(after.nextSched, T + 10_000);
  });

  test('failure: retried with backoff, still serving the trigger; next_sched unchanged', () => {
    const before = job({ triggeredAt: T, nextRun: T, nextSched: T + HOUR });
    const after = updated(applyOutcome(before, failed(500, T, T + 20), policy()));
    assert.equal(after.triggeredAt, T);
    assert.equal(after.nextSched, T + HOUR);
    assert.equal(after.nextRun, T + 20 + 1_000);
    assert.equal(after.attempts, 1);
  });

  test('cron job triggered: back to its next occurrence', () => {
    const next = ms('2026-01-15T11:00:00Z');
    const before = job({ interval: null, cron: '0 * * * *', triggeredAt: T + 5 * MINUTE, nextRun: T + 5 * MINUTE, nextSched: next });
    assert.equal(updated(applyOutcome(before, ok(T + 5 * MINUTE), policy())).nextRun, next);
  });
});

describe('fixed_intervals = false: interval after completion', () => {
  const afterCompletion = policy({ fixedIntervals: false });

  test('seconds: finishedAt + interval', () => {
    const after = updated(applyOutcome(job(), ok(T + 10, T + 2_345), afterCompletion));
    assert.equal(after.nextSched, T + 2_345 + MINUTE);
    assert.equal(after.nextRun, T + 2_345 + MINUTE);
  });

  test('late: from the completion, not on the old grid', () => {
    const after = updated(applyOutcome(job(), ok(T + 5 * MINUTE + 17_000), afterCompletion));
    assert.equal(after.nextSched, T + 5 * MINUTE + 17_050 + MINUTE);
  });

  test('P1D in Europe/Berlin: a local day after completion', () => {
    const done = ms('2026-03-28T21:15:00+01:00');
    const after = updated(applyOutcome(job({ interval: 'P1D', location: 'Europe/Berlin' }), ok(done - 50, done), afterCompletion));
    assert.equal(local(after.nextSched, 'Europe/Berlin'), '2026-03-29T21:15:00+02:00');
  });

  test('cron: the first occurrence after completion', () => {
    const slot = ms('2026-01-15T10:15:00Z');
    const before = job({ interval: null, cron: '*/15 * * * *', nextSched: slot, nextRun: slot });
    const after = updated(applyOutcome(before, ok(slot, ms('2026-01-15T10:31:00Z')), afterCompletion));
    assert.equal(utc(after.nextSched), '2026-01-15T10:45:00.000Z');
  });

  test('failures still back off and keep next_sched', () => {
    const after = updated(applyOutcome(job(), failed(500, T), afterCompletion));
    assert.equal(after.nextSched, T);
    assert.equal(after.nextRun, T + 50 + 1_000);
  });
});

describe('randomization_factor: next_run spread after the slot, next_sched not', () => {
  const randomized = (factor: number, value: number) => policy({ randomizationFactor: factor, random: () => value });

  // [factor, random(), expected offset of next_run from the next slot (interval 60 s)]
  const cases: Array<[number, number, number]> = [
    [0.5, 0, 0],
    [0.5, 0.5, 15_000],
    [0.5, 0.999999, 29_999],
    [1, 0.25, 15_000],
    [1, 0.9999999, 59_999], // stays before the following slot
    [0.1, 0.5, 3_000],
  ];
  for (const [factor, value, offset] of cases) {
    test(`factor ${factor}, random ${value}: +${offset} ms`, () => {
      const after = updated(applyOutcome(job(), ok(T), randomized(factor, value)));
      assert.equal(after.nextSched, T + MINUTE, 'the regular slot is not randomized');
      assert.equal(after.nextRun, T + MINUTE + offset);
    });
  }

  test('the next slot comes from next_sched, not the randomized next_run (no drift)', () => {
    const before = job({ nextSched: T, nextRun: T + 15_000 });
    const after = updated(applyOutcome(before, ok(T + 15_000), randomized(0.5, 0)));
    assert.equal(after.nextSched, T + MINUTE);
  });

  test('random() is called once per success', () => {
    let calls = 0;
    const random = () => {
      calls++;
      return 0.5;
    };
    applyOutcome(job(), ok(T), policy({ randomizationFactor: 0.5, random }));
    assert.equal(calls, 1);
  });

  test('cron: spread by up to the factor of the distance to the following occurrence', () => {
    const slot = ms('2026-01-15T10:00:00Z');
    const before = job({ interval: null, cron: '*/10 * * * *', nextSched: slot, nextRun: slot });
    const after = updated(applyOutcome(before, ok(slot), randomized(0.5, 0.5)));
    assert.equal(utc(after.nextSched), '2026-01-15T10:10:00.000Z');
    assert.equal(utc(after.nextRun), '2026-01-15T10:12:30.000Z');
  });
});

describe('DST: calendar intervals and cron keep local time', () => {
  /** Runs `count` successful callbacks, each answering 100 ms after its slot; returns the slots served after the first. */
  function walk(start: Job, count: number, p = policy()): number[] {
    const slots: number[] = [];
    let current = start;
    for (let i = 0; i < count; i++) {
      const slot = current.nextRun as number;
      current = updated(applyOutcome(current, ok(slot + 5, slot + 100), p));
      slots.push(current.nextSched);
    }
    return slots;
  }

  test('P1D in Europe/Berlin across 2026-03-29 (spring forward): 09:00 every day', () => {
    const first = ms('2026-03-27T09:00:00+01:00');
    const slots = walk(job({ interval: 'P1D', location: 'Europe/Berlin', nextSched: first, nextRun: first }), 3);
    assert.deepEqual(
      slots.map((s) => local(s, 'Europe/Berlin')),
      ['2026-03-28T09:00:00+01:00', '2026-03-29T09:00:00+02:00', '2026-03-30T09:00:00+02:00'],
    );
    assert.equal(slots[1] - slots[0], 23 * HOUR, 'the short day');
  });

  test('P1D in Europe/Berlin across 2026-10-25 (fall back): 09:00 every day', () => {
    const first = ms('2026-10-23T09:00:00+02:00');
    const slots = walk(job({ interval: 'P1D', location: 'Europe/Berlin', nextSched: first, nextRun: first }), 3);
    assert.deepEqual(
      slots.map((s) => local(s, 'Europe/Berlin')),
      ['2026-10-24T09:00:00+02:00', '2026-10-25T09:00:00+01:00', '2026-10-26T09:00:00+01:00'],
    );
    assert.equal(slots[1] - slots[0], 25 * HOUR, 'the long day');
  });

  test('P1D in Europe/Berlin, slots missed across the change: next 09:00 local', () => {
    const first = ms('2026-03-27T09:00:00+01:00');
    const before = job({ interval: 'P1D', location: 'Europe/Berlin', nextSched: first, nextRun: first });
    const after = updated(applyOutcome(before, ok(ms('2026-03-30T08:00:00+02:00')), policy()));
    assert.equal(local(after.nextSched, 'Europe/Berlin'), '2026-03-30T09:00:00+02:00');
  });

  test('P1D in UTC is not affected by Berlin DST', () => {
    const first = ms('2026-03-28T08:00:00Z');
    const slots = walk(job({ interval: 'P1D', location: 'UTC', nextSched: first, nextRun: first }), 2);
    assert.deepEqual(slots.map(utc), ['2026-03-29T08:00:00.000Z', '2026-03-30T08:00:00.000Z']);
  });

  test('PT24H in Europe/Berlin is elapsed time: 10:00 local after the change', () => {
    const first = ms('2026-03-28T09:00:00+01:00');
    const slots = walk(job({ interval: 'PT24H', location: 'Europe/Berlin', nextSched: first, nextRun: first }), 1);
    assert.equal(local(slots[0], 'Europe/Berlin'), '2026-03-29T10:00:00+02:00');
  });

  test('cron 0 9 * * * in America/New_York across 2026-03-08: 09:00 local every day', () => {
    const first = ms('2026-03-06T09:00:00-05:00');
    const slots = walk(job({ interval: null, cron: '0 9 * * *', location: 'America/New_York', nextSched: first, nextRun: first }), 3);
    assert.deepEqual(
      slots.map((s) => local(s, 'America/New_York')),
      ['2026-03-07T09:00:00-05:00', '2026-03-08T09:00:00-04:00', '2026-03-09T09:00:00-04:00'],
    );
  });

  test('cron 30 2 * * * in America/New_York: the missing 02:30 of 2026-03-08 runs once, at 03:30 EDT', () => {
    const first = ms('2026-03-07T02:30:00-05:00');
    const slots = walk(job({ interval: null, cron: '30 2 * * *', location: 'America/New_York', nextSched: first, nextRun: first }), 2);
    assert.deepEqual(
      slots.map((s) => local(s, 'America/New_York')),
      ['2026-03-08T03:30:00-04:00', '2026-03-09T02:30:00-04:00'],
    );
  });

  test('cron 0 * * * * in America/New_York: hourly in elapsed time across the gap', () => {
    const first = ms('2026-03-08T00:00:00-05:00');
    const slots = walk(job({ interval: null, cron: '0 * * * *', location: 'America/New_York', nextSched: first, nextRun: first }), 3);
    assert.deepEqual(
      slots.map((s) => local(s, 'America/New_York')),
      ['2026-03-08T01:00:00-05:00', '2026-03-08T03:00:00-04:00', '2026-03-08T04:00:00-04:00'],
    );
    assert.equal(slots[1] - slots[0], HOUR);
  });

  test('cron 0 9 * * * in America/New_York, late across the change: no backfill', () => {
    const first = ms('2026-03-06T09:00:00-05:00');
    const before = job({ interval: null, cron: '0 9 * * *', location: 'America/New_York', nextSched: first, nextRun: first });
    const after = updated(applyOutcome(before, ok(ms('2026-03-08T12:00:00-04:00')), policy()));
    assert.equal(local(after.nextSched, 'America/New_York'), '2026-03-09T09:00:00-04:00');
  });
});
