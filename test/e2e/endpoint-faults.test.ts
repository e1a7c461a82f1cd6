/**
 * Endpoint faults against a real server: 500s, a hang past the timeout, a refused connection, a
 * connection cut mid-response, slow trickles, a huge response body. Each failed attempt is retried
 * after the configured backoff and never sooner (no hot loop), max_running holds at the endpoint
 * whatever the endpoint does, and the server's memory stays flat.
 *
 * The endpoint is a raw TCP server (test/helpers/fault-endpoint.ts), so it can break HTTP itself.
 * Prints one `ENDPOINT-SUMMARY {json}` line to stdout (also as a test diagnostic).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { memoryOf } from '../../bench/lib/proc.js';
import { skipUnlessMysql } from '../helpers/databases.js';
import { DalgaProcess } from '../helpers/dalga-process.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { FaultEndpoint, type Fault, type FaultRequest } from '../helpers/fault-endpoint.js';
import { freePort } from '../helpers/free-port.js';
import { createTestStack, type TestStack } from '../helpers/test-stack.js';

/** The backoff of the servers below: retry_interval, retry_multiplier, retry_max_interval (ms). */
interface Backoff {
  intervalMs: number;
  multiplier: number;
  maxMs: number;
}

/** The delay before retry `n` (1 = after the first failure), as the README defines it. */
function backoffMs(n: number, policy: Backoff): number {
  return Math.min(policy.intervalMs * policy.multiplier ** (n - 1), policy.maxMs);
}

function backoffIni(policy: Backoff): string {
  return `retry_interval = ${policy.intervalMs / 1000}\nretry_multiplier = ${policy.multiplier}\nretry_max_interval = ${policy.maxMs / 1000}\n`;
}

/**
 * Attempt n+1 starts no sooner than the end of attempt n plus backoff(n), and attempt n ends no
 * sooner than `answerMs` after it started (0 when the endpoint answers at once, the timeout when it
 * never does). `times` are arrivals at the endpoint or Dalga's own callback log times.
 * The lower bound is the contract (a little slack for ms rounding and, when answerMs > 0, for the
 * request's way to the endpoint); the upper bound is generous, for a loaded 2-core machine.
 */
function assertBackoffGaps(times: number[], answerMs: number, policy: Backoff, label: string): void {
  const slack = answerMs > 0 ? 40 : 5;
  for (let n = 1; n < times.length; n++) {
    const gap = times[n] - times[n - 1];
    const expected = answerMs + backoffMs(n, policy);
    assert.ok(gap >= expected - slack, `${label}: attempt ${n + 1} came ${gap} ms after attempt ${n}, sooner than ${expected} ms`);
    assert.ok(gap <= expected + 1_500, `${label}: attempt ${n + 1} came ${gap} ms after attempt ${n}, expected ~${expected} ms`);
  }
}

/** How many attempts the backoff allows within windowMs of the first one (the first included). */
function attemptsAllowedWithin(windowMs: number, answerMs: number, policy: Backoff): number {
  let at = 0;
  let count = 0;
  while (at <= windowMs) {
    count++;
    at += answerMs + backoffMs(count, policy);
  }
  return count;
}

function assertSameSlot(requests: FaultRequest[], label: string): void {
  assert.deepEqual(
    requests.map((r) => r.attempt),
    requests.map((_, i) => i + 1),
    `${label}: Dalga-Attempt counts up from 1`,
  );
  assert.equal(new Set(requests.map((r) => r.sched)).size, 1, `${label}: every retry serves the same Dalga-Sched`);
}

async function metric(dalga: DalgaProcess, series: string): Promise<number> {
  const text = (await dalga.request('GET', '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

interface CallbackLog {
  at: number;
  attempt: number;
  status: number | null;
  error: string | null;
  ms: number;
}

/** The server's `callback` log lines (it runs with -debug) for one job path. */
function callbackLogs(dalga: DalgaProcess, path: string): CallbackLog[] {
  const logs: CallbackLog[] = [];
  for (const line of dalga.output.split('\n')) {
    if (!line.includes('"msg":"callback"')) continue;
    const record = JSON.parse(line) as {
      time: string;
      job: { path: string };
      attempt: number;
      status: number | null;
      error: string | null;
      ms: number;
    };
    if (record.job.path === path)
      logs.push({ at: Date.parse(record.time), attempt: record.attempt, status: record.status, error: record.error, ms: record.ms });
  }
  return logs;
}

function rssMb(dalga: DalgaProcess): number {
  const memory = memoryOf(dalga.pid);
  assert.ok(memory, 'the server is running');
  return Math.round((memory.rss / 2 ** 20) * 10) / 10;
}

/** Median RSS of a few samples, so that one GC in the middle does not decide a comparison. */
async function steadyRssMb(dalga: DalgaProcess, samples = 5): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    values.push(rssMb(dalga));
    await sleep(100);
  }
  return values.sort((a, b) => a - b)[Math.floor(samples / 2)];
}

/** Preloaded into a server so that SIGUSR2 runs a full garbage collection. */
const GC_ON_SIGNAL = new URL('../helpers/gc-on-signal.mjs', import.meta.url).href;

/** RSS and JS heap in use right after a full GC (the server must run with GC_ON_SIGNAL). */
async function retainedMemory(dalga: DalgaProcess): Promise<{ rssMb: number; heapMb: number }> {
  process.kill(dalga.pid, 'SIGUSR2');
  await sleep(300);
  const heapMb = Math.round(((await metric(dalga, 'nodejs_heap_size_used_bytes')) / 2 ** 20) * 10) / 10;
  return { rssMb: await steadyRssMb(dalga, 3), heapMb };
}

/** Most exchanges open at once among `requests` (an exchange that ended as another arrived does not overlap it). */
function mostAtOnce(requests: FaultRequest[]): number {
  const edges = requests.flatMap((r) => [
    { at: r.at, delta: 1 },
    { at: r.endedAt ?? Infinity, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let most = 0;
  for (const edge of edges) most = Math.max(most, (open += edge.delta));
  return most;
}

/** What the run saw, printed at the end as ENDPOINT-SUMMARY. */
const summary = {
  faults: {} as Record<string, { callbacks: number; [detail: string]: unknown }>,
  callbacks: 0,
  /** Per server: its max_running and the most requests its endpoint ever had open at once. */
  concurrency: {} as Record<string, { maxRunning: number; maxSeen: number }>,
  rssMb: {} as Record<string, number>,
};

/** The jobs here fail for good and would be retried forever: each test deletes its own. */
async function deleteJobs(dalga: DalgaProcess, keys: string[]): Promise<void> {
  for (const key of keys) assert.equal((await dalga.request('DELETE', `/jobs/${key}`)).status, 204);
}

// ---------------------------------------------------------------------------------------------
// Faults served by a misbehaving endpoint, one server on MySQL.

const TIMEOUT_MS = 800;
const MAX_RUNNING = 3;
const BACKOFF: Backoff = { intervalMs: 400, multiplier: 2, maxMs: 1_600 };

describe('endpoint faults (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  let stack: TestStack;
  let dalga: DalgaProcess;
  let endpoint: FaultEndpoint;
  /** The fault each path gets; 200 for any other path. */
  const faults = new Map<string, Fault>();

  before(async () => {
    endpoint = await FaultEndpoint.start();
    endpoint.pick = (request) => faults.get(request.path) ?? { kind: 'status', status: 200 };
    stack = await createTestStack(
      'mysql',
      () =>
        `[endpoint]\nbaseurl = ${endpoint.baseUrl}\ntimeout = ${TIMEOUT_MS / 1000}\n` +
        `[jobs]\n${backoffIni(BACKOFF)}max_running = ${MAX_RUNNING}\n`,
    );
    dalga = await DalgaProcess.start(stack.config);
  });

  after(async () => {
    summary.callbacks += endpoint?.requests.length ?? 0;
    summary.concurrency.faults = { maxRunning: MAX_RUNNING, maxSeen: endpoint?.maxOpen ?? 0 };
    await dalga?.stop();
    await stack?.teardown();
    await endpoint?.close();
  });

  test('500s: each retry waits the backoff and never less; the attempts are all counted', async () => {
    faults.set('/e500', { kind: 'status', status: 500 });
    const failuresBefore = await metric(dalga, 'dalga_callbacks_total{outcome="failure"}');
    await dalga.request('PUT', '/jobs/e500/a?interval=3600&immediate=true');
    const requests = await endpoint.waitFor('/e500', 6, 20_000);
    assertSameSlot(requests, '500');
    // 400, 800, 1600 (the cap), 1600, 1600 ms.
    assertBackoffGaps(
      requests.map((r) => r.at),
      0,
      BACKOFF,
      '500',
    );

    // No hot loop: within a window past the sixth attempt, no more attempts than the backoff allows.
    const first = requests[0].at;
    const windowMs = requests[5].at - first + 1_000;
    await sleep(first + windowMs - Date.now());
    const inWindow = endpoint.matching('/e500').filter((r) => r.at - first <= windowMs).length;
    assert.ok(inWindow <= attemptsAllowedWithin(windowMs, 0, BACKOFF), `${inWindow} attempts within ${windowMs} ms`);

    const job = await eventually(
      () => dalga.request('GET', '/jobs/e500/a'),
      (r) => r.json.attempts === endpoint.matching('/e500').length,
      'the job to count every attempt the endpoint saw',
    );
    assert.equal(job.json.last_status, 500);
    assert.match(job.json.last_error, /500/);
    await deleteJobs(dalga, ['e500/a']);
    await eventually(
      async () => (await metric(dalga, 'dalga_callbacks_total{outcome="failure"}')) - failuresBefore,
      (failures) => failures === endpoint.matching('/e500').length,
      'the failures the metrics count to be the attempts the endpoint saw',
    );
    const seen = endpoint.matching('/e500').length;
    summary.faults['500'] = { callbacks: seen, gapsMs: gaps(endpoint.matching('/e500')) };
  });

  test('a hang past the timeout: the attempt ends at the timeout, Dalga closes the connection, then the backoff', async () => {
    faults.set('/hang', { kind: 'hang' });
    const timeoutsBefore = await metric(dalga, 'dalga_callbacks_total{outcome="timeout"}');
    await dalga.request('PUT', '/jobs/hang/a?interval=3600&immediate=true');
    const requests = await endpoint.waitFor('/hang', 3, 15_000);
    assertSameSlot(requests, 'hang');
    // timeout + 400, timeout + 800 ms.
    assertBackoffGaps(
      requests.map((r) => r.at),
      TIMEOUT_MS,
      BACKOFF,
      'hang',
    );
    for (const request of requests.slice(0, 2)) {
      assert.equal(request.end, 'client-closed', 'Dalga gives up on the connection');
      const heldMs = (request.endedAt ?? NaN) - request.at;
      assert.ok(heldMs >= TIMEOUT_MS - 50 && heldMs <= TIMEOUT_MS + 1_000, `connection held ${heldMs} ms, timeout ${TIMEOUT_MS} ms`);
    }
    const logged = callbackLogs(dalga, 'hang').slice(0, 2);
    for (const log of logged) {
      assert.equal(log.status, null);
      assert.match(log.error ?? '', /^timeout/);
      assert.ok(log.ms >= TIMEOUT_MS - 2 && log.ms <= TIMEOUT_MS + 700, `the attempt took ${log.ms} ms, timeout ${TIMEOUT_MS} ms`);
    }
    const job = await eventually(
      () => dalga.request('GET', '/jobs/hang/a'),
      (r) => r.json.attempts >= 2,
      'two failed attempts',
    );
    assert.equal(job.json.last_status, null);
    assert.match(job.json.last_error, /timeout/);
    assert.ok((await metric(dalga, 'dalga_callbacks_total{outcome="timeout"}')) - timeoutsBefore >= 2, 'counted as timeouts');
    await deleteJobs(dalga, ['hang/a']);
    await endpoint.waitUntil(() => (endpoint.matching('/hang').every((r) => r.end !== null) ? true : null), 'the last hang to end');
    summary.faults.hang = { callbacks: endpoint.matching('/hang').length, attemptMs: logged.map((l) => l.ms) };
  });

  test('a connection cut mid-response (status line, headers, body): a failure, retried with the backoff', async () => {
    const cuts: Record<string, Fault> = {
      '/cut-status': { kind: 'cut', partial: 'HTTP/1.1 20', how: 'reset' },
      '/cut-headers': { kind: 'cut', partial: 'HTTP/1.1 200 OK\r\nContent-Le', how: 'close' },
      '/cut-body': { kind: 'cut', partial: 'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100\r\n\r\nhalf', how: 'reset' },
    };
    for (const [path, fault] of Object.entries(cuts)) {
      faults.set(path, fault);
      await dalga.request('PUT', `/jobs${path}/a?interval=3600&immediate=true`);
    }
    const detail: Record<string, string> = {};
    for (const path of Object.keys(cuts)) {
      const requests = await endpoint.waitFor(path, 4, 15_000);
      assertSameSlot(requests, path);
      assertBackoffGaps(
        requests.map((r) => r.at),
        0,
        BACKOFF,
        path,
      );
      const job = (await dalga.request('GET', `/jobs${path}/a`)).json;
      assert.ok(job.attempts >= 3, `${path}: ${job.attempts} failed attempts recorded`);
      assert.ok(job.last_error, `${path}: last_error says why`);
      assert.doesNotMatch(job.last_error, /^timeout/, `${path}: a cut connection is not a timeout`);
      if (path !== '/cut-body') assert.equal(job.last_status, null, `${path}: no status was received`);
      detail[path] = job.last_error;
    }
    await deleteJobs(
      dalga,
      Object.keys(cuts).map((path) => `${path.slice(1)}/a`),
    );
    summary.faults.cut = { callbacks: Object.keys(cuts).reduce((n, p) => n + endpoint.matching(p).length, 0), errors: detail };
  });

  test('headers trickled slowly: the attempt is cut at the timeout and retried with the backoff', async () => {
    faults.set('/trickle-headers', { kind: 'trickle-headers', everyMs: 100 });
    await dalga.request('PUT', '/jobs/trickle-headers/a?interval=3600&immediate=true');
    const requests = await endpoint.waitFor('/trickle-headers', 3, 15_000);
    assertSameSlot(requests, 'trickle-headers');
    assertBackoffGaps(
      requests.map((r) => r.at),
      TIMEOUT_MS,
      BACKOFF,
      'trickle-headers',
    );
    for (const request of requests.slice(0, 2)) {
      assert.equal(request.end, 'client-closed');
      const heldMs = (request.endedAt ?? NaN) - request.at;
      assert.ok(heldMs <= TIMEOUT_MS + 1_000, `a trickle of headers held the connection ${heldMs} ms, timeout ${TIMEOUT_MS} ms`);
    }
    const job = (await dalga.request('GET', '/jobs/trickle-headers/a')).json;
    assert.equal(job.last_status, null);
    assert.match(job.last_error, /timeout/);
    await deleteJobs(dalga, ['trickle-headers/a']);
    await endpoint.waitUntil(() => (endpoint.matching('/trickle-headers').every((r) => r.end !== null) ? true : null), 'the last trickle to end');
    summary.faults['trickle-headers'] = { callbacks: endpoint.matching('/trickle-headers').length };
  });

  test('a body trickled slowly after a 500: the status decides at once, the connection is dropped by the timeout', async () => {
    faults.set('/trickle-body', { kind: 'trickle-body', status: 500, everyMs: 50 });
    await dalga.request('PUT', '/jobs/trickle-body/a?interval=3600&immediate=true');
    const requests = await endpoint.waitFor('/trickle-body', 4, 15_000);
    assertSameSlot(requests, 'trickle-body');
    // The status line came at once: the backoff runs from there, not from the end of the body.
    assertBackoffGaps(
      requests.map((r) => r.at),
      0,
      BACKOFF,
      'trickle-body',
    );
    await deleteJobs(dalga, ['trickle-body/a']);
    const ended = await endpoint.waitUntil(
      () => (endpoint.matching('/trickle-body').every((r) => r.end !== null) ? endpoint.matching('/trickle-body') : null),
      'every trickled body to end',
      5_000,
    );
    for (const request of ended) {
      assert.equal(request.end, 'client-closed', 'Dalga drops the connection; the body never completes');
      const heldMs = (request.endedAt as number) - request.at;
      assert.ok(heldMs <= TIMEOUT_MS + 1_000, `a trickled body held the connection ${heldMs} ms, timeout ${TIMEOUT_MS} ms`);
    }
    summary.faults['trickle-body'] = { callbacks: ended.length, heldMs: ended.map((r) => (r.endedAt as number) - r.at) };
  });

  test('bodies still trickling in do not make the next callbacks time out unsent', async () => {
    // max_running bodies trickling after a 200: their slots are free once the status is in, so the
    // next jobs start at once, and each must reach the endpoint (which answers 200 at once) and succeed.
    faults.set('/slow-body', { kind: 'trickle-body', status: 200, everyMs: 50 });
    for (let i = 0; i < MAX_RUNNING; i++) await dalga.request('PUT', `/jobs/slow-body/${i}?interval=3600&immediate=true`);
    await endpoint.waitFor('/slow-body', MAX_RUNNING, 10_000);
    const keys = ['quick/0', 'quick/1', 'quick/2'];
    const putAt = Date.now();
    for (const key of keys) await dalga.request('PUT', `/jobs/${key}?one-off=true&immediate=true`);
    // A one-off is gone after its 200; a failed attempt leaves it with attempts >= 1.
    const outcomes = await eventually(
      () =>
        Promise.all(
          keys.map(async (key) => {
            const response = await dalga.request('GET', `/jobs/${key}`);
            if (response.status === 404) return null;
            return response.json.attempts > 0 ? `${key}: ${response.json.last_error}` : undefined;
          }),
        ),
      (results) => results.every((result) => result !== undefined),
      'each quick job to have run once',
      10_000,
    );
    const failedFirst = outcomes.filter((result) => result !== null);
    const arrivalsMs = endpoint.matching('/quick').map((r) => r.at - putAt);
    await deleteJobs(dalga, [...keys, ...[0, 1, 2].map((i) => `slow-body/${i}`)]);
    await endpoint.waitUntil(() => (endpoint.requests.every((r) => r.end !== null) ? true : null), 'every exchange to end', 5_000);
    summary.faults['slow-body-then-quick'] = {
      callbacks: endpoint.matching('/slow-body').length + endpoint.matching('/quick').length,
      failedFirst,
      quickArrivalsMs: arrivalsMs,
    };
    // Sent at once: a hidden wait for a socket behind the trickles eats the callbacks' own timeout.
    for (const ms of arrivalsMs) assert.ok(ms <= TIMEOUT_MS / 2, `a quick callback reached the endpoint ${ms} ms after its PUT (all: ${arrivalsMs})`);
    assert.deepEqual(failedFirst, [], `one-offs answered 200 at once must succeed first time; the endpoint saw them at +${arrivalsMs} ms`);
  });

  test(`max_running = ${MAX_RUNNING}: the endpoint never has more requests open at once`, async () => {
    faults.set('/hold', { kind: 'status', status: 200, holdMs: 300 });
    const count = 12;
    for (let i = 0; i < count; i++) await dalga.request('PUT', `/jobs/hold/${i}?one-off=true&immediate=true`);
    let mostRunning = 0;
    let mostPending = 0;
    const requests = await (async () => {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const status = (await dalga.request('GET', '/status')).json;
        mostRunning = Math.max(mostRunning, status.running_jobs);
        mostPending = Math.max(mostPending, status.pending_jobs);
        const held = endpoint.matching('/hold');
        if (held.length === count && held.every((r) => r.end !== null)) return held;
        await sleep(25);
      }
      throw new Error(`only ${endpoint.matching('/hold').length} of ${count} held requests ended`);
    })();
    const atOnce = mostAtOnce(requests);
    summary.faults['max-running'] = { callbacks: count, mostAtOnce: atOnce, mostRunning, mostPending };
    assert.equal(atOnce, MAX_RUNNING, `${count} jobs due at once, ${MAX_RUNNING} at a time`);
    assert.ok(mostRunning <= MAX_RUNNING, `/status running_jobs ${mostRunning}`);
    assert.ok(endpoint.maxOpen <= MAX_RUNNING, `over the whole run (every fault above), at most ${endpoint.maxOpen} requests were open at once`);
    await eventually(
      async () => (await dalga.request('GET', '/jobs?path=hold')).json.jobs.length,
      (left) => left === 0,
      'every one-off to be deleted after its 200',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Huge response bodies, with a timeout long enough for them to arrive whole even on a busy machine:
// a server that buffered them would grow by their size.

describe('huge response bodies (sqlite)', () => {
  const bodyMb = 200;
  let stack: TestStack;
  let dalga: DalgaProcess;
  let endpoint: FaultEndpoint;

  before(async () => {
    endpoint = await FaultEndpoint.start();
    endpoint.pick = () => ({ kind: 'huge-body', status: 200, bytes: bodyMb * 2 ** 20 });
    stack = await createTestStack('sqlite', () => `[endpoint]\nbaseurl = ${endpoint.baseUrl}\ntimeout = 8\n`);
    dalga = await DalgaProcess.start(stack.config);
  });

  after(async () => {
    summary.callbacks += endpoint?.requests.length ?? 0;
    summary.concurrency.huge = { maxRunning: 100, maxSeen: endpoint?.maxOpen ?? 0 };
    await dalga?.stop();
    await stack?.teardown();
    await endpoint?.close();
  });

  test(`two ${bodyMb} MB bodies at once are not buffered: the server RSS stays flat, and the 200s count`, async () => {
    const before = await steadyRssMb(dalga);
    let peak = before;
    // Sampled while the bodies flow (waitUntil only wakes on arrivals and ends).
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(dalga))), 20);
    const done = await (async () => {
      for (const body of ['a', 'b']) await dalga.request('PUT', `/jobs/huge/${body}?one-off=true&immediate=true`);
      return endpoint.waitUntil(
        () => (endpoint.requests.length === 2 && endpoint.requests.every((r) => r.end !== null) ? endpoint.requests : null),
        'both huge bodies to end',
        30_000,
      );
    })().finally(() => clearInterval(sampler));
    const sentMb = done.map((r) => Math.round(r.bytesSent / 2 ** 20));
    const heldMs = done.map((r) => (r.endedAt as number) - r.at);
    const after = await steadyRssMb(dalga);
    summary.rssMb.hugeBodyBefore = before;
    summary.rssMb.hugeBodyPeak = peak;
    summary.rssMb.hugeBodyAfter = after;
    summary.faults['huge-body'] = { callbacks: done.length, sentMb, heldMs, ends: done.map((r) => r.end) };
    assert.ok(peak - before < bodyMb / 2, `RSS went from ${before} MB to a peak of ${peak} MB while ${sentMb} MB were sent`);
    for (const ms of heldMs) assert.ok(ms <= 8_000 + 1_000, `a huge body held the connection ${ms} ms, timeout 8 s`);
    await eventually(
      async () => (await dalga.request('GET', '/jobs?path=huge')).json.jobs.length,
      (left) => left === 0,
      'both one-offs to be deleted after their 200',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Nothing listens at the endpoint's port: every attempt is refused at once, a hot loop's best chance.

describe('refused connection (sqlite)', () => {
  const backoff: Backoff = { intervalMs: 250, multiplier: 2, maxMs: 1_000 };
  let stack: TestStack;
  let dalga: DalgaProcess;

  before(async () => {
    const deadPort = await freePort();
    stack = await createTestStack(
      'sqlite',
      () => `[endpoint]\nbaseurl = http://127.0.0.1:${deadPort}/\ntimeout = 0.8\n[jobs]\n${backoffIni(backoff)}`,
    );
    dalga = await DalgaProcess.start(stack.config);
  });

  after(async () => {
    await dalga?.stop();
    await stack?.teardown();
  });

  test('last_error says the connection was refused; attempts follow the backoff, no hot loop', async () => {
    await dalga.request('PUT', '/jobs/refused/a?interval=3600&immediate=true');
    const job = await eventually(
      () => dalga.request('GET', '/jobs/refused/a'),
      (r) => r.json.attempts >= 5,
      'five refused attempts',
      15_000,
    );
    assert.equal(job.json.last_status, null);
    assert.match(job.json.last_error, /ECONNREFUSED/);
    // 250, 500, 1000 (the cap), 1000 ms, between the server's own callback log lines.
    const logs = callbackLogs(dalga, 'refused');
    assert.deepEqual(
      logs.map((l) => l.attempt),
      logs.map((_, i) => i + 1),
    );
    for (const log of logs) assert.match(log.error ?? '', /ECONNREFUSED/);
    assertBackoffGaps(
      logs.map((l) => l.at),
      0,
      backoff,
      'refused',
    );

    const windowMs = 3_000;
    await sleep(logs[0].at + windowMs + 100 - Date.now());
    const inWindow = callbackLogs(dalga, 'refused').filter((l) => l.at - logs[0].at <= windowMs).length;
    assert.ok(inWindow <= attemptsAllowedWithin(windowMs, 0, backoff), `${inWindow} attempts within ${windowMs} ms`);
    assert.ok(inWindow >= 3, `retried: ${inWindow} attempts within ${windowMs} ms`);

    await deleteJobs(dalga, ['refused/a']);
    await sleep(300); // an attempt that had started finishes and is logged
    const attempts = callbackLogs(dalga, 'refused').length;
    assert.equal(await metric(dalga, 'dalga_callbacks_total{outcome="failure"}'), attempts, 'the metrics count each attempt once');
    summary.callbacks += attempts;
    summary.faults.refused = { callbacks: attempts, gapsMs: logs.slice(1).map((l, i) => l.at - logs[i].at) };
  });
});

// ---------------------------------------------------------------------------------------------
// Thousands of failing callbacks with a very short backoff: memory stays flat, still no hot loop.

describe('memory under thousands of failing callbacks (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  const backoff: Backoff = { intervalMs: 20, multiplier: 1, maxMs: 20 };
  const timeoutMs = 300;
  const maxRunning = 10;
  const jobs = 40;
  let stack: TestStack;
  let dalga: DalgaProcess;
  let endpoint: FaultEndpoint;

  before(async () => {
    endpoint = await FaultEndpoint.start();
    // A mix of faults, by arrival: mostly 500s and cut connections, now and then a hang.
    endpoint.pick = (_request, index): Fault => {
      if (index % 20 === 19) return { kind: 'hang' };
      if (index % 3 === 0) return { kind: 'cut', partial: 'HTTP/1.1 5', how: 'reset' };
      return { kind: 'status', status: 500 };
    };
    stack = await createTestStack(
      'mysql',
      () => `[endpoint]\nbaseurl = ${endpoint.baseUrl}\ntimeout = ${timeoutMs / 1000}\n[jobs]\n${backoffIni(backoff)}max_running = ${maxRunning}\n`,
    );
    // The server gets a test hook: SIGUSR2 runs a full GC, so memory is compared without V8's
    // saw-tooth (between major collections the heap here swings by 100+ MB).
    dalga = await DalgaProcess.start(stack.config, { env: { NODE_OPTIONS: `--import=${GC_ON_SIGNAL}` } });
  });

  after(async () => {
    summary.callbacks += endpoint?.requests.length ?? 0;
    await dalga?.stop();
    await stack?.teardown();
    await endpoint?.close();
  });

  test(`${jobs} jobs failing for good: RSS after warm-up grows < 30 %, each job waits its backoff, max_running holds`, async () => {
    for (let i = 0; i < jobs; i++) await dalga.request('PUT', `/jobs/churn/${i}?interval=3600&immediate=true`);
    const warmUp = 1_000;
    const measured = 3_000;
    await endpoint.waitUntil(() => (endpoint.requests.length >= warmUp ? true : null), `${warmUp} callbacks`, 30_000);
    const before = await retainedMemory(dalga);
    const startCount = endpoint.requests.length;
    const startedAt = Date.now();
    // Up to `measured` more callbacks, or 15 s on a slow machine (then at least 1,000).
    await endpoint
      .waitUntil(() => (endpoint.requests.length >= startCount + measured ? true : null), `${measured} more callbacks`, 15_000)
      .catch(() => undefined);
    const seconds = (Date.now() - startedAt) / 1000;
    const afterMemory = await retainedMemory(dalga);
    const total = endpoint.requests.length;

    // Per job (the jobs differ by body), consecutive attempts are at least the backoff apart.
    const perJob = new Map<string, number[]>();
    for (const request of endpoint.requests) {
      const list = perJob.get(request.body) ?? [];
      list.push(request.at);
      perJob.set(request.body, list);
    }
    assert.equal(perJob.size, jobs, 'every job was called');
    let shortestGap = Infinity;
    for (const times of perJob.values()) {
      for (let i = 1; i < times.length; i++) shortestGap = Math.min(shortestGap, times[i] - times[i - 1]);
    }
    const job = (await dalga.request('GET', '/jobs/churn/7')).json;
    await deleteJobs(
      dalga,
      Array.from({ length: jobs }, (_, i) => `churn/${i}`),
    );

    summary.rssMb.churnBefore = before.rssMb;
    summary.rssMb.churnAfter = afterMemory.rssMb;
    summary.rssMb.churnHeapBefore = before.heapMb;
    summary.rssMb.churnHeapAfter = afterMemory.heapMb;
    summary.concurrency.churn = { maxRunning, maxSeen: endpoint.maxOpen };
    summary.faults.churn = {
      callbacks: total,
      measured: total - startCount,
      perSecond: Math.round((total - startCount) / seconds),
      shortestGapMs: shortestGap,
    };
    assert.ok(total - startCount >= 1_000, `only ${total - startCount} callbacks in ${seconds} s after warm-up`);
    assert.ok(job.attempts > 10, `a job keeps failing and counting: ${job.attempts}`);
    assert.ok(endpoint.maxOpen <= maxRunning, `${endpoint.maxOpen} requests open at once, max_running ${maxRunning}`);
    assert.ok(shortestGap >= backoff.intervalMs - 5, `two attempts of one job only ${shortestGap} ms apart (backoff ${backoff.intervalMs} ms)`);
    const over = `over ${total - startCount} failing callbacks`;
    assert.ok(afterMemory.rssMb < before.rssMb * 1.3, `RSS grew from ${before.rssMb} MB to ${afterMemory.rssMb} MB ${over}`);
    assert.ok(afterMemory.heapMb < before.heapMb * 1.3, `the JS heap grew from ${before.heapMb} MB to ${afterMemory.heapMb} MB ${over}`);
  });
});

test('summary', (t) => {
  const line = `ENDPOINT-SUMMARY ${JSON.stringify(summary)}`;
  process.stdout.write(`${line}\n`);
  t.diagnostic(line);
});

function gaps(requests: FaultRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.at - requests[i].at);
}
