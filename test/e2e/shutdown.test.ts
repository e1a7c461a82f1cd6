/**
 * Graceful shutdown under load: SIGTERM while 100 callbacks are in flight. The server stops
 * accepting requests, lets the 100 finish, writes every outcome, and exits 0. Jobs that had not
 * started are still due; after a restart every one of them fires, and no slot that was already
 * served fires again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import { DalgaProcess } from '../helpers/dalga-process.js';
import type { ReceivedCallback } from '../helpers/endpoint-server.js';
import { readStoredJobs, type StoredJob } from '../helpers/job-rows.js';
import { rawHttp } from '../helpers/raw-http.js';
import { createTestStack, type TestStack } from '../helpers/test-stack.js';

/** Jobs due at the same instant; max_running lets IN_FLIGHT of them run, the rest wait. */
const DUE = 130;
const IN_FLIGHT = 100;
/** Jobs due well after the shutdown: the stopped server must not fire them; the restarted one must. */
const LATER = 10;
/** How long the endpoint holds every first-run callback before answering. */
const HOLD_MS = 1_500;
const HOUR_MS = 3_600_000;

type Reply = 200 | 204 | 500;

/** The endpoint's first answer to job i (later attempts get 200): mostly 200, some failures and some 204s. */
function firstReply(i: number): Reply {
  if (i % 10 === 7) return 500;
  if (i % 10 === 9) return 204;
  return 200;
}

interface PlannedJob {
  body: string;
  oneOff: boolean;
  /** The slot it was put for (first-run). */
  due: number;
  reply: Reply;
}

const attemptOf = (callback: ReceivedCallback) => Number(callback.headers['dalga-attempt']);
const schedOf = (callback: ReceivedCallback) => Date.parse(callback.headers['dalga-sched'] as string);

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`graceful shutdown under load (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: TestStack;

    before(async () => {
      stack = await createTestStack(
        kind,
        (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 10\n[jobs]\nmax_running = ${IN_FLIGHT}\nretry_interval = 1\n`,
      );
    });

    after(() => stack?.teardown());

    test(`SIGTERM with ${IN_FLIGHT} callbacks in flight: they finish, outcomes are written, exit 0, nothing lost`, { timeout: 60_000 }, async (t) => {
      const { endpoint } = stack;
      const jobs = new Map<string, PlannedJob>();
      const replyTo = (callback: ReceivedCallback): Reply => {
        const job = jobs.get(callback.body);
        return job && attemptOf(callback) === 1 ? job.reply : 200;
      };
      endpoint.responder = (callback) => ({ status: replyTo(callback), delayMs: HOLD_MS });

      const first = await DalgaProcess.start(stack.config);
      const port = Number(new URL(first.url).port);
      // Far enough ahead that every PUT is in before the slot, even on a busy machine.
      const due = Math.ceil((Date.now() + 5_000) / 1000) * 1000;
      const later = due + 12_000;
      for (let i = 0; i < DUE + LATER; i++) {
        const body = `j${i}`;
        jobs.set(body, { body, oneOff: i % 2 === 0, due: i < DUE ? due : later, reply: i < DUE ? firstReply(i) : 200 });
      }
      const planned = [...jobs.values()];
      for (let at = 0; at < planned.length; at += 10) {
        await Promise.all(
          planned.slice(at, at + 10).map(async (job) => {
            const firstRun = new Date(job.due).toISOString();
            const schedule = job.oneOff ? `one-off=true&first-run=${firstRun}` : `interval=3600&first-run=${firstRun}`;
            const response = await first.request('PUT', `/jobs/shutdown/${job.body}?${schedule}`);
            assert.equal(response.status, 201, response.text);
          }),
        );
      }
      assert.ok(Date.now() < due - 200, `the ${planned.length} PUTs took until ${new Date().toISOString()}, past the slot`);

      // The slot comes: max_running callbacks start at once and the endpoint holds them all.
      await endpoint.waitFor(() => true, IN_FLIGHT, due - Date.now() + 10_000);
      const sigtermAt = Date.now();
      let hasExited = false;
      const exited = first.stop().finally(() => (hasExited = true));
      const inFlightAtSigterm = endpoint.received.length;
      const startedFirst = new Set(endpoint.received.map((c) => c.body));

      // It stops accepting requests while the callbacks are still held (before it exits).
      let refusedAfterMs: number | null = null;
      while (!hasExited) {
        const probe = await rawHttp(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), 500);
        if (probe.ending === 'refused' && !hasExited) {
          refusedAfterMs = Date.now() - sigtermAt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const exitCode = await exited;
      const stopMs = Date.now() - sigtermAt;
      const firstRunCallbacks = endpoint.received.length;

      // After the exit: every outcome of the first run is in the table; nothing else moved.
      const rows = new Map<string, StoredJob>((await readStoredJobs(stack.db)).map((row) => [row.body, row]));
      const wrong: string[] = [];
      let deleted = 0;
      let rescheduled = 0;
      let retrying = 0;
      let untouched = 0;
      for (const job of planned) {
        const row = rows.get(job.body);
        const describeRow = row ? JSON.stringify({ nextRun: row.nextRun, nextSched: row.nextSched, attempts: row.attempts }) : 'no row';
        if (!startedFirst.has(job.body)) {
          // Not started: still due at its slot, as it was put.
          if (row?.nextRun !== job.due || row.nextSched !== job.due || row.attempts !== 0) wrong.push(`${job.body} (not started): ${describeRow}`);
          else untouched++;
        } else if (job.reply === 204 || (job.reply === 200 && job.oneOff)) {
          if (row) wrong.push(`${job.body} (answered ${job.reply}, one-off ${job.oneOff}) should be deleted: ${describeRow}`);
          else deleted++;
        } else if (job.reply === 200) {
          if (row?.nextSched !== job.due + HOUR_MS || row.nextRun !== job.due + HOUR_MS || row.attempts !== 0) {
            wrong.push(`${job.body} (answered 200) should be on its next slot ${job.due + HOUR_MS}: ${describeRow}`);
          } else rescheduled++;
        } else if (row?.nextSched !== job.due || row.attempts !== 1 || row.nextRun === null || row.nextRun <= job.due) {
          wrong.push(`${job.body} (answered 500) should wait for its retry: ${describeRow}`);
        } else retrying++;
      }

      // Restart: the rest fires, failed slots are retried, nothing served fires again.
      endpoint.responder = (callback) => ({ status: replyTo(callback) });
      const second = await DalgaProcess.start(stack.config);
      let secondExit: number | null = null;
      try {
        const expectedCallbacks = (job: PlannedJob) => (job.reply === 500 ? 2 : 1);
        const total = planned.reduce((sum, job) => sum + expectedCallbacks(job), 0);
        await endpoint.waitFor(() => true, total, Math.max(later - Date.now(), 0) + 15_000).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // anything extra would show up now
        const byBody = new Map<string, ReceivedCallback[]>();
        for (const callback of endpoint.received) byBody.set(callback.body, [...(byBody.get(callback.body) ?? []), callback]);
        for (const job of planned) {
          const callbacks = byBody.get(job.body) ?? [];
          const seen = callbacks.map((c) => `attempt ${attemptOf(c)} sched ${new Date(schedOf(c)).toISOString()}`).join('; ');
          if (callbacks.length !== expectedCallbacks(job))
            wrong.push(`${job.body}: ${callbacks.length} callbacks, expected ${expectedCallbacks(job)} (${seen})`);
          if (callbacks.some((c) => schedOf(c) !== job.due)) wrong.push(`${job.body}: Dalga-Sched other than its slot (${seen})`);
          if (callbacks.some((c, n) => attemptOf(c) !== n + 1)) wrong.push(`${job.body}: attempts out of order (${seen})`);
        }
        const strangers = endpoint.received.filter((c) => !jobs.has(c.body) || c.path !== '/shutdown');
        if (strangers.length) wrong.push(`callbacks for no planned job: ${strangers.map((c) => `${c.path} ${c.body}`).join(', ')}`);

        // Served periodic jobs kept their outcome across the restart.
        for (const job of planned.filter((j) => !j.oneOff && j.reply === 200 && startedFirst.has(j.body))) {
          const response = await second.request('GET', `/jobs/shutdown/${job.body}`);
          if (response.json?.last_status !== 200 || Date.parse(response.json?.next_run) !== job.due + HOUR_MS) {
            wrong.push(`${job.body} after restart: last_status ${response.json?.last_status}, next_run ${response.json?.next_run}`);
          }
        }
      } finally {
        secondExit = await second.stop();
      }
      // In the end, one-offs are gone and periodic jobs wait for their next slot.
      const finalRows = await readStoredJobs(stack.db);
      const leftOneOffs = finalRows.filter((row) => row.oneOff).map((row) => row.body);
      const unserved = finalRows.filter((row) => row.nextSched !== (jobs.get(row.body) as PlannedJob).due + HOUR_MS).map((row) => row.body);

      const summary = {
        database: kind,
        due_at_once: DUE,
        in_flight_at_sigterm: inFlightAtSigterm,
        waiting_at_sigterm: DUE - inFlightAtSigterm,
        refused_new_requests_after_ms: refusedAfterMs,
        stop_ms: stopMs,
        exit_code: exitCode,
        callbacks_before_exit: firstRunCallbacks,
        outcomes_after_exit: { deleted, rescheduled, retrying, untouched },
        callbacks_total: endpoint.received.length,
        second_exit_code: secondExit,
        problems: wrong.length,
      };
      process.stdout.write(`SHUTDOWN-SUMMARY ${JSON.stringify(summary)}\n`);
      t.diagnostic(`SHUTDOWN-SUMMARY ${JSON.stringify(summary)}`);

      assert.equal(exitCode, 0, 'graceful stop exits 0');
      assert.equal(inFlightAtSigterm, IN_FLIGHT, 'max_running callbacks were in flight at SIGTERM');
      assert.equal(firstRunCallbacks, IN_FLIGHT, 'no callback started after SIGTERM');
      assert.notEqual(refusedAfterMs, null, 'new connections were refused while draining, before the exit');
      assert.deepEqual(wrong, []);
      assert.equal(deleted + rescheduled + retrying, IN_FLIGHT, 'every outcome written');
      assert.equal(untouched, DUE - IN_FLIGHT + LATER, 'every job not yet started is still due');
      assert.deepEqual(leftOneOffs, [], 'every one-off ran and went');
      assert.deepEqual(unserved, [], 'every periodic job served its slot');
      assert.equal(secondExit, 0);
    });
  });
}
