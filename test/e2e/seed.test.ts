/**
 * Every example of the original README, end to end: a real server (MariaDB and SQLite), a real
 * endpoint on 127.0.0.1 receiving the POSTs, curl-equivalent requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import type { EndpointServer } from '../helpers/endpoint-server.js';
import { startTestStack } from '../helpers/test-stack.js';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

function assertNear(actualIso: string, expectedMs: number, toleranceMs: number, what: string): void {
  assert.match(actualIso, RFC3339_UTC, `${what} is RFC 3339 UTC`);
  const delta = Date.parse(actualIso) - expectedMs;
  assert.ok(Math.abs(delta) <= toleranceMs, `${what}: ${actualIso} is ${delta} ms from the expected time`);
}

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`original README examples (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let endpoint: EndpointServer;
    let dalga: DalgaProcess;

    before(async () => {
      stack = await startTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 5\n[jobs]\nretry_interval = 0.2\n`);
      ({ endpoint, dalga } = stack);
    });

    after(() => stack?.teardown());

    test('PUT schedules a job every 60 seconds: 201 with the job as JSON', async () => {
      const before = Date.now();
      const response = await dalga.request('PUT', '/jobs/check_feed/1234?interval=60');
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.deepEqual(Object.keys(response.json).slice(0, 5), ['path', 'body', 'interval', 'next_run', 'job']);
      assert.equal(response.json.path, 'check_feed');
      assert.equal(response.json.body, '1234');
      assert.equal(response.json.job, '1234');
      assert.equal(response.json.interval, 60);
      assertNear(response.json.next_run, before + 60_000, 2_000, 'next_run');
    });

    test('PUT of an existing job answers 201 again and reschedules it', async () => {
      const response = await dalga.request('PUT', '/jobs/check_feed/1234?interval=120');
      assert.equal(response.status, 201);
      assert.equal(response.json.interval, 120);
      assertNear(response.json.next_run, Date.now() + 120_000, 2_000, 'next_run');
    });

    test('GET returns the job, and 404 for an unknown one', async () => {
      const response = await dalga.request('GET', '/jobs/check_feed/1234');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(response.json.path, 'check_feed');
      assert.equal(response.json.body, '1234');
      assert.equal(response.json.interval, 120);
      const missing = await dalga.request('GET', '/jobs/check_feed/nope');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.json, { error: 'job not found' });
    });

    test('DELETE cancels the job: 204, and then GET is 404; DELETE again is still 204', async () => {
      const response = await dalga.request('DELETE', '/jobs/check_feed/1234');
      assert.equal(response.status, 204);
      assert.equal(response.text, '');
      assert.equal((await dalga.request('GET', '/jobs/check_feed/1234')).status, 404);
      assert.equal((await dalga.request('DELETE', '/jobs/check_feed/1234')).status, 204);
    });

    test('one-off=true: "interval":0 and next_run 60 seconds ahead', async () => {
      const before = Date.now();
      const response = await dalga.request('PUT', '/jobs/check_feed/1234?interval=60&one-off=true');
      assert.equal(response.status, 201);
      assert.equal(response.json.interval, 0);
      assert.equal(response.json.one_off, true);
      assertNear(response.json.next_run, before + 60_000, 2_000, 'next_run');
    });

    test('POST triggers the job now: 200, the endpoint gets the body, and the one-off is then deleted', async () => {
      const before = Date.now();
      const response = await dalga.request('POST', '/jobs/check_feed/1234?interval=60');
      assert.equal(response.status, 200);
      assert.deepEqual(Object.keys(response.json).slice(0, 4), ['path', 'body', 'interval', 'next_run']);
      assert.equal(response.json.path, 'check_feed');
      assert.equal(response.json.body, '1234');
      assert.equal(response.json.interval, 0);
      assertNear(response.json.next_run, before, 2_000, 'next_run');

      const [callback] = await endpoint.waitFor((c) => c.path === '/check_feed');
      assert.equal(callback.method, 'POST');
      assert.equal(callback.body, '1234');
      assert.match(callback.headers['content-type'] ?? '', /^text\/plain/);
      assert.equal(callback.headers['dalga-attempt'], '1');
      assert.match(callback.headers['dalga-sched'] as string, RFC3339_UTC);
      assert.ok(callback.headers['dalga-instance']);

      // One-off jobs are deleted after the endpoint returns 200.
      const deadline = Date.now() + 5_000;
      while ((await dalga.request('GET', '/jobs/check_feed/1234')).status !== 404) {
        assert.ok(Date.now() < deadline, 'the one-off job was not deleted after a 200');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

    test('a due job is POSTed to <baseurl><path> with its body, once a second for interval=1', async () => {
      const put = await dalga.request('PUT', '/jobs/every_second/tick?interval=1');
      assert.equal(put.status, 201);
      const calls = await endpoint.waitFor((c) => c.path === '/every_second', 4, 10_000);
      await dalga.request('DELETE', '/jobs/every_second/tick');
      assert.ok(calls.every((c) => c.body === 'tick'));
      for (let i = 1; i < 4; i++) {
        const gap = calls[i].at - calls[i - 1].at;
        assert.ok(gap >= 800 && gap <= 1_200, `gap ${i} was ${gap} ms, expected 1 s ± 200 ms`);
      }
    });
  });
}
