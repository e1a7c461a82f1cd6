/**
 * Failures an operator can see without -debug (SQLite and MariaDB): a failing job logs one warn
 * line, not one per attempt, and one info line when it recovers; GET /jobs?status=failing and
 * ?status=disabled list them; /status and /metrics count failing jobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import { eventually } from '../helpers/eventually.js';
import { startTestStack } from '../helpers/test-stack.js';

interface LogLine {
  level: number;
  msg: string;
  job?: { path: string; body: string };
  [field: string]: unknown;
}

const WARN = 40;
const INFO = 30;

for (const kind of ['sqlite', 'mysql'] as DatabaseKind[]) {
  describe(`failures you can see (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let dalga: DalgaProcess;
    let failing = true;

    before(async () => {
      stack = await startTestStack(
        kind,
        (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n[jobs]\nretry_interval = 0.1\nretry_max_interval = 0.2\n`,
      );
      dalga = stack.dalga;
      stack.endpoint.responder = (callback) => ({ status: callback.path === '/bad' && failing ? 500 : 200 });
    });

    after(() => stack?.teardown());

    const lines = (): LogLine[] =>
      dalga.output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.job?.path === 'bad');
    const callbacksTo = (path: string) => stack.endpoint.received.filter((callback) => callback.path === `/${path}`).length;

    test('a failing job: one warn line for many failed attempts; listed by ?status=failing; counted in /status and /metrics', async () => {
      assert.equal((await dalga.request('PUT', '/jobs/bad/a?interval=3600&immediate=true')).status, 201);
      assert.equal((await dalga.request('PUT', '/jobs/good/b?interval=3600&immediate=true')).status, 201);
      assert.equal((await dalga.request('PUT', '/jobs/good/c?interval=3600')).status, 201);
      assert.equal((await dalga.request('PATCH', '/jobs/good/c?disable=true')).status, 200);
      await eventually(
        async () => callbacksTo('bad'),
        (n) => n >= 6,
        'six failed attempts',
        10_000,
      );

      const warned = lines().filter((line) => line.level === WARN);
      assert.equal(warned.length, 1, `one warn line, not one per attempt: ${JSON.stringify(warned)}`);
      assert.equal(warned[0].msg, 'callback failed; will retry');
      assert.equal(warned[0].status, 500);
      assert.equal(warned[0].attempt, 1);
      assert.equal(typeof warned[0].next_retry, 'string');

      const failingList = await dalga.request('GET', '/jobs?status=failing');
      assert.deepEqual(
        (failingList.json.jobs as { path: string; body: string }[]).map((job) => `${job.path}/${job.body}`),
        ['bad/a'],
      );
      const disabledList = await dalga.request('GET', '/jobs?status=disabled&path=good');
      assert.deepEqual(
        (disabledList.json.jobs as { path: string; body: string }[]).map((job) => `${job.path}/${job.body}`),
        ['good/c'],
      );
      assert.equal((await dalga.request('GET', '/jobs?status=broken')).status, 400);
      assert.equal((await dalga.request('GET', '/status')).json.failing_jobs, 1);
      const metrics = await dalga.request('GET', '/metrics');
      assert.match(metrics.text, /^dalga_jobs_failing 1$/m);
    });

    test('when it succeeds again: one info line with the count, and it is no longer failing', async () => {
      failing = false;
      const recovered = await eventually(
        async () => lines().filter((line) => line.level === INFO && /^recovered after \d+ failed attempts$/.test(line.msg)),
        (found) => found.length === 1,
        'the recovery line',
        10_000,
      );
      assert.ok(Number(recovered[0].failed_attempts) >= 6);
      assert.equal((await dalga.request('GET', '/status')).json.failing_jobs, 0);
      assert.deepEqual((await dalga.request('GET', '/jobs?status=failing')).json.jobs, []);
    });
  });
}
