/**
 * Crash fault injection: rounds of kill -9 at a random moment while a load generator sends PUT,
 * DELETE and trigger requests and jobs fire against an endpoint answering 200, 204 or 500 at
 * random. After each restart, with callbacks held at the endpoint so nothing moves:
 * - every job the ledger says is there is in the database, in memory (GET) and on the wheel, with
 *   the schedule its PUT gave; every acknowledged DELETE stays deleted;
 * - the wheel and the database agree key by key: each enabled row is on the wheel at its next_run
 *   or its callback is in flight, and the wheel holds nothing else;
 * - nothing due is left on the wheel.
 * After the last round every remaining job fires again. A callback repeated with the same
 * Dalga-Sched and Dalga-Attempt is allowed only when the first one was in flight at a kill.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { DalgaProcess } from '../helpers/dalga-process.js';
import { skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import type { EndpointServer, ReceivedCallback } from '../helpers/endpoint-server.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { isSlotOf, JobLedger, type LedgerSchedule } from '../helpers/job-ledger.js';
import { readStoredJobs, type StoredJob } from '../helpers/job-rows.js';
import { LoadGenerator, loadKeys, type LoadKey } from '../helpers/load-generator.js';
import { createTestStack } from '../helpers/test-stack.js';

/** A restarted server may wait ~3 s for the dead one's database lease before it loads. */
const START_TIMEOUT_MS = 20_000;
/**
 * A callback received this long before a kill may still have had its outcome unwritten (the
 * write-back queues behind the key's API changes and shares the database with the load).
 */
const IN_FLIGHT_WINDOW_MS = 2_000;
/** How late a due timer may still sit on the wheel (event-loop delay on a loaded 2-core machine). */
const OVERDUE_TOLERANCE_MS = 1_500;

const keyOf = (callback: ReceivedCallback): string => `${callback.path.slice(1)}/${callback.body}`;
const header = (callback: ReceivedCallback, name: string): string => String(callback.headers[name] ?? '');
const iso = (ms: number | null | undefined): string => (ms === null || ms === undefined ? String(ms) : new Date(ms).toISOString());

/**
 * The endpoint's behaviour: a random 200 (60 %), 500 (30 %) or 204 (10 %); while `holdUntil` is in
 * the future, answers wait until then, so the server's state stands still for a snapshot.
 * Answers that delete a job (204, 200 to a one-off) go into the ledger.
 */
class RandomEndpoint {
  holdUntil = 0;
  /** The status chosen for each received callback, and when it is sent, by index. */
  readonly statuses: number[] = [];
  readonly answeredAt: number[] = [];

  constructor(endpoint: EndpointServer, ledger: JobLedger) {
    endpoint.responder = (callback, index) => {
      const roll = Math.random();
      const status = roll < 0.6 ? 200 : roll < 0.9 ? 500 : 204;
      const delayMs = Math.max(0, this.holdUntil - Date.now());
      this.statuses[index] = status;
      this.answeredAt[index] = Date.now() + delayMs;
      if (status === 204 || (status === 200 && callback.path === '/once')) {
        ledger.deletingAnswer(keyOf(callback), Date.parse(header(callback, 'dalga-sched')), this.answeredAt[index]);
      }
      return { status, delayMs };
    };
  }
}

interface Snapshot {
  takenAt: number;
  rows: Map<string, StoredJob>;
  wheel: { timers: number; waiting: number; next: { path: string; body: string; due: string }[] };
  wheelReadAt: number;
  /** GET /jobs/<path>/<body> per key: the in-memory view. */
  memory: Map<string, { status: number; nextRun: number | null; nextSched: number | null }>;
  /** Keys whose callback arrived since the hold began: in flight, unanswered. */
  inFlight: Set<string>;
}

async function mapLimit<T, R>(items: T[], limit: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await each(items[i]);
      }
    }),
  );
  return results;
}

/**
 * Reads the database, the wheel and memory while callbacks are held at the endpoint and no API
 * request is made: outcomes already answered are written first, then nothing changes but due jobs
 * starting their (held) callbacks. Retries with a longer hold if the reads outlast it.
 */
async function frozenSnapshot(
  dalga: DalgaProcess,
  db: TestDatabase,
  endpoint: EndpointServer,
  random: RandomEndpoint,
  keys: LoadKey[],
): Promise<Snapshot> {
  for (let holdMs = 1_500; ; holdMs *= 2) {
    const heldFrom = Date.now();
    random.holdUntil = heldFrom + holdMs;
    await sleep(300);
    await eventually(
      () => dalga.request('GET', '/status'),
      (s) => s.json?.write_backs_pending === 0,
      'write-backs to land',
      10_000,
    );
    const rows = new Map((await readStoredJobs(db)).map((row) => [`${row.path}/${row.body}`, row]));
    const memoryAnswers = await mapLimit(keys, 16, (key) => dalga.request('GET', `/jobs/${key.path}/${key.body}`));
    const wheelReadAt = Date.now();
    const wheel = (await dalga.request('GET', '/debug/wheel?next=1000')).json as Snapshot['wheel'];
    // A job that left the wheel just now reaches the endpoint a moment later.
    await sleep(200);
    const takenAt = Date.now();
    if (takenAt < random.holdUntil - 100) {
      const memory = new Map(
        memoryAnswers.map((answer, i) => [
          keys[i].id,
          {
            status: answer.status,
            nextRun: answer.json?.next_run ? Date.parse(answer.json.next_run) : null,
            nextSched: answer.json?.next_sched ? Date.parse(answer.json.next_sched) : null,
          },
        ]),
      );
      const inFlight = new Set(endpoint.received.filter((c) => c.at >= heldFrom).map(keyOf));
      return { takenAt, rows, wheel, wheelReadAt, memory, inFlight };
    }
    await sleep(random.holdUntil - Date.now()); // the hold ran out mid-read: let it end, then again
  }
}

/** The row has the PUT's kind and interval, and waits for one of its slots. */
function matchesSchedule(row: StoredJob, schedule: LedgerSchedule): boolean {
  const kindMatches = schedule.kind === 'once' ? row.oneOff && row.interval === null : !row.oneOff && row.interval === String(schedule.seconds);
  return kindMatches && isSlotOf(schedule, row.nextSched);
}

function describeSchedule(schedule: LedgerSchedule): string {
  return schedule.kind === 'once' ? `once at ${iso(schedule.firstRun)}` : `every ${schedule.seconds} s from ${iso(schedule.firstRun)}`;
}

interface CheckResult {
  problems: string[];
  lost: number;
  resurrected: number;
  present: number;
  uncertain: number;
}

/** Database, wheel, memory and ledger, key by key. */
function checkSnapshot(snapshot: Snapshot, ledger: JobLedger, keys: LoadKey[]): CheckResult {
  const result: CheckResult = { problems: [], lost: 0, resurrected: 0, present: 0, uncertain: 0 };
  const problem = (text: string) => result.problems.push(text);
  const { rows, wheel, memory, inFlight } = snapshot;
  const onWheel = new Map(wheel.next.map((entry) => [`${entry.path}/${entry.body}`, Date.parse(entry.due)]));

  if (wheel.timers !== wheel.next.length) problem(`wheel holds ${wheel.timers} timers but listed ${wheel.next.length}`);
  if (wheel.waiting !== 0) problem(`${wheel.waiting} due jobs wait for a callback slot (max_running is above the key count)`);
  for (const [key, row] of rows) {
    if (row.nextRun === null) {
      problem(`${key}: disabled in the database, but nothing disables jobs here`);
      continue;
    }
    const due = onWheel.get(key);
    const running = inFlight.has(key) && row.nextRun <= snapshot.takenAt;
    if (due !== row.nextRun && !running) {
      problem(`${key}: database next_run ${iso(row.nextRun)}, wheel ${iso(due)}, callback in flight: ${inFlight.has(key)}`);
    }
    if (row.attempts === 0 && row.triggeredAt === null && row.nextRun !== row.nextSched) {
      problem(`${key}: not retrying nor triggered, yet next_run ${iso(row.nextRun)} is not its slot ${iso(row.nextSched)}`);
    }
  }
  for (const [key, due] of onWheel) {
    if (!rows.has(key)) problem(`${key}: on the wheel at ${iso(due)} but not in the database`);
    if (due < snapshot.wheelReadAt - OVERDUE_TOLERANCE_MS) problem(`${key}: due ${iso(due)} but still on the wheel at ${iso(snapshot.wheelReadAt)}`);
  }
  for (const key of keys) {
    const row = rows.get(key.id);
    const seen = memory.get(key.id);
    if (!seen || seen.status !== (row ? 200 : 404)) {
      problem(`${key.id}: GET answered ${seen?.status}, database ${row ? 'has' : 'has no'} row`);
    } else if (row && (seen.nextRun !== row.nextRun || seen.nextSched !== row.nextSched)) {
      problem(`${key.id}: GET next_run ${iso(seen.nextRun)} next_sched ${iso(seen.nextSched)}, database ${iso(row.nextRun)} ${iso(row.nextSched)}`);
    }
    // Callbacks still held at the endpoint have not been answered: they cannot have deleted anything yet.
    const expected = ledger.expectation(key.id, snapshot.takenAt);
    if (expected.kind === 'present') result.present++;
    if (expected.kind === 'either') result.uncertain++;
    if (expected.kind === 'present' && !row) {
      result.lost++;
      problem(`${key.id}: LOST: acknowledged as ${expected.schedules.map(describeSchedule).join(' or ')}, not in the database`);
    } else if (expected.kind === 'absent' && row) {
      result.resurrected++;
      problem(`${key.id}: deleted (acknowledged), yet in the database with next_sched ${iso(row.nextSched)}`);
    } else if (row && expected.kind !== 'absent' && !expected.schedules.some((schedule) => matchesSchedule(row, schedule))) {
      problem(
        `${key.id}: schedule interval=${row.interval} one_off=${row.oneOff} next_sched ${iso(row.nextSched)}, ` +
          `acknowledged ${expected.schedules.map(describeSchedule).join(' or ')}`,
      );
    }
  }
  return result;
}

interface DuplicateReport {
  duplicates: number;
  allowed: number;
  unexplained: string[];
  /** Longest time from an allowed duplicate's first answer to the kill. */
  maxGapMs: number;
}

/**
 * Callbacks with the same key, Dalga-Sched and Dalga-Attempt: allowed only across a kill that
 * caught the first in flight (received before the kill, answered at most IN_FLIGHT_WINDOW_MS before it).
 */
function findDuplicates(received: ReceivedCallback[], random: RandomEndpoint, kills: number[]): DuplicateReport {
  const report: DuplicateReport = { duplicates: 0, allowed: 0, unexplained: [], maxGapMs: 0 };
  const describeCallback = (index: number) => {
    const callback = received[index];
    return `sched=${header(callback, 'dalga-sched')} attempt=${header(callback, 'dalga-attempt')} at ${iso(callback.at)} -> ${random.statuses[index]}`;
  };
  const byKey = new Map<string, number[]>();
  const groups = new Map<string, number[]>();
  received.forEach((callback, index) => {
    const id = `${keyOf(callback)} sched=${header(callback, 'dalga-sched')} attempt=${header(callback, 'dalga-attempt')}`;
    groups.set(id, [...(groups.get(id) ?? []), index]);
    byKey.set(keyOf(callback), [...(byKey.get(keyOf(callback)) ?? []), index]);
  });
  for (const [id, group] of groups) {
    for (let i = 1; i < group.length; i++) {
      const first = received[group[i - 1]];
      const firstAnswered = random.answeredAt[group[i - 1]];
      const again = received[group[i]];
      report.duplicates++;
      // Arrival is stamped when the body has been read, so allow a few ms past the kill.
      const kill = kills.find((at) => first.at <= at + 50 && firstAnswered >= at - IN_FLIGHT_WINDOW_MS && again.at > at);
      if (kill !== undefined && header(first, 'dalga-instance') !== header(again, 'dalga-instance')) {
        report.allowed++;
        report.maxGapMs = Math.max(report.maxGapMs, kill - firstAnswered);
        continue;
      }
      // What the key did in between tells why (a trigger in between shows as another Dalga-Sched).
      const between = (byKey.get(keyOf(first)) ?? []).filter((index) => index >= group[i - 1] && index <= group[i]);
      report.unexplained.push(
        `${id}, both from ${header(again, 'dalga-instance') === header(first, 'dalga-instance') ? 'one server' : 'two servers'}:\n    ${between.map(describeCallback).join('\n    ')}`,
      );
    }
  }
  return report;
}

/**
 * "Every job due fires": after the last restart, with no more API changes, each job of the final
 * snapshot makes a callback: an interval job one for a slot after the restart (unless a 204 deleted
 * it first), a one-off job the one for its slot. Returns the jobs that did not.
 */
async function waitForEveryJobToFire(
  snapshot: Snapshot,
  endpoint: EndpointServer,
  statuses: number[],
  restartedAt: number,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fired = new Set<string>();
    const deletedBy204 = new Set<string>();
    endpoint.received.forEach((callback, index) => {
      if (callback.at < restartedAt) return;
      const key = keyOf(callback);
      const sched = Date.parse(header(callback, 'dalga-sched'));
      const row = snapshot.rows.get(key);
      if (!row) return;
      if (statuses[index] === 204) deletedBy204.add(key);
      if (row.oneOff ? sched === (row.triggeredAt ?? row.nextSched) : sched > restartedAt) fired.add(key);
    });
    const silent = [...snapshot.rows.values()].map((row) => `${row.path}/${row.body}`).filter((key) => !fired.has(key) && !deletedBy204.has(key));
    if (silent.length === 0 || Date.now() > deadline) {
      return silent.map((key) => {
        const row = snapshot.rows.get(key) as StoredJob;
        return `${key}: no callback since the restart (next_run ${iso(row.nextRun)}, one_off ${row.oneOff})`;
      });
    }
    await sleep(100);
  }
}

async function crashRounds(t: TestContext, kind: DatabaseKind, rounds: number): Promise<void> {
  const stack = await createTestStack(
    kind,
    // Fast retries so 500s are retried during the load; max_running above the key count so nothing waits.
    (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 10\n[jobs]\nretry_interval = 0.2\nretry_max_interval = 1\nmax_running = 1000\n`,
  );
  const { endpoint, db, config } = stack;
  const ledger = new JobLedger();
  const random = new RandomEndpoint(endpoint, ledger);
  const keys = loadKeys(150, 100);
  const generator = new LoadGenerator({ keys, ledger, workers: 6 });
  const kills: number[] = [];
  const problems: string[] = [];
  let dalga: DalgaProcess | null = null;
  let lost = 0;
  let resurrected = 0;
  let silent: string[] = [];
  let callbacksUnderLoad = 0;
  let callbacksAtResume = 0;
  const started = Date.now();
  try {
    dalga = await DalgaProcess.start(config, { timeoutMs: START_TIMEOUT_MS });
    generator.resume(dalga);
    await sleep(2_000); // jobs exist and fire before the first kill
    let lastSnapshot: Snapshot | null = null;
    let restartedAt = 0;
    for (let round = 1; round <= rounds; round++) {
      // A random moment, but not while the previous snapshot still holds callbacks.
      const earliest = lastSnapshot ? random.holdUntil + 200 - Date.now() : 0;
      await sleep(Math.max(earliest, 200 + Math.floor(Math.random() * 1_300)));
      generator.halt();
      kills.push(Date.now());
      await dalga.kill();
      await generator.idle();
      callbacksUnderLoad += endpoint.received.length - callbacksAtResume;

      restartedAt = Date.now();
      dalga = await DalgaProcess.start(config, { timeoutMs: START_TIMEOUT_MS });
      const readyMs = Date.now() - restartedAt;
      const snapshotStarted = Date.now();
      lastSnapshot = await frozenSnapshot(dalga, db, endpoint, random, keys);
      const check = checkSnapshot(lastSnapshot, ledger, keys);
      lost += check.lost;
      resurrected += check.resurrected;
      problems.push(...check.problems.map((text) => `round ${round}: ${text}`));
      t.diagnostic(
        `round ${round}: restart ${readyMs} ms, snapshot ${lastSnapshot.takenAt - snapshotStarted} ms, ${lastSnapshot.rows.size} jobs (${check.present} certain, ${check.uncertain} uncertain), ` +
          `${lastSnapshot.inFlight.size} callbacks held, ${check.problems.length} problems`,
      );
      if (round < rounds) {
        callbacksAtResume = endpoint.received.length;
        generator.resume(dalga);
      }
    }
    await generator.stop();
    // Every job due fires: interval jobs within a period or three plus retries, one-offs within seconds.
    await sleep(Math.max(0, random.holdUntil - Date.now()));
    silent = await waitForEveryJobToFire(lastSnapshot as Snapshot, endpoint, random.statuses, restartedAt, 20_000);
    assert.equal(await dalga.stop(), 0);
    dalga = null;
  } finally {
    await generator.stop();
    await dalga?.kill();
    await stack.teardown();
  }

  const duplicates = findDuplicates(endpoint.received, random, kills);
  const summary = {
    database: kind,
    rounds,
    requests: generator.requests,
    acknowledged: generator.putsAcknowledged,
    deletesAcknowledged: generator.deletesAcknowledged,
    lost,
    resurrected,
    duplicates: duplicates.duplicates,
    duplicatesAllowed: duplicates.allowed,
    callbacks: endpoint.received.length,
    callbacksUnderLoad,
    problems: problems.length,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(generator.statuses))}`);
  t.diagnostic(`allowed duplicates: first seen at most ${duplicates.maxGapMs} ms before a kill`);
  t.diagnostic(`summary: ${JSON.stringify(summary)}`);
  console.log(`CRASH-SUMMARY ${JSON.stringify(summary)}`);

  const list = (items: string[]) => `\n  ${items.slice(0, 30).join('\n  ')}${items.length > 30 ? `\n  ... and ${items.length - 30} more` : ''}`;
  assert.ok(generator.putsAcknowledged >= rounds * 20, `only ${generator.putsAcknowledged} PUTs acknowledged: the load did not run`);
  assert.ok(callbacksUnderLoad >= rounds * 5, `only ${callbacksUnderLoad} callbacks while the load ran: jobs did not fire`);
  assert.deepEqual(generator.anomalies, [], `unexpected answers:${list(generator.anomalies.map((a) => `${a.key}: ${a.what}`))}`);
  assert.equal(lost, 0, `${lost} acknowledged jobs lost`);
  assert.deepEqual(problems, [], `after a restart:${list(problems)}`);
  assert.deepEqual(
    duplicates.unexplained,
    [],
    `${duplicates.unexplained.length} duplicate callbacks not explained by a kill:${list(duplicates.unexplained)}`,
  );
  assert.deepEqual(silent, [], `jobs that did not fire after the last restart:${list(silent)}`);
}

/** CRASH_TEST_ROUNDS runs more (or fewer) rounds on both databases, for a longer soak (not DALGA_*: the server reads those as its config). */
const ROUNDS: Record<DatabaseKind, number> = process.env.CRASH_TEST_ROUNDS
  ? { mysql: Number(process.env.CRASH_TEST_ROUNDS), sqlite: Number(process.env.CRASH_TEST_ROUNDS) }
  : { mysql: 20, sqlite: 5 };

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`crash (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    test(`${ROUNDS[kind]} rounds of kill -9 under load: nothing acknowledged is lost, wheel and database agree`, { timeout: 300_000 }, (t) =>
      crashRounds(t, kind, ROUNDS[kind]),
    );
  });
}
