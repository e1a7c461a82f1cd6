/**
 * The schedule rules that follow the original Dalga, through the API (SQLite and MariaDB): a job's
 * anchor (its first slot) is in its JSON, set by PUT and kept by everything else, and calendar
 * slots are computed from it; cron macros; and enabling with fixed_intervals = false resumes a
 * pending retry at its own time. (Enabling with fixed intervals: scheduling.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { startTestStack } from '../helpers/test-stack.js';

const HOUR = 3_600_000;

for (const kind of ['sqlite', 'mysql'] as DatabaseKind[]) {
  describe(`schedule rules (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let dalga: DalgaProcess;

    before(async () => {
      stack = await startTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n`);
      dalga = stack.dalga;
    });

    after(() => stack?.teardown());

    test('the anchor: the first slot, in the job JSON; PATCH and POST keep it, a PUT sets a new one', async () => {
      const put = await dalga.request('PUT', '/jobs/anchor/a?interval=3600');
      assert.equal(put.status, 201, put.text);
      assert.equal(put.json.anchor, put.json.next_run, 'PUT time + one interval');
      const disabled = await dalga.request('PATCH', '/jobs/anchor/a?disable=true');
      assert.equal(disabled.json.anchor, put.json.anchor);
      const enabled = await dalga.request('PATCH', '/jobs/anchor/a?enable=true');
      assert.equal(enabled.json.anchor, put.json.anchor);
      const triggered = await dalga.request('POST', '/jobs/anchor/a');
      assert.equal(triggered.json.anchor, put.json.anchor);
      const firstRun = await dalga.request('PUT', '/jobs/anchor/a?interval=P1D&first-run=2030-01-31T09:00:00Z');
      assert.equal(firstRun.json.anchor, '2030-01-31T09:00:00Z', 'first-run is the anchor');
      const listed = await dalga.request('GET', '/jobs?path=anchor');
      assert.equal(listed.json.jobs[0].anchor, '2030-01-31T09:00:00Z', 'stored: the listing reads the table');
      await dalga.request('DELETE', '/jobs/anchor/a');
    });

    test('calendar slots come from the anchor: a P1M job anchored on Aug 31 stays at the month end', async () => {
      const put = await dalga.request('PUT', '/jobs/monthend/a?interval=P1M&first-run=2026-08-31T09:00:00Z');
      assert.equal(put.status, 201, put.text);
      const fired = await stack.endpoint.waitFor((c) => c.path === '/monthend', 1, 5_000);
      assert.equal(fired[0].headers['dalga-sched'], '2026-08-31T09:00:00Z', 'the past first run runs at once');
      let job = await dalga.request('GET', '/jobs/monthend/a');
      for (let i = 0; i < 50 && job.json.last_status !== 200; i++) {
        await sleep(100);
        job = await dalga.request('GET', '/jobs/monthend/a');
      }
      // The next slot after now on the grid Aug 31, Sep 30, Oct 31, Nov 30, Dec 31, ...
      const expected = ['2026-09-30', '2026-10-31', '2026-11-30', '2026-12-31', '2027-01-31', '2027-02-28', '2027-03-31']
        .map((day) => `${day}T09:00:00Z`)
        .find((slot) => Date.parse(slot) >= Date.now());
      assert.equal(job.json.next_sched, expected);
      assert.equal(job.json.anchor, '2026-08-31T09:00:00Z');
      await dalga.request('DELETE', '/jobs/monthend/a');
    });

    test('cron macros: @hourly runs at the top of every hour, as given', async () => {
      const put = await dalga.request('PUT', '/jobs/macro/a?cron=@HOURLY&location=Asia/Kolkata');
      assert.equal(put.status, 201, put.text);
      assert.equal(put.json.cron, '@hourly');
      const next = Date.parse(put.json.next_run);
      // Asia/Kolkata is UTC+05:30: its top of the hour is at :30 UTC.
      assert.equal(new Date(next).getUTCMinutes(), 30);
      assert.ok(next > Date.now() && next <= Date.now() + HOUR);
      const bad = await dalga.request('PUT', '/jobs/macro/b?cron=@fortnightly');
      assert.equal(bad.status, 400);
      assert.match(bad.json.error, /^cron: .*@hourly/);
      await dalga.request('DELETE', '/jobs/macro/a');
    });

    test('interval=0&one-off=true (the 2014 API\'s "now") runs at once and is then deleted; interval=0 alone is a 400', async () => {
      const put = await dalga.request('PUT', '/jobs/now/a?interval=0&one-off=true');
      assert.equal(put.status, 201, put.text);
      assert.equal(put.json.one_off, true);
      assert.ok(Math.abs(Date.parse(put.json.next_run) - Date.now()) < 2_000, 'due now');
      const [callback] = await stack.endpoint.waitFor((c) => c.path === '/now' && c.body === 'a');
      assert.ok(callback.at - Date.parse(put.json.next_run) < 2_000);
      await eventually(
        () => dalga.request('GET', '/jobs/now/a'),
        (job) => job.status === 404,
        'the one-off deleted after its 200',
      );
      const periodic = await dalga.request('PUT', '/jobs/now/b?interval=0');
      assert.equal(periodic.status, 400);
      assert.match(periodic.json.error, /^interval: "0" must be greater than zero/);
    });

    test('fixed_intervals = false: enabling during a pending retry keeps the retry at its time, with the next attempt', async () => {
      // A server of its own: fixed_intervals = false, and a failing callback retried after 2 s.
      const own = await startTestStack(
        kind,
        (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n[jobs]\nfixed_intervals = false\nretry_interval = 2\nretry_multiplier = 1\n`,
      );
      const dalga = own.dalga;
      own.endpoint.responder = () => ({ status: 500 });
      try {
        await dalga.request('PUT', '/jobs/resume/a?interval=3600&immediate=true');
        const [first] = await own.endpoint.waitFor((c) => c.path === '/resume', 1, 5_000);
        await sleep(300); // the failure is written: its retry waits 2 s
        const failing = await dalga.request('GET', '/jobs/resume/a');
        assert.equal(failing.json.attempts, 1);
        const retryAt = Date.parse(failing.json.next_run);
        assert.equal((await dalga.request('PATCH', '/jobs/resume/a?disable=true')).json.next_run, null);
        const enabled = await dalga.request('PATCH', '/jobs/resume/a?enable=true');
        assert.equal(Date.parse(enabled.json.next_run), retryAt, 'the retry keeps its time');
        assert.equal(enabled.json.attempts, 1);
        const retries = await own.endpoint.waitFor((c) => c.path === '/resume', 2, 5_000);
        assert.ok(retries[1].at >= retryAt - 5, `the retry came ${retryAt - retries[1].at} ms early`);
        assert.equal(retries[1].headers['dalga-attempt'], '2');
        assert.equal(retries[1].headers['dalga-sched'], first.headers['dalga-sched'], 'the same slot');
      } finally {
        await own.teardown();
      }
    });
  });
}
