/**
 * Split brain on MySQL: of two servers that each own about half of the shards, one is paused
 * (SIGSTOP) at a random moment while many fast jobs fire and in the middle of a burst of PUTs sent
 * to it; the other takes over its shards and acknowledges a new schedule (or a disable) for every
 * job; then the paused server is resumed (SIGCONT) with run outcomes and writes still queued, and
 * takes its share back by rebalancing. Ownership is checked where the data lives (every write is
 * fenced by its shards' epochs in its own transaction), so after each round:
 * - the takeover moved the epoch of every shard the paused server held;
 * - every write the other server acknowledged is in the table and in the memory of the job's owner;
 * - of the PUTs sent to the paused server, every 201 is in the table and every 503 is not;
 * - the resumed server changed nothing: the table equals the memory of each job's owner, key by
 *   key (GET through either server; an outcome or write of the stale server would have put back an
 *   old schedule).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, mysqlQuery, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer } from '../helpers/endpoint-server.js';
import { rawHttp } from '../helpers/raw-http.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { SeededRandom } from '../helpers/seeded-random.js';
import { balanced, ownsAllAfter, shardOf, type ShardStatus } from '../helpers/shard-status.js';

const ROUNDS = 10;
const FAST_JOBS = 200;
const BURST = 40;
/** At least: the taker has acknowledged every write before the paused server resumes. */
const PAUSE_MS = 5_000;
const SECTIONS = (baseUrl: string) => `[endpoint]\nbaseurl = ${baseUrl}\ntimeout = 2\n`;
/** Logged by a server whose write found one of its shards taken over. */
const FENCED_LINE = 'a write found that another Dalga server took one of its shards over';

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

describe('split brain: a paused server of two, resumed after a takeover (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let config: string;
  let pair: DalgaProcess[] = [];
  const random = new SeededRandom(SeededRandom.seedFrom('SPLIT_BRAIN_SEED'));
  const summary = {
    seed: random.seed,
    rounds: 0,
    acknowledged_by_taker: 0,
    burst_to_paused: { '201': 0, '503': 0, other: 0, no_answer: 0 },
    burst_201_in_table: 0,
    burst_503_not_in_table: 0,
    lost: 0,
    undone: 0,
    stale_writes_applied: 0,
    epochs_moved: 0,
    old_server_fenced: 0,
    takeover_ms: [] as number[],
    rebalanced_ms: [] as number[],
  };

  before(async () => {
    db = createTestDatabase('mysql');
    endpoint = await EndpointServer.start();
    config = writeConfig(db, SECTIONS(endpoint.baseUrl));
    assert.equal((await runCli(['-config', config, '-create-table'])).code, 0);
    pair = [await DalgaProcess.start(config), await DalgaProcess.start(config)];
    await balanced(pair);
  });

  after(async () => {
    for (const dalga of pair) {
      dalga.resume();
      await dalga.kill().catch(() => {});
    }
    await endpoint?.close();
    await db?.drop();
    process.stdout.write(`SPLIT-BRAIN-SUMMARY ${JSON.stringify(summary)}\n`);
  });

  async function rows(): Promise<Map<string, Row>> {
    const found = (await mysqlQuery(
      `SELECT path, body, \`interval\`, CAST(next_run AS CHAR) AS next_run, CAST(next_sched AS CHAR) AS next_sched FROM \`${db.table}\``,
    )) as Row[];
    return new Map(found.map((row) => [`${row.path}/${row.body}`, row]));
  }

  async function epochs(): Promise<{ shard: number; owner: string; epoch: number }[]> {
    const found = (await mysqlQuery(`SELECT shard, owner, epoch FROM \`${db.table}_shards\` ORDER BY shard`)) as {
      shard: number;
      owner: string;
      epoch: number | string;
    }[];
    return found.map((row) => ({ shard: row.shard, owner: row.owner, epoch: Number(row.epoch) }));
  }

  /** Runs `count` requests, at most 20 at a time. */
  async function inBatches<T>(count: number, request: (i: number) => Promise<T>): Promise<T[]> {
    const results: T[] = [];
    for (let start = 0; start < count; start += 20) {
      results.push(...(await Promise.all(Array.from({ length: Math.min(20, count - start) }, (_, j) => request(start + j)))));
    }
    return results;
  }

  /** The instance id of the owner of a key, by the servers' statuses. */
  function ownerOf(key: string, statuses: ShardStatus[]): string {
    const [path, body] = key.split('/');
    const shard = shardOf(path, body, statuses[0].total);
    return statuses.find((status) => status.owned.includes(shard))?.instanceId ?? 'nobody';
  }

  test(`${ROUNDS} rounds of SIGSTOP/SIGCONT of one of two servers: nothing acknowledged is lost or undone, the resumed server changes nothing`, async (t) => {
    const burstKeys: { key: string; status: number | null }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const paused = random.pick(pair);
      const taker = pair.find((dalga) => dalga !== paused) as DalgaProcess;
      const [pausedId, takerId] = (await balanced([paused, taker])).map((status) => status.instanceId);
      // Many fast jobs, firing on both servers (each PUT through either, forwarded half the time).
      await inBatches(FAST_JOBS, async (i) => {
        const put = await pair[i % 2].request('PUT', `/jobs/fast/${i}?interval=PT0.2S`);
        assert.equal(put.status, 201, put.text);
      });
      await sleep(random.between(300, 1_800)); // a random moment, with callbacks and outcomes in flight

      // A burst of PUTs to one server, and its pause in the middle of it: some are answered, some
      // are being written or forwarded, some sit in the socket until it resumes.
      const burst = Array.from({ length: BURST }, (_, i) =>
        putOnNewConnection(paused.url, `/jobs/burst/r${round}-${i}?interval=3600`, PAUSE_MS + 15_000),
      );
      await sleep(random.between(0, 20));
      paused.pause();
      const pausedAt = Date.now();
      // Nothing of the paused server moves now: what it holds is what it held at the pause.
      const heldAtPause = (await epochs()).filter((row) => row.owner === pausedId);

      summary.takeover_ms.push(await ownsAllAfter(taker, pausedAt));

      // The taker acknowledges a new schedule, or a disable, for every fast job.
      const expected = new Map<string, { interval: string | null; enabled: boolean }>();
      await inBatches(FAST_JOBS, async (i) => {
        const disable = i % 4 === 0;
        // A 503 (a lease renewal late on a loaded machine) changed nothing: a client retries it.
        const answer = await eventually(
          () => (disable ? taker.request('PATCH', `/jobs/fast/${i}?disable=true`) : taker.request('PUT', `/jobs/fast/${i}?interval=3600`)),
          (reply) => reply.status !== 503,
          `fast/${i} acknowledged by the taker`,
          10_000,
        );
        assert.equal(answer.status, disable ? 200 : 201, answer.text);
        assert.equal(answer.headers.get('dalga-instance'), takerId, `fast/${i} answered by the taker itself`);
        expected.set(`fast/${i}`, { interval: disable ? 'PT0.2S' : '3600', enabled: !disable });
        summary.acknowledged_by_taker++;
      });

      await sleep(Math.max(0, pausedAt + PAUSE_MS - Date.now()));
      const resumedAt = Date.now();
      paused.resume();
      const answers = await Promise.all(burst);
      // The resumed server finds its shards taken, drops them, and takes its share back.
      const statuses = await balanced(pair);
      summary.rebalanced_ms.push(Date.now() - resumedAt);
      await sleep(500); // whatever the resumed server still had queued has been sent by now

      // The takeover moved the epoch of every shard the paused server held: its queued writes were fenced.
      const now = new Map((await epochs()).map((row) => [row.shard, row.epoch]));
      for (const { shard, epoch } of heldAtPause) {
        assert.ok((now.get(shard) ?? 0) > epoch, `round ${round}: shard ${shard}'s epoch moved (was ${epoch}, now ${now.get(shard)})`);
      }
      summary.epochs_moved += heldAtPause.length;
      const table = await rows();
      const read = (key: string, i: number) => pair[i % 2].request('GET', `/jobs/${key}`);

      // Every acknowledged write of the taker: in the table and in its owner's memory.
      const acknowledged = [...expected];
      const acknowledgedMemories = await inBatches(acknowledged.length, (n) => read(acknowledged[n][0], n));
      for (const [n, [key, want]] of acknowledged.entries()) {
        const row = table.get(key);
        const memory = acknowledgedMemories[n];
        if (!row || memory.status !== 200) {
          summary.lost++;
          assert.fail(`round ${round}: ${key} acknowledged but ${row ? `not in memory (${memory.status} ${memory.text})` : 'not in the table'}`);
        }
        if (row.interval !== want.interval || (row.next_run !== null) !== want.enabled) {
          summary.undone++;
          assert.fail(`round ${round}: ${key} acknowledged as ${JSON.stringify(want)}, the table has ${JSON.stringify(row)}`);
        }
      }
      // The burst to the paused server: a 201 is in the table, a 503 is not.
      answers.forEach((status, n) => burstKeys.push({ key: `burst/r${round}-${n}`, status }));
      for (const [n, status] of answers.entries()) {
        const key = `burst/r${round}-${n}`;
        summary.burst_to_paused[status === null ? 'no_answer' : status === 201 ? '201' : status === 503 ? '503' : 'other']++;
        if (status === 201) {
          assert.ok(table.has(key), `round ${round}: ${key} was answered 201 by the paused server, but is not in the table`);
          summary.burst_201_in_table++;
        } else if (status === 503) {
          assert.ok(!table.has(key), `round ${round}: ${key} was answered 503 by the paused server, but is in the table`);
          summary.burst_503_not_in_table++;
        } else {
          assert.fail(`round ${round}: ${key} was answered ${status ?? 'nothing'} by the paused server`);
        }
      }
      // The table equals the memory of each job's owner, key by key.
      const keys = [...new Set([...table.keys(), ...burstKeys.map((b) => b.key)])];
      const memories = await inBatches(keys.length, (n) => read(keys[n], n));
      for (const [n, key] of keys.entries()) {
        const row = table.get(key);
        const memory = memories[n];
        assert.equal(memory.headers.get('dalga-instance'), ownerOf(key, statuses), `round ${round}: ${key} answered by its owner`);
        if (row === undefined) {
          assert.equal(memory.status, 404, `round ${round}: ${key} is in memory but not in the table`);
          continue;
        }
        if (memory.status !== 200) {
          summary.stale_writes_applied++;
          assert.fail(`round ${round}: ${key} is in the table but not in its owner's memory: ${JSON.stringify(row)}`);
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
      if (paused.output.includes(FENCED_LINE)) summary.old_server_fenced++;
      paused.output = ''; // the next round's fencing is counted afresh
      summary.rounds = round;
      t.diagnostic(
        `round ${round}: paused ${pausedId} (${heldAtPause.length} shards); takeover ${summary.takeover_ms.at(-1)} ms; ` +
          `rebalanced ${summary.rebalanced_ms.at(-1)} ms after SIGCONT; burst to the paused server: ${answers.map((status) => status ?? 'none').join(' ')}`,
      );
    }
    t.diagnostic(`summary: ${JSON.stringify(summary)}`);
  });
});
