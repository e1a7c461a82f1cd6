/**
 * JobTable: jobs held as columns give back exactly the Job put in; numbers are reused after a
 * delete; interned schedules and error texts go with their last job.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { putJob } from '../../src/jobs/job-changes.js';
import type { Job } from '../../src/jobs/job.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import { JobTable } from '../../src/jobs/job-table.js';

const T = Date.UTC(2026, 0, 15, 10, 0, 0, 123);
const job = (body: string, params: Record<string, string> = { interval: 'PT1H' }): Job => putJob('path/a', body, parseJobSpec(params), undefined, T);

describe('JobTable', () => {
  test('get() returns what add() and set() were given, nulls included', () => {
    const table = new JobTable();
    const plain = job('plain');
    const full: Job = {
      ...job('full', { cron: '*/5 * * * *', location: 'Europe/Istanbul' }),
      nextRun: null,
      pausedRun: T + 1,
      triggeredAt: T + 2,
      attempts: 7,
      failingSince: T + 3,
      lastRun: T + 4,
      lastStatus: 503,
      lastError: 'endpoint answered 503',
    };
    const a = table.add(plain);
    const b = table.add(full);
    assert.deepEqual(table.get(a), plain);
    assert.deepEqual(table.get(b), full);
    assert.equal(table.nextRun(b), null);
    const changed: Job = { ...plain, interval: '60', nextRun: T + 60_000, lastStatus: 200, lastError: null, attempts: 0 };
    table.set(a, changed);
    assert.deepEqual(table.get(a), changed);
    assert.equal(table.idOf('path/a\u0000plain'), a);
    assert.equal(table.keyOf(b), 'path/a\u0000full');
  });

  test('a deleted job number is reused; a re-added job never gets a version seen before', () => {
    const table = new JobTable();
    const a = table.add(job('a'));
    const added = table.version(a);
    table.bumpVersion(a);
    const bumped = table.version(a);
    assert.notEqual(bumped, added);
    table.delete(a);
    assert.equal(table.idOf('path/a\u0000a'), undefined);
    assert.equal(table.keyOf(a), undefined);
    const b = table.add(job('b'));
    assert.equal(b, a, 'the freed number');
    // A run that started before the delete must see a changed job, even under the same number and key.
    assert.ok(![added, bumped].includes(table.version(b)), 'a version never handed out before');
    assert.equal(table.timer(b), -1);
    assert.equal(table.get(b).body, 'b');
    assert.equal(table.size, 1);
    table.delete(b);
    const again = table.add(job('a'));
    assert.ok(![added, bumped].includes(table.version(again)), 'the same key re-added: a new version');
  });

  test('schedules and error texts are shared and dropped with their last job', () => {
    const table = new JobTable();
    const ids = Array.from({ length: 100 }, (_, i) => table.add({ ...job(`j${i}`), lastError: i % 2 ? 'timeout' : null }));
    assert.deepEqual(table.pooled(), { schedules: 1, errors: 1 });
    table.set(ids[0], { ...table.get(ids[0]), interval: 'PT2H', lastError: 'refused' });
    assert.deepEqual(table.pooled(), { schedules: 2, errors: 2 });
    table.delete(ids[0]);
    assert.deepEqual(table.pooled(), { schedules: 1, errors: 1 });
    for (const id of ids.slice(1)) table.delete(id);
    assert.deepEqual(table.pooled(), { schedules: 0, errors: 0 });
  });

  test('grows past its first capacity without losing a job', () => {
    const table = new JobTable();
    const ids = Array.from({ length: 5_000 }, (_, i) => table.add({ ...job(`g${i}`), attempts: i }));
    assert.equal(table.size, 5_000);
    for (const [i, id] of ids.entries()) assert.equal(table.get(id).attempts, i);
    assert.equal(new Set(table.jobIds()).size, 5_000);
  });
});
