/**
 * The run history through the API (SQLite and MariaDB): every callback attempt is kept with its
 * Dalga-Sched, attempt, instance, times, status and error, newest first and paged; each job keeps
 * at most twice `[jobs] history` runs (pruned in batches); deleting a job deletes its history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunPage } from '../../src/client/dalga-client.js';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import { eventually } from '../helpers/eventually.js';
import { startTestStack } from '../helpers/test-stack.js';

const HISTORY = 3;

for (const kind of ['sqlite', 'mysql'] as DatabaseKind[]) {
  describe(`run history (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: Awaited<ReturnType<typeof startTestStack>>;
    let dalga: DalgaProcess;

    before(async () => {
      stack = await startTestStack(
        kind,
        (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n[jobs]\nhistory = ${HISTORY}\nretry_interval = 0.2\n`,
      );
      dalga = stack.dalga;
      // Each job's first two callbacks fail, the rest succeed.
      const seen = new Map<string, number>();
      stack.endpoint.responder = (callback) => {
        const n = (seen.get(callback.path) ?? 0) + 1;
        seen.set(callback.path, n);
        return { status: n <= 2 ? 500 : 200 };
      };
    });

    after(() => stack?.teardown());

    const runsOf = async (key: string, query = ''): Promise<RunPage> => {
      const answer = await dalga.request('GET', `/jobs/${key}/runs${query}`);
      assert.equal(answer.status, 200, answer.text);
      return answer.json as RunPage;
    };

    test('every attempt is recorded, newest first: failures with their error, retries with their attempt, the same Dalga-Sched', async () => {
      assert.equal((await dalga.request('PUT', '/jobs/hist/a?interval=3600&immediate=true')).status, 201);
      const { runs } = await eventually(
        () => runsOf('hist/a'),
        (page) => page.runs.length === 3,
        'three attempts in the history',
        10_000,
      );
      assert.deepEqual(
        runs.map((run) => [run.attempt, run.status]),
        [
          [3, 200],
          [2, 500],
          [1, 500],
        ],
      );
      assert.equal(new Set(runs.map((run) => run.sched)).size, 1, 'retries serve the same slot');
      assert.equal(runs[1].error, 'endpoint answered 500');
      assert.equal(runs[0].error, null);
      const status = await dalga.request('GET', '/status');
      assert.ok(runs.every((run) => run.instance === status.json.instance_id));
      assert.ok(runs.every((run) => Date.parse(run.finished_at) >= Date.parse(run.started_at)));
      // The callbacks the endpoint received are the ones recorded.
      const received = stack.endpoint.received.filter((callback) => callback.path === '/hist');
      assert.deepEqual(
        received.map((callback) => Number(callback.headers['dalga-attempt'])),
        runs.map((run) => run.attempt).reverse(),
      );
    });

    test('pages with limit and an opaque cursor; a bad cursor or limit is a 400, an unknown job a 404', async () => {
      const first = await runsOf('hist/a', '?limit=2');
      assert.deepEqual(
        first.runs.map((run) => run.attempt),
        [3, 2],
      );
      assert.ok(first.next_cursor);
      const second = await runsOf('hist/a', `?limit=2&cursor=${first.next_cursor}`);
      assert.deepEqual(
        second.runs.map((run) => run.attempt),
        [1],
      );
      assert.equal(second.next_cursor, null);
      assert.equal((await dalga.request('GET', '/jobs/hist/a/runs?cursor=xyz')).status, 400);
      assert.equal((await dalga.request('GET', '/jobs/hist/a/runs?limit=0')).status, 400);
      const unknown = await dalga.request('GET', '/jobs/hist/nope/runs');
      assert.equal(unknown.status, 404);
    });

    test(`a job keeps at most ${2 * HISTORY} runs, the newest; deleting the job deletes its history`, async () => {
      assert.equal((await dalga.request('PUT', '/jobs/hist/b?interval=1&immediate=true')).status, 201);
      // 2 failures, then one success a second: well past twice the history.
      await eventually(
        async () => stack.endpoint.received.filter((callback) => callback.path === '/hist' && callback.body === 'b').length,
        (count) => count >= 3 * HISTORY + 2,
        'more callbacks than twice the history',
        20_000,
      );
      // Stop it, and let the last outcome and prune land.
      assert.equal((await dalga.request('PATCH', '/jobs/hist/b?disable=true')).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const { runs } = await runsOf('hist/b', '?limit=1000');
      assert.ok(runs.length >= HISTORY && runs.length <= 2 * HISTORY, `${runs.length} runs kept`);
      const attempts = stack.endpoint.received.filter((callback) => callback.path === '/hist' && callback.body === 'b').length;
      assert.ok(
        runs.every((run) => run.status === 200),
        'the oldest (the failures) pruned first',
      );
      assert.ok(attempts > runs.length);

      assert.equal((await dalga.request('DELETE', '/jobs/hist/b')).status, 204);
      assert.equal((await dalga.request('PUT', '/jobs/hist/b?interval=3600')).status, 201);
      assert.deepEqual((await runsOf('hist/b')).runs, [], 'a new job with the same key starts with no history');
    });
  });
}
