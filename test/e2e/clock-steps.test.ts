/**
 * Wall-clock steps in a running server (SQLite and MariaDB): its clock is stepped by +30 s, -30 s,
 * +1 h and -1 h (a shim preloaded into the server offsets Date; performance.now and the timers run
 * on, as on a real machine). Jobs: every second, every five seconds, a cron job every two seconds,
 * and a one-off 20 s ahead. What must hold:
 * - nothing runs before its wall-clock due time (Dalga-Sched by the server's stepped clock);
 * - a forward step runs what became due within about a second, each job once (no backfill);
 * - a backward step stalls no job waiting out an interval, and a job put after it runs on time;
 * - at the end every job is still there and scheduled: none lost.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess } from '../helpers/dalga-process.js';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import { sleep } from '../helpers/eventually.js';
import { createTestStack, type TestStack } from '../helpers/test-stack.js';

const SHIM = fileURLToPath(new URL('../helpers/clock-shim.mjs', import.meta.url));
const HOUR = 3_600_000;
const EVERY_SECOND = ['s0', 's1', 's2', 's3', 's4'];

for (const kind of ['sqlite', 'mysql'] as DatabaseKind[]) {
  describe(`wall-clock steps in a running server (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: TestStack;
    let dalga: DalgaProcess;
    let offsetFile: string;
    /** [real time, offset from then on] */
    const offsets: [number, number][] = [[0, 0]];

    before(async () => {
      stack = await createTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\n`);
      offsetFile = join(stack.db.dir, 'clock-offset');
      writeFileSync(offsetFile, '0');
      dalga = await DalgaProcess.start(stack.config, { preload: [SHIM], env: { TEST_CLOCK_OFFSET_FILE: offsetFile } });
    });

    after(async () => {
      await dalga?.stop();
      await stack?.teardown();
    });

    /** Steps the server's wall clock to `offset` ms from the real time. */
    async function stepTo(offset: number): Promise<number> {
      writeFileSync(offsetFile, String(offset));
      const at = Date.now();
      dalga.signal('SIGUSR2');
      offsets.push([at, offset]);
      await sleep(50);
      return at;
    }

    /** The server's wall time when the endpoint received `at` (real time); undefined near a step, where it is ambiguous. */
    function serverTime(at: number): number | undefined {
      if (offsets.some(([since]) => since > 0 && Math.abs(at - since) < 300)) return undefined;
      const [, offset] = offsets.filter(([since]) => since <= at).at(-1) as [number, number];
      return at + offset;
    }

    const callbacks = (body: string, from: number, to = Infinity) =>
      stack.endpoint.matching((c) => c.path === '/step' && c.body === body && c.at >= from && c.at < to);

    test('±30 s and ±1 h: nothing early, a forward step runs what became due, a backward step stalls nothing, none lost', async (t) => {
      for (const body of EVERY_SECOND) assert.equal((await dalga.request('PUT', `/jobs/step/${body}?interval=1`)).status, 201);
      assert.equal((await dalga.request('PUT', '/jobs/step/every5?interval=5')).status, 201);
      assert.equal((await dalga.request('PUT', '/jobs/step/cron?cron=*/2%20*%20*%20*%20*%20*')).status, 201);
      const oneOffAt = new Date(Date.now() + 20_000).toISOString();
      assert.equal((await dalga.request('PUT', `/jobs/step/oneoff?one-off=true&first-run=${oneOffAt}`)).status, 201);
      await sleep(2_500);

      const forwards: number[] = [];
      const backwards: number[] = [];
      for (const [forward, back] of [
        [30_000, 0],
        [HOUR, 0],
      ]) {
        // Forward: what became due runs within about a second, each job once.
        const steppedAt = await stepTo(forward);
        forwards.push(steppedAt);
        await sleep(1_600);
        for (const body of [...EVERY_SECOND, 'every5', 'cron']) {
          const soon = callbacks(body, steppedAt, steppedAt + 1_600);
          // The run that became due, then its regular slots; a backfill would be one per skipped slot (30 or 3600).
          assert.ok(soon.length >= 1 && soon.length <= 3, `${body}: ${soon.length} callbacks in the 1.6 s after +${forward} ms`);
        }
        await sleep(1_000);
        // Back: jobs waiting out an interval keep their cadence; a job put now runs on time.
        const backAt = await stepTo(back);
        backwards.push(backAt);
        await dalga.request('PUT', `/jobs/step/new${forward}?interval=2`);
        await sleep(4_300);
        for (const body of EVERY_SECOND) {
          const after = callbacks(body, backAt);
          assert.ok(after.length >= 3, `${body}: ${after.length} callbacks in the 4.3 s after the step back (a stall would be 0)`);
        }
        const fresh = callbacks(`new${forward}`, backAt);
        assert.ok(fresh.length >= 1 && fresh.length <= 2, `the job put after the step back: ${fresh.length} callbacks in 4.3 s`);
      }

      // Nothing ran before its wall-clock due time, by the server's clock.
      const early = stack.endpoint
        .matching((c) => c.path === '/step')
        .flatMap((c) => {
          const now = serverTime(c.at);
          const sched = Date.parse(String(c.headers['dalga-sched']));
          return now !== undefined && now < sched - 20 ? [`${c.body} sched ${c.headers['dalga-sched']} ran ${sched - now} ms early`] : [];
        });
      assert.deepEqual(early, []);
      assert.equal(callbacks('oneoff', 0).length, 1, 'the one-off ran once, when a forward step made it due');
      // None lost: every periodic job is still there, enabled and on the wheel.
      for (const body of [...EVERY_SECOND, 'every5', 'cron', 'new30000', 'new3600000']) {
        const job = await dalga.request('GET', `/jobs/step/${body}`);
        assert.equal(job.status, 200, body);
        assert.equal(job.json.enabled, true, body);
      }
      const log = dalga.output.split('\n').filter((line) => line.includes('the wall clock stepped'));
      assert.equal(log.length, 4, `one warn line per step:\n${log.join('\n')}`);
      t.diagnostic(
        `callbacks: ${stack.endpoint.matching((c) => c.path === '/step').length}; steps at ${[...forwards, ...backwards].length} moments, logged: ${log.length}`,
      );
    });
  });
}
