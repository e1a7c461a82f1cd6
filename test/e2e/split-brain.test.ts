/**
 * Split brain on MySQL: the active server is paused (SIGSTOP) at a random moment while many fast
 * jobs fire and in the middle of a burst of PUTs sent to it; the standby takes over and acknowledges a new
 * schedule (or a disable) for every job; then the old server is resumed (SIGCONT) with run
 * outcomes and writes still queued. Ownership is checked where the data lives (every write is
 * fenced by the lease token in its own transaction), so after each round:
 * - every write the new active server acknowledged is in the table and in its memory;
 * - the resumed server changed nothing (the table equals the new server's memory, key by key: an
 *   outcome or write of the old one would have put back the old schedule);
 * - of the PUTs sent to the paused server, every 201 is in the table and the new server's memory,
 *   and any other answer left no row that memory does not know.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, mysqlQuery, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer } from '../helpers/endpoint-server.js';
import { rawHttp } from '../helpers/raw-http.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { SeededRandom } from '../helpers/seeded-random.js';

const ROUNDS = 10;
const FAST_JOBS = 200;
const BURST = 40;
const PAUSE_MS = 6_000;
const SECTIONS = (baseUrl: string) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n`;

interface Row {
  path: string;
  body: string;
  interval: string | null;
  next_run: string | null;
  next_sched: string;
}

/** A PUT on a connection of its own (a pooled keep-alive one would be closed by the resumed server's idle timeout unread). */
async function putOnNewConnection(url: string, path: string, deadlineMs: number): Promise<number | null> {
  const { port } = new URL(url);
  const request = `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
  return (await rawHttp(Number(port), Buffer.from(request), deadlineMs)).status;
}

/** DATETIME(3) text (UTC) or an RFC 3339 time, as ms; null stays null. */
function ms(time: string | null | undefined): number | null {
  if (time === null || time === undefined) return null;
  return Date.parse(time.includes('T') ? time : `${time.replace(' ', 'T')}Z`);
}

describe('split brain: a paused active server, resumed after a takeover (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let config: string;
  const servers = new Set<DalgaProcess>();
  const random = new SeededRandom(SeededRandom.seedFrom('SPLIT_BRAIN_SEED'));
  const summary = {
    seed: random.seed,
    rounds: 0,
    acknowledged_by_new_active: 0,
    burst_to_paused: { '201': 0, '503': 0, other: 0, no_answer: 0 },
    burst_201_in_table: 0,
    lost: 0,
    undone: 0,
    stale_writes_applied: 0,
    old_server_fenced: 0,
    takeover_ms: [] as number[],
  };

  before(async () => {
    db = createTestDatabase('mysql');
    endpoint = await EndpointServer.start();
    config = writeConfig(db, SECTIONS(endpoint.baseUrl));
    assert.equal((await runCli(['-config', config, '-create-table'])).code, 0);
    for (let i = 0; i < 2; i++) servers.add(await DalgaProcess.start(config, { waitReady: i === 0 }));
  });

  after(async () => {
    for (const dalga of servers) {
      dalga.resume();
      await dalga.kill().catch(() => {});
    }
    await endpoint?.close();
    await db?.drop();
    process.stdout.write(`SPLIT-BRAIN-SUMMARY ${JSON.stringify(summary)}\n`);
  });

  async function roles(): Promise<[DalgaProcess, DalgaProcess]> {
    const states = await Promise.all([...servers].map(async (dalga) => [dalga, (await dalga.request('GET', '/status')).json.state] as const));
    const active = states.find(([, state]) => state === 'ready')?.[0];
    const standby = states.find(([, state]) => state === 'standby')?.[0];
    assert.ok(active && standby, `one active server and one standby: ${states.map(([, s]) => s).join(', ')}`);
    return [active, standby];
  }

  async function rows(): Promise<Map<string, Row>> {
    const found = (await mysqlQuery(
      `SELECT path, body, \`interval\`, CAST(next_run AS CHAR) AS next_run, CAST(next_sched AS CHAR) AS next_sched FROM \`${db.table}\``,
    )) as Row[];
    return new Map(found.map((row) => [`${row.path}/${row.body}`, row]));
  }

  /** Runs `count` requests, at most 20 at a time. */
  async function inBatches<T>(count: number, request: (i: number) => Promise<T>): Promise<T[]> {
    const results: T[] = [];
    for (let start = 0; start < count; start += 20) {
      results.push(...(await Promise.all(Array.from({ length: Math.min(20, count - start) }, (_, j) => request(start + j)))));
    }
    return results;
  }

  test(`${ROUNDS} rounds of SIGSTOP/SIGCONT of the active server: nothing acknowledged is lost or undone, the resumed server changes nothing`, async (t) => {
    const burstKeys: { key: string; status: number | null }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [active, standby] = await roles();
      // Many fast jobs, firing on the active server.
      await inBatches(FAST_JOBS, async (i) => {
        const put = await active.request('PUT', `/jobs/fast/${i}?interval=PT0.2S`);
        assert.equal(put.status, 201, put.text);
      });
      await sleep(random.between(300, 1_800)); // a random moment, with callbacks and outcomes in flight

      // A burst of PUTs, and the pause in the middle of it: some are answered, some are being
      // written or wait in the write batcher, some sit in the socket until the server resumes.
      const burst = Array.from({ length: BURST }, (_, i) =>
        putOnNewConnection(active.url, `/jobs/burst/r${round}-${i}?interval=3600`, PAUSE_MS + 15_000),
      );
      await sleep(random.between(0, 20));
      active.pause();
      const pausedAt = Date.now();

      await eventually(
        () => standby.request('GET', '/readyz').then((r) => r.status),
        (status) => status === 200,
        'the standby to take over',
        10_000,
      );
      summary.takeover_ms.push(Date.now() - pausedAt);

      // The new active server acknowledges a new schedule, or a disable, for every fast job.
      const expected = new Map<string, { interval: string | null; enabled: boolean }>();
      await inBatches(FAST_JOBS, async (i) => {
        const disable = i % 4 === 0;
        // A 503 (its lease renewal was late on a loaded machine) changed nothing: a client retries it.
        const answer = await eventually(
          () => (disable ? standby.request('PATCH', `/jobs/fast/${i}?disable=true`) : standby.request('PUT', `/jobs/fast/${i}?interval=3600`)),
          (reply) => reply.status !== 503,
          `fast/${i} acknowledged by the new active server`,
          10_000,
        );
        assert.equal(answer.status, disable ? 200 : 201, answer.text);
        expected.set(`fast/${i}`, { interval: disable ? 'PT0.2S' : '3600', enabled: !disable });
        summary.acknowledged_by_new_active++;
      });

      await sleep(Math.max(0, pausedAt + PAUSE_MS - Date.now()));
      active.resume();
      const answers = await Promise.all(burst);
      await eventually(
        () => active.request('GET', '/status').then((r) => r.json.state as string),
        (state) => state === 'standby',
        'the resumed server to step down',
        15_000,
      );
      await sleep(500); // whatever the old server still had queued has been sent by now

      // Every acknowledged write of the new active server: in the table and in its memory.
      const table = await rows();
      for (const [key, want] of expected) {
        const row = table.get(key);
        const memory = await standby.request('GET', `/jobs/${key}`);
        if (!row || memory.status !== 200) {
          summary.lost++;
          assert.fail(`round ${round}: ${key} acknowledged but ${row ? 'not in memory' : 'not in the table'}`);
        }
        if (row.interval !== want.interval || (row.next_run !== null) !== want.enabled) {
          summary.undone++;
          assert.fail(`round ${round}: ${key} acknowledged as ${JSON.stringify(want)}, the table has ${JSON.stringify(row)}`);
        }
      }
      // The burst to the paused server.
      answers.forEach((status, i) => burstKeys.push({ key: `burst/r${round}-${i}`, status }));
      for (const status of answers) {
        summary.burst_to_paused[status === null ? 'no_answer' : status === 201 ? '201' : status === 503 ? '503' : 'other']++;
      }
      // The table equals the new server's memory, key by key.
      const keys = new Set([...table.keys(), ...burstKeys.map((b) => b.key)]);
      for (const key of keys) {
        const row = table.get(key);
        const memory = await standby.request('GET', `/jobs/${key}`);
        if (row === undefined) {
          assert.equal(memory.status, 404, `round ${round}: ${key} is in memory but not in the table`);
          continue;
        }
        if (memory.status !== 200) {
          summary.stale_writes_applied++;
          assert.fail(`round ${round}: ${key} is in the table but not in the new active server's memory: ${JSON.stringify(row)}`);
        }
        const same =
          String(memory.json.interval) === (row.interval ?? '0') &&
          ms(memory.json.next_run) === ms(row.next_run) &&
          ms(memory.json.next_sched) === ms(row.next_sched);
        if (!same) {
          summary.stale_writes_applied++;
          assert.fail(`round ${round}: ${key}: the table has ${JSON.stringify(row)}, memory ${memory.text}`);
        }
      }
      for (const { key, status } of burstKeys.filter((b) => b.key.startsWith(`burst/r${round}-`))) {
        if (status === 201) {
          assert.ok(table.has(key), `round ${round}: ${key} was answered 201 by the paused server, but is not in the table`);
          summary.burst_201_in_table++;
        }
      }
      if (active.output.includes('"msg":"fenced:')) summary.old_server_fenced++;
      summary.rounds = round;
      t.diagnostic(
        `round ${round}: takeover ${summary.takeover_ms.at(-1)} ms; burst to the paused server: ${answers.map((status) => status ?? 'none').join(' ')}`,
      );
    }
    t.diagnostic(`summary: ${JSON.stringify(summary)}`);
  });
});
