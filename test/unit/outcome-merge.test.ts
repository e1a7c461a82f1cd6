/**
 * mergeOutcome: what a run's outcome may change when a PUT, PATCH or POST changed the job while
 * its callback was in flight, as a pure function with explicit times.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { putJob, triggerJob, disableJob } from '../../src/jobs/job-changes.js';
import type { Job } from '../../src/jobs/job.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import { mergeOutcome, type OutcomeMerge } from '../../src/jobs/outcome-merge.js';
import { applyOutcome, type OutcomePolicy, type RunResult } from '../../src/jobs/run-outcome.js';
import { servedSlot } from '../../src/jobs/job.js';

const T = Date.UTC(2026, 0, 15, 10, 0, 0);
const POLICY: OutcomePolicy = {
  retryIntervalMs: 200,
  retryMultiplier: 2,
  retryMaxIntervalMs: 1_000,
  retryStopAfterMs: 0,
  fixedIntervals: true,
  randomizationFactor: 0,
  random: Math.random,
};

/** A job every second whose slot T is due: PUT at T - 1 s. */
const due: Job = putJob('every', 'k40', parseJobSpec({ interval: '1' }), undefined, T - 1_000);
const ok = (at: number): RunResult => ({ status: 200, error: null, startedAt: at, finishedAt: at + 30 });
const failed = (at: number): RunResult => ({ status: 500, error: 'endpoint answered 500', startedAt: at, finishedAt: at + 30 });

function updated(merge: OutcomeMerge): Job {
  assert.equal(merge.kind, 'update');
  return (merge as { job: Job }).job;
}

describe('mergeOutcome', () => {
  test('nothing changed during the flight: the outcome as applyOutcome gives it', () => {
    for (const result of [ok(T), failed(T)]) {
      assert.deepEqual(mergeOutcome(due, due, false, result, POLICY), applyOutcome(due, result, POLICY));
    }
  });

  test('a PUT during the flight: the run is recorded, the new schedule stands', () => {
    const replaced = putJob('every', 'k40', parseJobSpec({ interval: '3600' }), due, T + 10);
    const merge = mergeOutcome(due, replaced, true, failed(T), POLICY);
    assert.equal(merge.kind, 'record-last-run');
    const job = (merge as { job: Job }).job;
    assert.deepEqual({ ...job, lastRun: null, lastStatus: null, lastError: null }, { ...replaced, lastRun: null, lastStatus: null, lastError: null });
    assert.deepEqual([job.lastRun, job.lastStatus, job.lastError], [T, 500, 'endpoint answered 500']);
  });

  test('a 204 deletes the job even if it was disabled during the flight', () => {
    assert.deepEqual(mergeOutcome(due, disableJob(due, T + 10), true, { ...ok(T), status: 204 }, POLICY), { kind: 'delete' });
  });

  test('disabled during the flight: the slot moves on, and the job stays disabled', () => {
    const job = updated(mergeOutcome(due, disableJob(due, T + 10), true, ok(T), POLICY));
    assert.equal(job.nextRun, null);
    assert.equal(job.nextSched, T + 1_000);
    assert.equal(job.pausedRun, T + 1_000);
  });

  test('triggered during a run that succeeds: the extra run comes right after, then the regular slots', () => {
    const triggered = triggerJob(due, T + 5);
    const job = updated(mergeOutcome(due, triggered, true, ok(T), POLICY));
    assert.deepEqual([job.triggeredAt, job.nextRun, job.nextSched, job.attempts], [T + 5, T + 5, T + 1_000, 0]);
    assert.equal(servedSlot(job), T + 5);
    const afterExtra = updated(applyOutcome(job, ok(T + 40), POLICY));
    assert.deepEqual([afterExtra.triggeredAt, afterExtra.nextRun], [null, T + 1_000]);
  });

  test('triggered during a run that fails: the trigger is the retry, now; the slot is never delivered twice', () => {
    const triggered = triggerJob(due, T + 5);
    const job = updated(mergeOutcome(due, triggered, true, failed(T), POLICY));
    // Dalga-Sched stays the failed slot with the next attempt, at the trigger's time.
    assert.deepEqual([servedSlot(job), job.attempts + 1, job.nextRun, job.triggeredAt], [T, 2, T + 5, null]);
    // That retry succeeding moves the job on to the next slot, not back to attempt 1 of slot T.
    const afterRetry = updated(applyOutcome(job, ok(T + 40), POLICY));
    assert.deepEqual([afterRetry.nextSched, afterRetry.attempts], [T + 1_000, 0]);
  });

  test('the wall clock stepped back during the flight: the next slot of an elapsed interval moves with it', () => {
    const job = updated(mergeOutcome(due, due, false, ok(T), POLICY, -60_000));
    assert.equal(job.nextSched, T + 1_000 - 60_000);
  });
});
