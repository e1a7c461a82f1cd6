/**
 * The console's "next slots" of a job (job-slots.ts): the scheduler's own arithmetic, from the
 * slot it waits for (enabled) or from where enabling would resume it (disabled).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { disableJob, putJob } from '../../src/jobs/job-changes.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import { upcomingSlots } from '../../src/jobs/job-slots.js';
import type { Job } from '../../src/jobs/job.js';

const MINUTE = 60_000;
const T = Date.UTC(2026, 0, 15, 10, 0, 0);
const iso = (times: number[]) => times.map((t) => new Date(t).toISOString());

function put(params: Record<string, string>, now = T): Job {
  return putJob('p', 'b', parseJobSpec(params), undefined, now);
}

describe('upcomingSlots', () => {
  test('interval: next_sched and the following slots of the anchor grid', () => {
    assert.deepEqual(iso(upcomingSlots(put({ interval: '60' }), 3, T, true)), [
      '2026-01-15T10:01:00.000Z',
      '2026-01-15T10:02:00.000Z',
      '2026-01-15T10:03:00.000Z',
    ]);
  });

  test('calendar interval from a month-end anchor: Jan 31, Feb 28, Mar 31, Apr 30', () => {
    const job = put({ interval: 'P1M', 'first-run': '2026-01-31T09:00:00Z' });
    assert.deepEqual(iso(upcomingSlots(job, 4, T, true)), [
      '2026-01-31T09:00:00.000Z',
      '2026-02-28T09:00:00.000Z',
      '2026-03-31T09:00:00.000Z',
      '2026-04-30T09:00:00.000Z',
    ]);
  });

  test('cron in a zone: weekdays at 09:30 New York time', () => {
    // 2026-01-15 is a Thursday.
    const job = put({ cron: '30 9 * * 1-5', location: 'America/New_York' });
    assert.deepEqual(iso(upcomingSlots(job, 3, T, true)), ['2026-01-15T14:30:00.000Z', '2026-01-16T14:30:00.000Z', '2026-01-19T14:30:00.000Z']);
  });

  test('an overdue slot is listed first; the rest are not in the past (no backfill)', () => {
    const job = put({ interval: '60' });
    const later = T + 10 * MINUTE + 30_000;
    assert.deepEqual(iso(upcomingSlots(job, 3, later, true)), ['2026-01-15T10:01:00.000Z', '2026-01-15T10:11:00.000Z', '2026-01-15T10:12:00.000Z']);
  });

  test('disabled: the slots enabling would resume at (fixed intervals: the grid from now on)', () => {
    const job = disableJob(put({ interval: '60' }), T);
    const later = T + 10 * MINUTE + 30_000;
    assert.deepEqual(iso(upcomingSlots(job, 2, later, true)), ['2026-01-15T10:11:00.000Z', '2026-01-15T10:12:00.000Z']);
    // Fixed intervals off: the run it was waiting for, at once since it has passed, then one interval after.
    assert.deepEqual(iso(upcomingSlots(job, 2, later, false)), ['2026-01-15T10:10:30.000Z', '2026-01-15T10:11:30.000Z']);
  });

  test('a one-off has one slot, enabled or not; count bounds the list', () => {
    const once = put({ 'one-off': 'true', 'first-run': '2026-02-01T00:00:00Z' });
    assert.deepEqual(iso(upcomingSlots(once, 5, T, true)), ['2026-02-01T00:00:00.000Z']);
    assert.deepEqual(iso(upcomingSlots(disableJob(once, T), 5, T, true)), ['2026-02-01T00:00:00.000Z']);
    assert.equal(upcomingSlots(put({ interval: '1' }), 100, T, true).length, 100);
  });
});
