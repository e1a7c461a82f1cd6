/**
 * Fuzz: thousands of generated requests (every method, hostile path segments, random parameters,
 * bodies up to 1 MB, oversized headers), sent as raw bytes. The server never answers 5xx (503 only
 * for a real outage, and there is none here; a method the API does not have is a 405),
 * never crashes, keeps every acknowledged job as acknowledged, and afterwards answers as before.
 * Hostile job paths aimed at an "attacker" listener on 127.0.0.1 never make a callback to anything
 * but the endpoint under its base path: the attacker receives nothing.
 *
 * 10,000 requests on SQLite and 10,000 on MySQL (skipped where MariaDB is absent).
 * Reproduce a run with FUZZ_SEED=<seed> (printed); FUZZ_REQUESTS and FUZZ_REQUESTS_MYSQL set the
 * counts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DalgaProcess } from '../helpers/dalga-process.js';
import { skipUnlessMysql, type DatabaseKind } from '../helpers/databases.js';
import type { ReceivedCallback } from '../helpers/endpoint-server.js';
import { FuzzRequestGenerator, hostileSegments, type FuzzRequest, type PoolKey } from '../helpers/fuzz-requests.js';
import { readStoredJobs } from '../helpers/job-rows.js';
import { rawHttp, rawJson, type RawResponse } from '../helpers/raw-http.js';
import { SeededRandom } from '../helpers/seeded-random.js';
import { startTestStack, type TestStack } from '../helpers/test-stack.js';
import { TrapServer } from '../helpers/trap-server.js';

const SEED = SeededRandom.seedFrom('FUZZ_SEED');
const RUNS: [DatabaseKind, number][] = [
  ['sqlite', Number(process.env.FUZZ_REQUESTS ?? 10_000)],
  ['mysql', Number(process.env.FUZZ_REQUESTS_MYSQL ?? 10_000)],
];
const WORKERS = Number(process.env.FUZZ_WORKERS ?? 8);
const KEYS_PER_WORKER = 12;
/** An answer slower than this means the server hangs (requests here take milliseconds). */
const ANSWER_DEADLINE_MS = 15_000;
/** The endpoint's base path: every callback must stay under it. */
const BASE_PATH = '/hooks/';

/** The fields of a job that only the API changes (a run moves next_run, never these). */
interface JobView {
  interval: unknown;
  cron: unknown;
  location: unknown;
  one_off: unknown;
  enabled: unknown;
}

function viewOf(json: Record<string, unknown>): JobView {
  return { interval: json.interval, cron: json.cron, location: json.location, one_off: json.one_off, enabled: json.enabled };
}

/** What the answers so far say about a pool key. `unknown`: a request went unanswered. */
type KeyState = { kind: 'absent' } | { kind: 'present'; view: JobView } | { kind: 'unknown' };

const keyId = (path: string, body: string) => JSON.stringify([path, body]);

/** The job key a callback was made for, from its URL under the base path; null if it is not under it. */
function callbackKey(callback: ReceivedCallback): string | null {
  if (!callback.path.startsWith(BASE_PATH)) return null;
  try {
    const path = callback.path.slice(BASE_PATH.length).split('/').map(decodeURIComponent).join('/');
    return keyId(path, callback.body);
  } catch {
    return null;
  }
}

/** A normal PUT, GET, DELETE, GET of a fresh key: the statuses each answered. */
async function roundTrip(dalga: DalgaProcess) {
  const path = `/jobs/after-fuzz/${encodeURIComponent('round trip ✓')}`;
  const put = await dalga.request('PUT', `${path}?interval=3600`);
  const get = await dalga.request('GET', path);
  return {
    put: put.status,
    get: get.status === 200 && get.json.body === 'round trip ✓' && get.json.interval === 3600 ? 200 : get.status,
    delete: (await dalga.request('DELETE', path)).status,
    getAfterDelete: (await dalga.request('GET', path)).status,
  };
}

/** Every job the API lists, page by page. */
async function listAllJobs(dalga: DalgaProcess): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor: string | null = null;
  do {
    const page = await dalga.request('GET', `/jobs?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.status, 200, page.text);
    for (const job of page.json.jobs as { path: string; body: string }[]) keys.add(keyId(job.path, job.body));
    cursor = page.json.next_cursor as string | null;
  } while (cursor !== null);
  return keys;
}

for (const [kind, requests] of RUNS) {
  describe(`fuzz (${kind}, seed ${SEED})`, { skip: await skipUnlessMysql(kind) }, () => {
    let stack: TestStack & { dalga: DalgaProcess };
    let dalga: DalgaProcess;
    let trap: TrapServer;
    let port: number;
    let exited = false;
    /** Every key the server acknowledged (2xx with the job) at some point: the only ones that may call back. */
    const acknowledged = new Set<string>();
    const violations: string[] = [];
    /** Requests sent in the hostile-path phase, added to the summary. */
    let hostileRequests = 0;

    const send = (bytes: Buffer) => rawHttp(port, bytes, ANSWER_DEADLINE_MS);
    const rawRequest = (method: string, target: string) =>
      Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, 'latin1');

    before(async () => {
      process.stdout.write(`FUZZ-SEED ${SEED} (replay with FUZZ_SEED=${SEED})\n`);
      trap = await TrapServer.start();
      stack = await startTestStack(kind, (baseUrl) => `[endpoint]\nbaseurl = ${baseUrl}${BASE_PATH.slice(1)}\ntimeout = 5\n`);
      dalga = stack.dalga;
      port = Number(new URL(dalga.url).port);
      void dalga.waitExit().then(() => (exited = true));
    });

    after(async () => {
      await stack?.teardown();
      await trap?.close();
    });

    test('hostile job paths are refused or stay under baseurl: the attacker receives nothing', async () => {
      const authority = `127.0.0.1:${trap.port}`;
      // The contract names these: dot segments, //host, @host, schemes, backslashes, and their encodings.
      const mustRefuse = new Set([
        '..',
        '.',
        '%2e%2e',
        '%2E%2E',
        '.%2e',
        '%2e.',
        '%2e',
        '..%2F..%2F..%2Fetc%2Fpasswd',
        `a%2F..%2F..%2F%2F${authority}`,
        `%2F%2F${authority}`,
        `%2F%2F${authority}%2Fx`,
        `%2F${authority}`,
        `%40${authority}`,
        `@${authority}`,
        `user:pass@${authority}`,
        `http:%2F%2F${authority}`,
        `http%3A%2F%2F${authority}%2Fx`,
        `HTTP:${authority}`,
        `https:%2F%2F${authority}`,
        `http:${authority}`,
        `%5C%5C${authority}%5Cx`,
        `%5C${authority}`,
        `%2F%5C${authority}`,
        `%5C%2F${authority}`,
        `a%5C..%5C..%5C${authority}`,
        `%252e%252e%252f${authority}`,
        `%252F%252F${authority}`,
        `%255C%255C${authority}`,
        `%0D%0AHost:%20${authority}`,
        `%09%2F%2F${authority}`,
        `%20%2F%2F${authority}`,
        `%3F%2F%2F${authority}`,
        `%23%2F%2F${authority}`,
        `localhost:${trap.port}`,
        'javascript:alert(1)',
        `file:%2F%2F%2Fetc%2Fpasswd`,
        'data:text%2Fplain,x',
        `mailto:a@${authority}`,
        `%C0%AE%C0%AE%2F${authority}`,
      ]);
      const rng = new SeededRandom(SEED);
      const segments = hostileSegments(authority);
      // And pairs of them, as an attacker would try next.
      for (let i = 0; i < 60; i++) segments.push(`${rng.pick(segments)}${rng.pick(['', '%2F', '/', '%5C'])}${rng.pick(segments)}`);

      const refusedWrongly: string[] = [];
      const failures: string[] = [];
      const expected = new Map<string, string>(); // key -> the segment that made it
      for (const [i, segment] of segments.entries()) {
        const oneOff = await send(rawRequest('PUT', `/jobs/${segment}/atk${i}?one-off=true&immediate=true`));
        const periodic = await send(rawRequest('PUT', `/jobs/${segment}/atk${i}p?interval=3600`));
        hostileRequests += 2;
        for (const [response, body] of [
          [oneOff, `atk${i}`],
          [periodic, `atk${i}p`],
        ] as const) {
          const json = rawJson(response);
          if (response.status === null || response.status >= 500)
            failures.push(`PUT ${JSON.stringify(segment)}: ${response.status ?? response.ending}`);
          if (mustRefuse.has(segment) && response.status !== 400) refusedWrongly.push(`${segment} -> ${response.status}`);
          if (response.status === 201 && json) {
            assert.equal(json.body, body);
            expected.set(keyId(json.path as string, body), segment);
            acknowledged.add(keyId(json.path as string, body));
          }
        }
        if (periodic.status === 201) {
          // Trigger: the same path, now through the run-now route.
          const triggered = await send(rawRequest('POST', `/jobs/${segment}/atk${i}p`));
          hostileRequests++;
          if (triggered.status !== 200) failures.push(`POST ${JSON.stringify(segment)} (trigger): ${triggered.status ?? triggered.ending}`);
        }
      }
      assert.deepEqual(failures, [], 'no answer or 5xx');
      assert.deepEqual(refusedWrongly, [], 'paths the contract says are refused at PUT');

      // Every accepted one fires once now (one-off immediate, and the trigger): wait for all of them.
      const deadline = Date.now() + 15_000;
      const fired = () => new Set(stack.endpoint.received.map(callbackKey));
      while ([...expected.keys()].some((key) => !fired().has(key)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const missing = [...expected].filter(([key]) => !fired().has(key)).map(([, segment]) => segment);
      assert.deepEqual(missing, [], 'accepted jobs that never called back (under the base path, for their own path)');
      const outside = stack.endpoint.received.filter((c) => callbackKey(c) === null).map((c) => c.path);
      assert.deepEqual(outside, [], 'callbacks outside the base path');
      assert.deepEqual(trap.hits, [], 'the attacker was reached');
    });

    test(`${requests} generated requests: no 5xx, no crash, acknowledged state kept`, { timeout: 240_000 }, async (t) => {
      const started = Date.now();
      const statuses = new Map<string, number>();
      let noAnswer = 0;
      const states = new Map<string, { key: PoolKey; state: KeyState }>();

      /** Follows one pool key through the answers it gets; any contradiction is a violation. */
      const followKey = (request: FuzzRequest, key: PoolKey, response: RawResponse) => {
        const entry = states.get(keyId(key.path, key.body)) as { key: PoolKey; state: KeyState };
        const { status } = response;
        if (status === null) {
          entry.state = { kind: 'unknown' };
          return;
        }
        if (request.method === 'HEAD' || request.method === 'OPTIONS') return;
        const json = rawJson(response);
        const state = entry.state;
        if (status >= 200 && status < 300 && json && typeof json.path === 'string') {
          if (json.path !== key.path || json.body !== key.body) {
            violations.push(`${request.label}: answered for ${JSON.stringify([json.path, json.body])}, not ${JSON.stringify([key.path, key.body])}`);
            return;
          }
          acknowledged.add(keyId(key.path, key.body));
          if (request.method === 'GET') {
            if (state.kind === 'absent') violations.push(`${request.label}: 200 for a job that was deleted or never acknowledged`);
            if (state.kind === 'present' && JSON.stringify(viewOf(json)) !== JSON.stringify(state.view)) {
              violations.push(`${request.label}: GET shows ${JSON.stringify(viewOf(json))}, acknowledged ${JSON.stringify(state.view)}`);
            }
          }
          entry.state = { kind: 'present', view: viewOf(json) };
        } else if (status === 204 && request.method === 'DELETE') {
          entry.state = { kind: 'absent' };
        } else if (status === 404 && ['GET', 'POST', 'PATCH'].includes(request.method)) {
          // A one-off may have run and gone; a periodic job must still be there.
          if (state.kind === 'present' && state.view.one_off === false) violations.push(`${request.label}: 404 for an acknowledged periodic job`);
          if (state.kind !== 'unknown') entry.state = { kind: 'absent' };
        }
      };

      const workers = Array.from({ length: WORKERS }, async (_, worker) => {
        const rng = new SeededRandom((SEED + worker * 7919) >>> 0);
        const generator = new FuzzRequestGenerator(rng, { host: `127.0.0.1:${port}`, attackerAuthority: `127.0.0.1:${trap.port}` });
        const pool = generator.poolKeys(worker, KEYS_PER_WORKER);
        for (const key of pool) states.set(keyId(key.path, key.body), { key, state: { kind: 'absent' } });
        const quota = Math.floor(requests / WORKERS) + (worker < requests % WORKERS ? 1 : 0);
        for (let i = 0; i < quota && !exited; i++) {
          const request = rng.chance(0.2) ? generator.forKey(rng.pick(pool)) : generator.any(pool);
          const response = await send(request.bytes);
          const { status } = response;
          const statusClass = status === null ? `none:${response.ending}` : `${Math.floor(status / 100)}xx`;
          statuses.set(statusClass, (statuses.get(statusClass) ?? 0) + 1);
          if (status === null) {
            noAnswer++;
            if (!request.mayDrop) violations.push(`${request.label}: no answer (${response.ending}${response.error ? ` ${response.error}` : ''})`);
          } else if (status >= 500) {
            violations.push(`${request.label}: ${status} ${response.body.subarray(0, 120).toString('utf8')}`);
          }
          if (request.key) followKey(request, request.key, response);
          else if (status !== null && status >= 200 && status < 300) {
            // A generated request may create a job too (a valid PUT with odd spelling): it may call back.
            const json = rawJson(response);
            if (json && typeof json.path === 'string' && typeof json.body === 'string') acknowledged.add(keyId(json.path, json.body));
          }
        }
      });
      await Promise.all(workers);
      const fuzzSeconds = (Date.now() - started) / 1000;

      // Still the same process, alive and well, answering as before.
      assert.equal(exited, false, `the server exited during the fuzz:\n${dalga.output.slice(-3_000)}`);
      assert.doesNotThrow(() => process.kill(dalga.pid, 0), 'the server process is gone');
      const afterwards = {
        healthz: (await dalga.request('GET', '/healthz')).status,
        readyz: (await dalga.request('GET', '/readyz')).status,
        ...(await roundTrip(dalga)),
      };

      // Every pool key is as its last answers said.
      for (const { key: poolKey, state } of states.values()) {
        if (state.kind === 'unknown') continue;
        const response = await dalga.request('GET', `/jobs/${encodeURIComponent(poolKey.path)}/${encodeURIComponent(poolKey.body)}`);
        const label = `final GET ${JSON.stringify([poolKey.path, poolKey.body])}`;
        if (response.status >= 500) violations.push(`${label}: ${response.status}`);
        if (state.kind === 'absent' && response.status === 200) violations.push(`${label}: present, but its last answer deleted it`);
        if (state.kind === 'present' && response.status === 200 && JSON.stringify(viewOf(response.json)) !== JSON.stringify(state.view)) {
          violations.push(`${label}: ${JSON.stringify(viewOf(response.json))}, acknowledged ${JSON.stringify(state.view)}`);
        }
        if (state.kind === 'present' && response.status !== 200 && state.view.one_off === false) {
          violations.push(`${label}: ${response.status} for an acknowledged periodic job`);
        }
      }

      // The API and the table hold the same jobs (one-offs may run and go between the looks).
      const listedBefore = await listAllJobs(dalga);
      const stored = new Set((await readStoredJobs(stack.db)).map((job) => keyId(job.path, job.body)));
      const listedAfter = await listAllJobs(dalga);
      for (const k of listedBefore) if (listedAfter.has(k) && !stored.has(k)) violations.push(`listed by the API, not in the table: ${k}`);
      for (const k of stored) if (!listedBefore.has(k) && !listedAfter.has(k)) violations.push(`in the table, not listed by the API: ${k}`);

      // Callbacks: only to the endpoint, under its base path, and only for acknowledged jobs.
      for (const c of stack.endpoint.received) {
        if (c.method !== 'POST' || !acknowledged.has(callbackKey(c) ?? '')) {
          violations.push(`callback for no acknowledged job or outside the base path: ${c.method} ${c.path} ${JSON.stringify(c.body.slice(0, 60))}`);
        }
      }

      const fiveHundreds = statuses.get('5xx') ?? 0;
      const summary = {
        database: kind,
        seed: SEED,
        requests,
        hostile_path_requests: hostileRequests,
        seconds: Math.round(fuzzSeconds * 10) / 10,
        by_status_class: Object.fromEntries([...statuses].sort()),
        '5xx': fiveHundreds,
        '5xx_violations': fiveHundreds,
        no_answer: noAnswer,
        violations: violations.length,
        callbacks: stack.endpoint.received.length,
        jobs_listed: listedAfter.size,
        afterwards,
        attacker_hits: trap.hits.length,
      };
      process.stdout.write(`FUZZ-SUMMARY ${JSON.stringify(summary)}\n`);
      t.diagnostic(`FUZZ-SUMMARY ${JSON.stringify(summary)}`);

      assert.deepEqual(violations.slice(0, 40), [], `${violations.length} violations (seed ${SEED}); the first are shown`);
      assert.deepEqual(trap.hits, [], 'the attacker was reached');
      assert.deepEqual(afterwards, { healthz: 200, readyz: 200, put: 201, get: 200, delete: 204, getAfterDelete: 404 });
    });
  });
}
