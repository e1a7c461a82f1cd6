/**
 * Boot loads every column of every row exactly as stored: the load reads rows its own way
 * (MySQL: row arrays with times as text, parsed by hand; strings shared between jobs), so each
 * field is compared through the API before and after a restart, and (MySQL) against values
 * written straight into the table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mysqlQuery, skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import { DalgaProcess } from '../helpers/dalga-process.js';
import { createTestStack, type TestStack } from '../helpers/test-stack.js';

const JOBS = [
  '/jobs/shared/a?interval=60',
  '/jobs/shared/b?interval=60',
  '/jobs/shared/c?interval=PT1H30M&location=Europe/Istanbul',
  '/jobs/cron/d?cron=15%2010%20*%20*%201-5&location=America/New_York',
  '/jobs/once/e?one-off=true&first-run=2031-02-03T04:05:06.789Z',
  '/jobs/other/f?interval=3600&first-run=2030-12-31T23:59:59.001Z',
];

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`every field survives a reload (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: TestStack;

    before(async () => {
      stack = await createTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\n`);
    });

    after(() => stack?.teardown());

    test('the API shows the same jobs after a restart', async () => {
      const first = await DalgaProcess.start(stack.config);
      const seen = new Map<string, unknown>();
      try {
        for (const job of JOBS) assert.equal((await first.request('PUT', job)).status, 201, job);
        assert.equal((await first.request('PATCH', '/jobs/other/f?disable=true')).status, 200);
        for (const job of JOBS) {
          const path = job.split('?')[0];
          const got = await first.request('GET', path);
          assert.equal(got.status, 200);
          seen.set(path, got.json);
        }
      } finally {
        assert.equal(await first.stop(), 0);
      }
      const second = await DalgaProcess.start(stack.config);
      try {
        for (const [path, json] of seen) assert.deepEqual((await second.request('GET', path)).json, json, path);
        const status = await second.request('GET', '/status');
        assert.equal(status.json.total_jobs, JOBS.length);
      } finally {
        assert.equal(await second.stop(), 0);
      }
    });

    // Written with SQL straight into MariaDB (SQLite gets the same values through the API above).
    if (kind === 'mysql')
      test('values written into the table: run history, ms fractions and leap-day times', async () => {
        const table = `\`${stack.db.table}\``;
        // Due after the server is up and has been asked (a start under load can take seconds), then fired.
        const soon = new Date(Date.now() + 8_000).toISOString().replace('T', ' ').replace('Z', '');
        await mysqlQuery(
          `UPDATE ${table} SET triggered_at = '2028-02-29 00:00:00.123', attempts = 3, failing_since = '2028-02-29 00:00:00.000',
         last_run = '2024-02-29 23:59:59.999', last_status = 503, last_error = 'HTTP 503: «upstream» down', next_run = ?
         WHERE path = 'shared' AND body = 'b'`,
          [soon],
        );
        await mysqlQuery(`UPDATE ${table} SET next_run = '2040-01-01 00:00:00.007' WHERE path = 'shared' AND body = 'a'`);
        const server = await DalgaProcess.start(stack.config);
        try {
          const b = (await server.request('GET', '/jobs/shared/b')).json;
          assert.equal(b.next_run, `${soon.replace(' ', 'T')}Z`);
          assert.equal(b.attempts, 3);
          assert.equal(b.last_run, '2024-02-29T23:59:59.999Z');
          assert.equal(b.last_status, 503);
          assert.equal(b.last_error, 'HTTP 503: «upstream» down');
          assert.equal(b.interval, 60);
          const a = (await server.request('GET', '/jobs/shared/a')).json;
          assert.equal(a.next_run, '2040-01-01T00:00:00.007Z');
          assert.equal(a.last_error, null);
          assert.equal(a.last_status, null);
          assert.equal(a.attempts, 0);
          const f = (await server.request('GET', '/jobs/other/f')).json;
          assert.equal(f.enabled, false);
          assert.equal(f.next_run, null);
          assert.equal(f.next_sched, '2030-12-31T23:59:59.001Z');
          const e = (await server.request('GET', '/jobs/once/e')).json;
          assert.equal(e.one_off, true);
          assert.equal(e.next_run, '2031-02-03T04:05:06.789Z');
          const d = (await server.request('GET', '/jobs/cron/d')).json;
          assert.equal(d.cron, '15 10 * * 1-5');
          assert.equal(d.location, 'America/New_York');
          // triggered_at and attempts are not in the JSON: the retried trigger run shows them.
          const [callback] = await stack.endpoint.waitFor((c) => c.path === '/shared', 1, 30_000);
          assert.equal(callback.headers['dalga-sched'], '2028-02-29T00:00:00.123Z');
          assert.equal(callback.headers['dalga-attempt'], '4');
        } finally {
          assert.equal(await server.stop(), 0);
        }
      });
  });
}
