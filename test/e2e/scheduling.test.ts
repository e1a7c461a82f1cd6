/**
 * Scheduling end to end (MariaDB and SQLite, the two running side by side): first-run, cron with
 * seconds, ISO 8601 intervals, locations, immediate, past first-run, disable/enable, in-flight
 * disable, retry_stop_after and triggers, against a real server and a real recording endpoint.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { createTestDatabase, mysqlQuery, skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { EndpointServer, type EndpointReply, type ReceivedCallback } from '../helpers/endpoint-server.js';
import { eventually, sleep } from '../helpers/eventually.js';

/** Dalga-Sched as the server formats it: RFC 3339 UTC, milliseconds only when there are any. */
function formatSched(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function schedOf(callback: ReceivedCallback): number {
  const header = callback.headers['dalga-sched'];
  assert.equal(typeof header, 'string', 'Dalga-Sched is sent');
  return Date.parse(header as string);
}

function gaps(values: number[]): number[] {
  return values.slice(1).map((value, i) => value - values[i]);
}

/** The row as the database holds it, read directly (not through the server). */
async function readRow(db: TestDatabase, path: string, body: string): Promise<Record<string, unknown> | undefined> {
  const sql = `SELECT next_run, next_sched, attempts, last_status, last_error FROM \`${db.table}\` WHERE path = ? AND body = ?`;
  if (db.kind === 'mysql') return ((await mysqlQuery(sql, [path, body])) as Record<string, unknown>[])[0];
  const sqlite = new Database(join(db.dir, 'dalga.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return sqlite.prepare(sql).get(path, body) as Record<string, unknown> | undefined;
  } finally {
    sqlite.close();
  }
}

// The two databases run concurrently (each suite's own tests run one after the other), to keep
// this file's runtime near that of one.
const KINDS = ['mysql', 'sqlite'] as DatabaseKind[];
const SKIP = Object.fromEntries(await Promise.all(KINDS.map(async (kind) => [kind, await skipUnlessMysql(kind)] as const)));

describe('scheduling', { concurrency: 2 }, () => {
  for (const kind of KINDS) {
    // concurrency 1: a suite's tests would otherwise inherit the 2 from the parent.
    describe(`scheduling (${kind})`, { skip: SKIP[kind], concurrency: 1 }, () => {
      let db: TestDatabase;
      let endpoint: EndpointServer;
      let dalga: DalgaProcess;
      /** How the endpoint answers, per callback path; 200 at once by default. */
      const replies = new Map<string, (callback: ReceivedCallback) => EndpointReply>();
      const calls = (path: string) => endpoint.matching((c) => c.path === `/${path}`);
      const waitCalls = (path: string, count: number, timeoutMs = 6_000) => endpoint.waitFor((c) => c.path === `/${path}`, count, timeoutMs);
      const getJob = (path: string, body: string) => dalga.request('GET', `/jobs/${path}/${body}`);
      const status = async () => (await dalga.request('GET', '/status')).json;

      before(async () => {
        db = createTestDatabase(kind);
        endpoint = await EndpointServer.start();
        endpoint.responder = (callback) => replies.get(callback.path.slice(1))?.(callback) ?? { status: 200 };
        // timeout 2 s: longer than the 300 ms in-flight answers. retry_stop_after 1 s with retries
        // every 0.2-0.4 s: a failing slot gives up after about four attempts.
        const config = writeConfig(
          db,
          `[endpoint]\nbaseurl = ${endpoint.baseUrl}\ntimeout = 2\n` +
            `[jobs]\nretry_interval = 0.2\nretry_multiplier = 2\nretry_max_interval = 0.4\nretry_stop_after = 1\n`,
        );
        if (kind === 'mysql') {
          const created = await runCli(['-config', config, '-create-table']);
          assert.equal(created.code, 0, created.stderr);
        }
        dalga = await DalgaProcess.start(config);
      });

      after(async () => {
        await dalga?.stop();
        await endpoint?.close();
        await db?.drop();
      });

      test('one-off with first-run 2 s ahead (given in +05:30): POSTed within 100 ms after that time, never before', async () => {
        const due = Date.now() + 2_000;
        const firstRun = DateTime.fromMillis(due, { zone: 'Asia/Kolkata' }).toISO() as string;
        assert.match(firstRun, /\+05:30$/);
        const put = await dalga.request('PUT', `/jobs/firstrun/once?one-off=true&first-run=${encodeURIComponent(firstRun)}`);
        assert.equal(put.status, 201, put.text);
        assert.equal(put.json.next_run, formatSched(due), 'next_run is the first-run in UTC, to the millisecond');
        assert.equal(put.json.one_off, true);
        assert.equal(put.json.interval, 0);
        await sleep(due - Date.now() - 300);
        assert.equal(calls('firstrun').length, 0, 'nothing before the time');
        const [callback] = await waitCalls('firstrun', 1, 3_000);
        const late = callback.at - due;
        assert.ok(late >= 0 && late <= 100, `arrived ${late} ms after first-run`);
        assert.equal(callback.headers['dalga-sched'], formatSched(due));
        assert.equal(callback.headers['dalga-attempt'], '1');
        assert.equal(callback.body, 'once');
        // Answered 200: the one-off is deleted, and runs only once.
        await eventually(
          () => getJob('firstrun', 'once'),
          (r) => r.status === 404,
          'the one-off to be deleted',
        );
        await sleep(300);
        assert.equal(calls('firstrun').length, 1);
      });

      test('six-field cron "* * * * * *" fires every second, on whole seconds', async () => {
        const put = await dalga.request('PUT', `/jobs/cron6/x?cron=${encodeURIComponent('* * * * * *')}`);
        assert.equal(put.status, 201, put.text);
        assert.equal(put.json.cron, '* * * * * *');
        assert.equal(put.json.interval, 0);
        assert.match(put.json.next_run, /T\d\d:\d\d:\d\dZ$/, 'the first run is on a whole second');
        const got = await waitCalls('cron6', 4, 7_000);
        await dalga.request('DELETE', '/jobs/cron6/x');
        const scheds = got.map(schedOf);
        for (const callback of got) assert.match(callback.headers['dalga-sched'] as string, /T\d\d:\d\d:\d\dZ$/);
        assert.deepEqual(gaps(scheds), [1_000, 1_000, 1_000], 'consecutive seconds, none skipped or repeated');
        assert.equal(scheds[0], Date.parse(put.json.next_run));
        for (const gap of gaps(got.map((c) => c.at))) assert.ok(Math.abs(gap - 1_000) <= 250, `arrival gap ${gap} ms`);
        got.forEach((callback, i) => {
          const late = callback.at - scheds[i];
          assert.ok(late >= 0 && late <= 250, `callback ${i} arrived ${late} ms after its second`);
        });
      });

      test('interval=PT1S fires like interval=1; JSON echoes "PT1S" as a string and 60 as a number', async () => {
        const iso = await dalga.request('PUT', '/jobs/iso1s/x?interval=PT1S');
        const secs = await dalga.request('PUT', '/jobs/secs1/x?interval=1');
        const sixty = await dalga.request('PUT', '/jobs/sixty/x?interval=60');
        assert.equal(iso.status, 201, iso.text);
        assert.equal(iso.json.interval, 'PT1S');
        assert.equal(secs.json.interval, 1);
        assert.equal(sixty.json.interval, 60);
        assert.equal((await getJob('iso1s', 'x')).json.interval, 'PT1S');
        assert.equal((await getJob('sixty', 'x')).json.interval, 60);
        assert.equal(Date.parse(sixty.json.next_run) - Date.parse(sixty.json.updated_at), 60_000);
        const [isoCalls, secsCalls] = await Promise.all([waitCalls('iso1s', 3), waitCalls('secs1', 3)]);
        await Promise.all(['iso1s', 'secs1', 'sixty'].map((path) => dalga.request('DELETE', `/jobs/${path}/x`)));
        for (const [name, put, got] of [
          ['PT1S', iso, isoCalls],
          ['1', secs, secsCalls],
        ] as const) {
          const first = Date.parse(put.json.next_run);
          assert.equal(first - Date.parse(put.json.updated_at), 1_000, `${name}: first run one interval after the PUT`);
          assert.deepEqual(got.slice(0, 3).map(schedOf), [first, first + 1_000, first + 2_000], `${name}: fixed-rate slots`);
          for (const gap of gaps(got.slice(0, 3).map((c) => c.at))) assert.ok(Math.abs(gap - 1_000) <= 250, `${name}: gap ${gap} ms`);
        }
        assert.equal((await getJob('iso1s', 'x')).status, 404);
      });

      test('location is echoed and used', async () => {
        const istanbul = await dalga.request('PUT', '/jobs/loc/istanbul?interval=PT1H&location=Europe/Istanbul');
        assert.equal(istanbul.status, 201, istanbul.text);
        assert.equal(istanbul.json.location, 'Europe/Istanbul');
        assert.equal((await getJob('loc', 'istanbul')).json.location, 'Europe/Istanbul');
        const utc = await dalga.request('PUT', '/jobs/loc/default?interval=60');
        assert.equal(utc.json.location, 'UTC');
        const canonical = await dalga.request('PUT', '/jobs/loc/case?interval=60&location=europe/berlin');
        assert.equal(canonical.json.location, 'Europe/Berlin');
        // A cron job runs at 09:00 New York time.
        const before = Date.now();
        const ny = await dalga.request('PUT', `/jobs/loc/ny?cron=${encodeURIComponent('0 9 * * *')}&location=America/New_York`);
        assert.equal(ny.json.location, 'America/New_York');
        const local = DateTime.fromISO(ny.json.next_run, { zone: 'America/New_York' });
        assert.equal(local.toFormat('HH:mm:ss.SSS'), '09:00:00.000');
        assert.ok(local.toMillis() > before && local.toMillis() <= before + 86_400_000, `next 09:00 in New York: ${ny.json.next_run}`);
        const unknown = await dalga.request('PUT', '/jobs/loc/bad?interval=60&location=Mars/Olympus');
        assert.equal(unknown.status, 400);
        assert.match(unknown.json.error, /^location:/);
        assert.equal((await getJob('loc', 'bad')).status, 404);
        for (const body of ['istanbul', 'default', 'case', 'ny']) await dalga.request('DELETE', `/jobs/loc/${body}`);
      });

      test('immediate=true runs at once, then continues on the interval', async () => {
        const sent = Date.now();
        const put = await dalga.request('PUT', '/jobs/immediate/x?interval=1&immediate=true');
        assert.equal(put.status, 201, put.text);
        const first = Date.parse(put.json.next_run);
        assert.ok(first >= sent - 5 && first <= Date.now() + 5, 'next_run is now');
        const got = await waitCalls('immediate', 3);
        await dalga.request('DELETE', '/jobs/immediate/x');
        assert.ok(got[0].at - sent <= 300, `the first callback came ${got[0].at - sent} ms after the PUT`);
        assert.deepEqual(got.slice(0, 3).map(schedOf), [first, first + 1_000, first + 2_000]);
        for (const gap of gaps(got.slice(0, 3).map((c) => c.at))) assert.ok(gap >= 600 && gap <= 1_250, `gap ${gap} ms`);
      });

      test('first-run in the past: runs once at once, then on its slots (no backfill)', async () => {
        const firstRun = Date.now() - 10_600; // ten and a half slots ago, off the whole second
        const sent = Date.now();
        const put = await dalga.request('PUT', `/jobs/pastfirst/x?interval=1&first-run=${encodeURIComponent(new Date(firstRun).toISOString())}`);
        assert.equal(put.status, 201, put.text);
        assert.equal(put.json.next_run, formatSched(firstRun), 'the past time is kept');
        await sleep(2_300);
        await dalga.request('DELETE', '/jobs/pastfirst/x');
        const got = calls('pastfirst');
        // At once (serving first-run), then about 0.4 s and 1.4 s later on the grid first-run + k s.
        assert.ok(got.length >= 2 && got.length <= 4, `${got.length} callbacks in 2.3 s (a backfill would be 10 more)`);
        assert.equal(schedOf(got[0]), firstRun);
        assert.ok(got[0].at - sent <= 300, `the missed first run came ${got[0].at - sent} ms after the PUT`);
        const later = got.slice(1).map(schedOf);
        for (const sched of later) {
          assert.equal((sched - firstRun) % 1_000, 0, 'on the grid of first-run');
          assert.ok(sched >= got[0].at - 50, `slot ${formatSched(sched)} was not already past (no backfill)`);
        }
        assert.equal(later[0] - firstRun, 11_000, 'skips the ten missed slots');
      });

      test('PATCH ?disable=true stops callbacks; ?enable=true resumes at the next regular slot, skipping the missed ones', async () => {
        const put = await dalga.request('PUT', '/jobs/toggle/x?interval=1');
        assert.equal(put.status, 201, put.text);
        await waitCalls('toggle', 1);
        const disabledBefore = (await status()).disabled_jobs;
        const disable = await dalga.request('PATCH', '/jobs/toggle/x?disable=true');
        const disabledAt = Date.now();
        assert.equal(disable.status, 200, disable.text);
        assert.equal(disable.json.enabled, false);
        assert.equal(disable.json.next_run, null);
        const countAtDisable = calls('toggle').length;

        await sleep(2_600);
        assert.equal(calls('toggle').length, countAtDisable, 'no callbacks while disabled');
        assert.ok(
          calls('toggle').every((c) => c.at <= disabledAt),
          'nothing arrived after the PATCH',
        );
        const job = await getJob('toggle', 'x');
        assert.equal(job.status, 200, 'GET still returns a disabled job');
        assert.equal(job.json.enabled, false);
        assert.equal(job.json.next_run, null);
        const missedSlot = Date.parse(job.json.next_sched);
        assert.ok(missedSlot < Date.now() - 1_000, 'its regular slot passed while it was disabled');
        assert.equal((await status()).disabled_jobs, disabledBefore + 1, '/status counts it as disabled');
        const listed = await dalga.request('GET', '/jobs?path=toggle');
        assert.deepEqual(
          listed.json.jobs.map((j: { enabled: boolean; next_run: string | null }) => [j.enabled, j.next_run]),
          [[false, null]],
        );
        // Disabling again is harmless.
        assert.equal((await dalga.request('PATCH', '/jobs/toggle/x?disable=true')).json.enabled, false);

        const enabledAt = Date.now();
        const enable = await dalga.request('PATCH', '/jobs/toggle/x?enable=true');
        assert.equal(enable.status, 200, enable.text);
        assert.equal(enable.json.enabled, true);
        assert.notEqual(enable.json.next_run, null);
        assert.equal((await status()).disabled_jobs, disabledBefore);
        const nextRun = Date.parse(enable.json.next_run);
        assert.ok(nextRun >= enabledAt - 50 && nextRun <= Date.now() + 1_000, `next_run ${enable.json.next_run} is the next slot after now`);
        assert.equal((nextRun - missedSlot) % 1_000, 0, 'on the original grid');
        assert.equal(enable.json.next_sched, enable.json.next_run);
        assert.equal(enable.json.anchor, put.json.anchor, 'enabling keeps the anchor');
        const resumed = await endpoint.waitFor((c) => c.path === '/toggle' && c.at > enabledAt, 2, 4_000);
        await dalga.request('DELETE', '/jobs/toggle/x');
        const missedRuns = calls('toggle').filter((c) => c.at > enabledAt && schedOf(c) < enabledAt - 50);
        assert.deepEqual(missedRuns, [], 'no missed slot runs (fixed intervals skip what was missed)');
        assert.equal(schedOf(resumed[0]), nextRun, 'the first run serves the next regular slot');
        assert.ok(resumed[0].at - enabledAt <= 1_300, `it came ${resumed[0].at - enabledAt} ms after enabling`);
        assert.equal(schedOf(resumed[1]) - schedOf(resumed[0]), 1_000, 'then every second on the grid');
      });

      test('PATCH: 404 for an unknown job, 400 for neither or both flags or a non-boolean', async () => {
        for (const query of ['disable=true', 'enable=true']) {
          const missing = await dalga.request('PATCH', `/jobs/nosuch/job?${query}`);
          assert.equal(missing.status, 404, query);
          assert.equal(typeof missing.json.error, 'string');
        }
        await dalga.request('PUT', '/jobs/patchbad/x?interval=3600');
        const neither = await dalga.request('PATCH', '/jobs/patchbad/x');
        assert.equal(neither.status, 400);
        assert.match(neither.json.error, /disable/);
        assert.match(neither.json.error, /enable/);
        const both = await dalga.request('PATCH', '/jobs/patchbad/x?disable=true&enable=true');
        assert.equal(both.status, 400);
        const notBoolean = await dalga.request('PATCH', '/jobs/patchbad/x?enable=maybe');
        assert.equal(notBoolean.status, 400);
        assert.match(notBoolean.json.error, /^enable:/);
        const prototypeWord = await dalga.request('PATCH', '/jobs/patchbad/x?disable=constructor');
        assert.equal(prototypeWord.status, 400, prototypeWord.text);
        const job = await getJob('patchbad', 'x');
        assert.equal(job.json.enabled, true, 'bad PATCHes change nothing');
        await dalga.request('DELETE', '/jobs/patchbad/x');
      });

      test('disable while a callback is in flight: the callback completes, its outcome does not re-enable the job', async () => {
        replies.set('inflight', () => ({ status: 200, delayMs: 300 }));
        replies.set('inflightfail', () => ({ status: 500, delayMs: 300 }));
        await dalga.request('PUT', '/jobs/inflight/x?interval=1&immediate=true');
        await dalga.request('PUT', '/jobs/inflightfail/x?interval=1&immediate=true');
        await Promise.all([waitCalls('inflight', 1), waitCalls('inflightfail', 1)]);
        for (const path of ['inflight', 'inflightfail']) {
          const disable = await dalga.request('PATCH', `/jobs/${path}/x?disable=true`);
          assert.equal(disable.status, 200, disable.text);
          assert.equal(disable.json.next_run, null);
        }
        // The answers come 300 ms after arrival; give the outcomes time to be written.
        const ok = await eventually(
          () => getJob('inflight', 'x'),
          (r) => r.json.last_status === 200,
          'the 200 to be recorded',
          3_000,
        );
        const failed = await eventually(
          () => getJob('inflightfail', 'x'),
          (r) => r.json.last_status === 500,
          'the 500 to be recorded',
          3_000,
        );
        assert.equal(ok.json.last_error, null, 'the callback was answered, not cancelled');
        for (const job of [ok, failed]) {
          assert.equal(job.json.enabled, false);
          assert.equal(job.json.next_run, null);
        }
        await sleep(1_500);
        assert.equal(calls('inflight').length, 1, 'no run after the outcome');
        assert.equal(calls('inflightfail').length, 1, 'no retry after the outcome');
        for (const path of ['inflight', 'inflightfail']) {
          const job = await getJob(path, 'x');
          assert.equal(job.json.enabled, false, `${path} stays disabled`);
          const row = await readRow(db, path, 'x');
          assert.equal(row?.next_run, null, `${path}: next_run NULL in the database`);
          await dalga.request('DELETE', `/jobs/${path}/x`);
        }
      });

      test('disable then enable while a callback is in flight: the slot being served is not POSTed again', async () => {
        replies.set('reenable', () => ({ status: 200, delayMs: 300 }));
        const put = await dalga.request('PUT', '/jobs/reenable/x?interval=60&immediate=true');
        try {
          await waitCalls('reenable', 1);
          assert.equal((await dalga.request('PATCH', '/jobs/reenable/x?disable=true')).status, 200);
          assert.equal((await dalga.request('PATCH', '/jobs/reenable/x?enable=true')).status, 200);
          await sleep(1_000);
          assert.deepEqual(
            calls('reenable').map((c) => c.headers['dalga-sched']),
            [formatSched(Date.parse(put.json.next_run))],
          );
          const job = await getJob('reenable', 'x');
          assert.equal(Date.parse(job.json.next_run), Date.parse(put.json.next_run) + 60_000, 'on to the next slot');
        } finally {
          await dalga.request('DELETE', '/jobs/reenable/x');
        }
      });

      test('retry_stop_after: a slot failing longer than 1 s disables the job, which stays with its last error', async () => {
        replies.set('giveup', () => ({ status: 500 }));
        const disabledBefore = (await status()).disabled_jobs;
        const put = await dalga.request('PUT', '/jobs/giveup/x?interval=60&immediate=true');
        const slot = Date.parse(put.json.next_run);
        const job = await eventually(
          () => getJob('giveup', 'x'),
          (r) => r.json.next_run === null,
          'the job to be disabled',
          6_000,
        );
        const got = calls('giveup');
        assert.ok(got.length >= 3 && got.length <= 6, `${got.length} attempts in about 1 s of 0.2/0.4 s retries`);
        assert.deepEqual(
          got.map((c) => c.headers['dalga-attempt']),
          got.map((_, i) => String(i + 1)),
        );
        assert.ok(
          got.every((c) => schedOf(c) === slot),
          'every attempt serves the same slot',
        );
        const lastTry = got.at(-1) as ReceivedCallback;
        assert.ok(lastTry.at - slot > 1_000, 'the last attempt ended past retry_stop_after');
        assert.ok(got.at(-2)!.at - slot <= 1_000 + 100, 'it did not give up earlier');
        assert.equal(job.json.enabled, false);
        assert.equal(job.json.attempts, got.length);
        assert.equal(job.json.last_status, 500);
        assert.match(job.json.last_error, /500/);
        assert.equal(job.json.next_sched, put.json.next_run);
        assert.equal((await status()).disabled_jobs, disabledBefore + 1);
        // It is in the database, disabled, with its error: read back through the listing and directly.
        const listed = await dalga.request('GET', '/jobs?path=giveup');
        assert.equal(listed.json.jobs.length, 1);
        assert.equal(listed.json.jobs[0].next_run, null);
        assert.equal(listed.json.jobs[0].attempts, got.length);
        assert.match(listed.json.jobs[0].last_error, /500/);
        const row = await readRow(db, 'giveup', 'x');
        assert.ok(row, 'the row is kept');
        assert.equal(row.next_run, null);
        assert.equal(Number(row.attempts), got.length);
        assert.equal(Number(row.last_status), 500);
        await sleep(600);
        assert.equal(calls('giveup').length, got.length, 'no attempt after giving up');
        await dalga.request('DELETE', '/jobs/giveup/x');
      });

      test('trigger (POST) runs a periodic job now; it keeps its regular next slot', async () => {
        const put = await dalga.request('PUT', '/jobs/trig/x?interval=60');
        const regular = put.json.next_run;
        const sent = Date.now();
        const trigger = await dalga.request('POST', '/jobs/trig/x');
        assert.equal(trigger.status, 200, trigger.text);
        assert.ok(Date.parse(trigger.json.next_run) <= Date.now(), 'due now');
        assert.equal(trigger.json.next_sched, regular, 'the regular slot is not moved');
        const [callback] = await waitCalls('trig', 1, 2_000);
        assert.ok(callback.at - sent <= 300, `triggered callback after ${callback.at - sent} ms`);
        const job = await eventually(
          () => getJob('trig', 'x'),
          (r) => r.json.last_status === 200,
          'the run to be recorded',
        );
        assert.equal(job.json.next_run, regular, 'back to the earlier regular slot');
        assert.equal(job.json.next_sched, regular);
        assert.equal(job.json.attempts, 0);
        await sleep(300);
        assert.equal(calls('trig').length, 1, 'one run only');
        assert.equal((await dalga.request('POST', '/jobs/nosuch/job')).status, 404);
        await dalga.request('DELETE', '/jobs/trig/x');
      });
    });
  }
});
