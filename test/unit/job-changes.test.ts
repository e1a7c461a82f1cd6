/**
 * The API's changes of a job as pure functions (job-changes.ts): where PUT anchors a job, what
 * disable remembers, and how enable resumes, as the original Dalga (v3/v4) does.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { disableJob, enableJob, putJob, triggerJob, type SlotPolicy } from '../../src/jobs/job-changes.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import type { Job } from '../../src/jobs/job.js';
import { applyOutcome, type OutcomePolicy } from '../../src/jobs/run-outcome.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T = Date.UTC(2026, 0, 15, 10, 0, 0);
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

const FIXED: SlotPolicy = { fixedIntervals: true, randomizationFactor: 0, random: Math.random };
const AFTER_COMPLETION: SlotPolicy = { ...FIXED, fixedIntervals: false };
const OUTCOMES: OutcomePolicy = { ...FIXED, retryIntervalMs: MINUTE, retryMultiplier: 2, retryMaxIntervalMs: HOUR, retryStopAfterMs: 0 };

function put(params: Record<string, string>, now = T): Job {
  return putJob('p', 'b', parseJobSpec(params), undefined, now);
}

describe('PUT anchors the job at its first slot', () => {
  test('interval: the PUT time plus one interval; first-run: that time; immediate: the PUT time', () => {
    assert.equal(iso(put({ interval: '60' }).anchor), '2026-01-15T10:01:00.000Z');
    assert.equal(iso(put({ interval: 'P1M', 'first-run': '2026-01-31T09:00:00Z' }).anchor), '2026-01-31T09:00:00.000Z');
    assert.equal(iso(put({ interval: '60', immediate: 'true' }).anchor), '2026-01-15T10:00:00.000Z');
    assert.equal(iso(put({ cron: '30 9 * * *' }).anchor), '2026-01-16T09:30:00.000Z');
  });

  test('a replaced job gets a new anchor but keeps created_at and its last run', () => {
    const old = { ...put({ interval: '60' }), lastRun: T - 5, lastStatus: 500, lastError: 'boom', createdAt: T - HOUR };
    const replaced = putJob('p', 'b', parseJobSpec({ interval: 'PT2H' }), old, T + MINUTE);
    assert.equal(replaced.anchor, T + MINUTE + 2 * HOUR);
    assert.deepEqual([replaced.lastRun, replaced.lastStatus, replaced.lastError, replaced.createdAt], [T - 5, 500, 'boom', T - HOUR]);
  });

  test('the month-end grid from the anchor: the same slots whichever ran (Jan 31 -> Feb 28 -> Mar 31 -> Apr 30)', () => {
    const job = put({ interval: 'P1M', 'first-run': '2026-01-31T09:00:00Z' }, Date.UTC(2026, 0, 30));
    const ok = (at: number) => ({ status: 200, error: null, startedAt: at, finishedAt: at });
    // Every slot runs:
    const slots: string[] = [];
    let current = job;
    for (let i = 0; i < 3; i++) {
      const next = applyOutcome(current, ok(current.nextSched), OUTCOMES);
      assert.equal(next.kind, 'update');
      current = (next as { job: Job }).job;
      slots.push(iso(current.nextSched) as string);
    }
    assert.deepEqual(slots, ['2026-02-28T09:00:00.000Z', '2026-03-31T09:00:00.000Z', '2026-04-30T09:00:00.000Z']);
    // The server was down from Feb 1 to Apr 1: the Jan 31 run's outcome lands on Apr 30, not Apr 28.
    const late = applyOutcome(job, ok(Date.UTC(2026, 3, 1)), OUTCOMES);
    assert.equal(iso((late as { job: Job }).job.nextSched), '2026-04-30T09:00:00.000Z');
  });

  test('PATCH and POST keep the anchor', () => {
    const job = put({ interval: 'P1M', 'first-run': '2026-01-31T09:00:00Z' });
    assert.equal(disableJob(job, T).anchor, job.anchor);
    assert.equal(enableJob(disableJob(job, T), T + 1, FIXED).anchor, job.anchor);
    assert.equal(triggerJob(job, T).anchor, job.anchor);
  });
});

describe('enable, as the original Dalga does', () => {
  // Every 10 minutes from 10:10; a run failed at 10:10 and its retry waits until 10:12.
  const periodic = put({ interval: '600' });
  const retrying: Job = { ...periodic, attempts: 1, failingSince: T + 10 * MINUTE, nextRun: T + 12 * MINUTE };

  test('fixed intervals: what was missed is skipped; the job resumes at its next regular slot after now', () => {
    const disabled = disableJob(periodic, T + MINUTE);
    const enabled = enableJob(disabled, T + 35 * MINUTE, FIXED);
    assert.equal(iso(enabled.nextRun), '2026-01-15T10:40:00.000Z', 'the 10:10, 10:20 and 10:30 slots are skipped');
    assert.equal(enabled.nextSched, enabled.nextRun);
    assert.equal(enabled.pausedRun, null);
  });

  test('fixed intervals: a pending retry is dropped; the job resumes at its next slot with a fresh count', () => {
    const enabled = enableJob(disableJob(retrying, T + 11 * MINUTE), T + 11 * MINUTE + 30_000, FIXED);
    assert.equal(iso(enabled.nextRun), '2026-01-15T10:20:00.000Z');
    assert.deepEqual([enabled.attempts, enabled.failingSince], [0, null]);
  });

  test('fixed intervals: a slot exactly now runs now', () => {
    const enabled = enableJob(disableJob(periodic, T), T + 20 * MINUTE, FIXED);
    assert.equal(enabled.nextRun, T + 20 * MINUTE);
  });

  test('a one-off job that came due while disabled runs at once; one not due yet keeps its time', () => {
    const oneOff = put({ 'one-off': 'true', interval: '600' });
    assert.equal(enableJob(disableJob(oneOff, T), T + HOUR, FIXED).nextRun, T + HOUR);
    assert.equal(enableJob(disableJob(oneOff, T), T + MINUTE, FIXED).nextRun, T + 10 * MINUTE);
    assert.equal(enableJob(disableJob(oneOff, T), T + HOUR, AFTER_COMPLETION).nextRun, T + HOUR);
  });

  test('fixed_intervals = false: a pending retry keeps its time and attempt count', () => {
    const enabled = enableJob(disableJob(retrying, T + 11 * MINUTE), T + 11 * MINUTE + 30_000, AFTER_COMPLETION);
    assert.equal(iso(enabled.nextRun), '2026-01-15T10:12:00.000Z');
    assert.equal(enabled.attempts, 1, 'the next attempt is the second');
    assert.equal(enabled.failingSince, null, 'retry_stop_after counts afresh');
  });

  test('fixed_intervals = false: a retry or next run that passed while disabled runs at once', () => {
    assert.equal(enableJob(disableJob(retrying, T + 11 * MINUTE), T + HOUR, AFTER_COMPLETION).nextRun, T + HOUR);
    assert.equal(enableJob(disableJob(periodic, T + MINUTE), T + HOUR, AFTER_COMPLETION).nextRun, T + HOUR);
  });

  test('a job disabled by retry_stop_after resumes at the retry it would have made (fixed_intervals = false)', () => {
    const policy: OutcomePolicy = { ...OUTCOMES, fixedIntervals: false, retryStopAfterMs: 5 * MINUTE };
    const failing: Job = { ...retrying, nextRun: T + 20 * MINUTE, failingSince: T + 10 * MINUTE };
    const after = applyOutcome(
      failing,
      { status: 500, error: 'endpoint answered 500', startedAt: T + 20 * MINUTE, finishedAt: T + 20 * MINUTE },
      policy,
    );
    const stopped = (after as { job: Job }).job;
    assert.equal(stopped.nextRun, null, 'disabled: failing for longer than 5 min');
    assert.equal(iso(stopped.pausedRun), '2026-01-15T10:22:00.000Z', 'the second retry: 2 minutes later');
    assert.equal(enableJob(stopped, T + 21 * MINUTE, AFTER_COMPLETION).nextRun, T + 22 * MINUTE);
  });

  test('disable remembers the run it was waiting for; enabling an enabled job is not this function (the service returns it as is)', () => {
    assert.equal(disableJob(retrying, T).pausedRun, T + 12 * MINUTE);
    assert.equal(disableJob(retrying, T).nextRun, null);
  });
});
