/**
 * FailureLog: failing callbacks are visible at the default level, one line per job per minute at
 * most, with a recovery line and an error when retry_stop_after disables the job.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { putJob } from '../../src/jobs/job-changes.js';
import type { Job } from '../../src/jobs/job.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import type { RunResult } from '../../src/jobs/run-outcome.js';
import { FailureLog, type OutcomeSeen } from '../../src/log/failure-log.js';

const T = Date.UTC(2026, 0, 15, 10, 0, 0);
const job: Job = putJob('hooks', 'x'.repeat(200), parseJobSpec({ interval: '10' }), undefined, T);

function harness() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  let now = T;
  const record = (level: string) => (fields: object, message: string) => lines.push({ level, fields: fields as Record<string, unknown>, message });
  const log = new FailureLog({ log: { info: record('info'), warn: record('warn'), error: record('error') }, now: () => now });
  const outcome = (attempt: number, status: number | null, after: Partial<Job> | null = {}, kind: OutcomeSeen['kind'] = 'update') => {
    const result: RunResult = {
      status,
      error: status === 200 ? null : status === null ? 'timeout' : `endpoint answered ${status}`,
      startedAt: now,
      finishedAt: now,
    };
    log.outcome({
      key: 'k',
      job,
      attempt,
      result,
      kind,
      wasEnabled: true,
      after: after === null ? null : { ...job, attempts: attempt, nextRun: now + 1_000, ...after },
    });
  };
  return { lines, log, outcome, advance: (ms: number) => (now += ms) };
}

describe('FailureLog', () => {
  test('the first failure is one warn line with status, attempt and next retry; the body is truncated', () => {
    const { lines, outcome } = harness();
    outcome(1, 500);
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 'warn');
    assert.equal(lines[0].message, 'callback failed; will retry');
    assert.equal(lines[0].fields.status, 500);
    assert.equal(lines[0].fields.attempt, 1);
    assert.equal(lines[0].fields.next_retry, new Date(T + 1_000).toISOString().replace('.000Z', 'Z'));
    assert.equal((lines[0].fields.job as { body: string }).body.length, 64);
  });

  test('while failing: at most one line per minute, with the count since the last', () => {
    const { lines, outcome, advance } = harness();
    outcome(1, 500);
    for (let attempt = 2; attempt <= 30; attempt++) {
      advance(5_000);
      outcome(attempt, null);
    }
    // 29 more failures over 145 s: lines at +60 s and +120 s.
    assert.deepEqual(
      lines.map((line) => [line.level, line.fields.failures ?? null]),
      [
        ['warn', null],
        ['warn', 12],
        ['warn', 12],
      ],
    );
    assert.match(lines[1].message, /still failing: 12 failed attempts since the last line/);
  });

  test('a success after failures is one info line; a success otherwise logs nothing', () => {
    const { lines, log, outcome } = harness();
    outcome(1, 200);
    assert.equal(lines.length, 0);
    outcome(1, 500);
    outcome(2, 500);
    outcome(3, 200, { attempts: 0 });
    assert.deepEqual(
      lines.map((line) => [line.level, line.message]),
      [
        ['warn', 'callback failed; will retry'],
        ['info', 'recovered after 2 failed attempts'],
      ],
    );
    assert.equal(log.tracked, 0);
  });

  test('disabled by retry_stop_after: one error line', () => {
    const { lines, outcome } = harness();
    outcome(1, 500);
    outcome(2, 503, { nextRun: null, pausedRun: T + 5_000, failingSince: T });
    assert.equal(lines[1].level, 'error');
    assert.match(lines[1].message, /retry_stop_after: job disabled/);
  });

  test('a job replaced or deleted during the flight is not tracked any more', () => {
    const { log, outcome } = harness();
    outcome(1, 500);
    assert.equal(log.tracked, 1);
    outcome(2, 500, null, 'record-last-run');
    assert.equal(log.tracked, 0);
  });
});
