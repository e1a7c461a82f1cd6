/**
 * The callback contract against a live endpoint: 200, 204, failures with backoff, timeouts,
 * headers, max_running, and API changes made while a callback is in flight.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import type { EndpointServer } from '../helpers/endpoint-server.js';
import { startTestStack } from '../helpers/test-stack.js';
import { eventually, sleep } from '../helpers/eventually.js';

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`callbacks (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let endpoint: EndpointServer;
    let dalga: DalgaProcess;

    before(async () => {
      stack = await startTestStack(
        kind,
        (baseUrl) =>
          `[endpoint]\nbaseurl = ${baseUrl}hooks/\ntimeout = 0.5\n` +
          `[jobs]\nretry_interval = 0.2\nretry_multiplier = 2\nretry_max_interval = 0.8\nmax_running = 3\n`,
      );
      ({ endpoint, dalga } = stack);
    });

    beforeEach(() => {
      endpoint.responder = () => ({ status: 200 });
    });

    after(() => stack?.teardown());

    test('200: a periodic job goes to its next slot and records the run', async () => {
      const put = await dalga.request('PUT', '/jobs/ok/a?interval=1');
      const firstSlot = put.json.next_run;
      const [callback] = await endpoint.waitFor((c) => c.path === '/hooks/ok');
      assert.equal(callback.headers['dalga-sched'], firstSlot.replace(/\.000Z$/, 'Z'));
      const job = await eventually(
        () => dalga.request('GET', '/jobs/ok/a'),
        (r) => r.json.last_status === 200,
        'the outcome to be written',
      );
      assert.equal(job.json.attempts, 0);
      assert.equal(Date.parse(job.json.next_sched), Date.parse(firstSlot) + 1_000, 'fixed rate: previous slot + interval');
      await dalga.request('DELETE', '/jobs/ok/a');
    });

    test('204: the job is invalid and deleted', async () => {
      endpoint.responder = () => ({ status: 204 });
      await dalga.request('PUT', '/jobs/invalid/b?interval=1&immediate=true');
      await endpoint.waitFor((c) => c.path === '/hooks/invalid');
      await eventually(
        () => dalga.request('GET', '/jobs/invalid/b'),
        (r) => r.status === 404,
        'the job to be deleted',
      );
    });

    test('500: retried with exponential backoff, same Dalga-Sched, increasing Dalga-Attempt, then back to its slots', async () => {
      endpoint.responder = (c) => ({ status: endpoint.matching((x) => x.path === c.path).length <= 4 ? 500 : 200 });
      await dalga.request('PUT', '/jobs/flaky/c?interval=60&immediate=true');
      const calls = await endpoint.waitFor((c) => c.path === '/hooks/flaky', 5, 10_000);
      assert.deepEqual(
        calls.map((c) => c.headers['dalga-attempt']),
        ['1', '2', '3', '4', '5'],
      );
      assert.equal(new Set(calls.map((c) => c.headers['dalga-sched'])).size, 1, 'every retry serves the same slot');
      const gaps = calls.slice(1).map((c, i) => c.at - calls[i].at);
      // retry_interval 0.2 s, multiplier 2, capped at 0.8 s: 200, 400, 800, 800 ms.
      const expected = [200, 400, 800, 800];
      gaps.forEach((gap, i) => assert.ok(gap >= expected[i] - 20 && gap <= expected[i] + 400, `gap ${i}: ${gap} ms, expected ~${expected[i]}`));
      const job = await eventually(
        () => dalga.request('GET', '/jobs/flaky/c'),
        (r) => r.json.last_status === 200,
        'success',
      );
      assert.equal(job.json.attempts, 0);
      assertFuture(job.json.next_run, 50_000);
      await dalga.request('DELETE', '/jobs/flaky/c');
    });

    test('failure details are kept: status, error and attempts', async () => {
      endpoint.responder = () => ({ status: 503 });
      await dalga.request('PUT', '/jobs/down/d?interval=60&immediate=true');
      const job = await eventually(
        () => dalga.request('GET', '/jobs/down/d'),
        (r) => r.json.attempts >= 2,
        'two failed attempts',
      );
      assert.equal(job.json.last_status, 503);
      assert.match(job.json.last_error, /503/);
      await dalga.request('DELETE', '/jobs/down/d');
    });

    test('a timeout counts as a failure and is retried', async () => {
      endpoint.responder = (c) => (endpoint.matching((x) => x.path === c.path).length === 1 ? { hang: true } : { status: 200 });
      await dalga.request('PUT', '/jobs/slow/e?interval=60&immediate=true');
      const calls = await endpoint.waitFor((c) => c.path === '/hooks/slow', 2, 5_000);
      const gap = calls[1].at - calls[0].at;
      assert.ok(gap >= 650 && gap <= 1_500, `timeout 0.5 s + retry 0.2 s, got ${gap} ms`);
      assert.equal(calls[1].headers['dalga-attempt'], '2');
      const job = await eventually(
        () => dalga.request('GET', '/jobs/slow/e'),
        (r) => r.json.last_status === 200,
        'success',
      );
      assert.equal(job.json.attempts, 0);
      await dalga.request('DELETE', '/jobs/slow/e');
    });

    test('max_running bounds callbacks in flight; the others wait and show as pending', async () => {
      endpoint.responder = () => ({ status: 200, delayMs: 400 });
      for (let i = 0; i < 9; i++) await dalga.request('PUT', `/jobs/burst/${i}?one-off=true&immediate=true`);
      const status = await dalga.request('GET', '/status');
      assert.ok(status.json.running_jobs <= 3, `running ${status.json.running_jobs}`);
      const calls = await endpoint.waitFor((c) => c.path === '/hooks/burst', 9, 10_000);
      // With 3 at a time and 400 ms each, 9 callbacks arrive in three waves.
      const first = calls[0].at;
      const waves = calls.map((c) => Math.floor((c.at - first) / 350));
      assert.ok(Math.max(...waves) >= 2, `expected three waves, arrival offsets ${calls.map((c) => c.at - first)}`);
      for (let wave = 0; wave <= Math.max(...waves); wave++) {
        assert.ok(waves.filter((w) => w === wave).length <= 3, `more than 3 in flight at once: ${waves}`);
      }
    });

    test('DELETE while the callback is in flight: the job stays deleted whatever the outcome', async () => {
      endpoint.responder = () => ({ status: 500, delayMs: 350 });
      await dalga.request('PUT', '/jobs/race_delete/f?interval=60&immediate=true');
      await endpoint.waitFor((c) => c.path === '/hooks/race_delete');
      assert.equal((await dalga.request('DELETE', '/jobs/race_delete/f')).status, 204);
      await sleep(1_200);
      assert.equal((await dalga.request('GET', '/jobs/race_delete/f')).status, 404);
      assert.equal(endpoint.matching((c) => c.path === '/hooks/race_delete').length, 1, 'no retry after delete');
    });

    test('PUT while the callback is in flight: the new schedule wins over the outcome', async () => {
      endpoint.responder = () => ({ status: 200, delayMs: 350 });
      await dalga.request('PUT', '/jobs/race_put/g?one-off=true&immediate=true');
      await endpoint.waitFor((c) => c.path === '/hooks/race_put');
      const put = await dalga.request('PUT', '/jobs/race_put/g?interval=3600');
      assert.equal(put.status, 201);
      await sleep(1_000);
      const job = await dalga.request('GET', '/jobs/race_put/g');
      assert.equal(job.status, 200, 'the one-off success must not delete the job that replaced it');
      assert.equal(job.json.interval, 3600);
      assert.equal(job.json.one_off, false);
      assert.equal(job.json.next_run, put.json.next_run);
      assert.equal(job.json.last_status, 200, 'the run is still recorded');
      await dalga.request('DELETE', '/jobs/race_put/g');
    });
  });
}

function assertFuture(iso: string, atLeastMs: number): void {
  assert.ok(Date.parse(iso) - Date.now() >= atLeastMs, `${iso} should be at least ${atLeastMs} ms ahead`);
}
