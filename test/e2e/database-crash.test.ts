/**
 * The database itself crashes (kill -9 of a private MariaDB started by this test, never the shared
 * one) under a load of PUTs and DELETEs, and comes back (InnoDB crash recovery), three times, with
 * the same Dalga process running throughout. A write whose answer was lost with the database (a
 * connection lost mid-statement) may or may not have committed: Dalga answers 503 and reads the
 * row back once the database answers. After each round:
 * - no acknowledged write is lost and none undone: each key's row is what its last acknowledged
 *   write left, or what a later unacknowledged one did;
 * - no 503'd write is in the table without memory knowing it: memory equals the table, key by key;
 * - Dalga recovered by itself (same process, ready, writes succeed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { EndpointServer } from '../helpers/endpoint-server.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { PrivateMariaDb } from '../helpers/private-mariadb.js';
import { SeededRandom } from '../helpers/seeded-random.js';

const ROUNDS = 3;
const WORKERS = 8;
const KEYS_PER_WORKER = 25;

/** What a key holds after a write: an interval (PUT), or no row (DELETE). */
type KeyState = string | 'absent';

interface KeyHistory {
  /** The state after its last acknowledged write (absent before any). */
  acknowledged: KeyState;
  /** States of writes sent after that one whose answer was not a success: any of them may have landed. */
  uncertain: KeyState[];
}

describe('the database crashes under load (mysql, a private MariaDB)', async () => {
  let mariadb: PrivateMariaDb;
  let db: TestDatabase;
  let endpoint: EndpointServer;
  let dalga: DalgaProcess;
  const random = new SeededRandom(SeededRandom.seedFrom('DB_CRASH_SEED'));
  const history = new Map<string, KeyHistory>();
  const summary = {
    seed: random.seed,
    rounds: 0,
    writes_sent: 0,
    acknowledged: 0,
    answered_503: 0,
    no_answer: 0,
    lost: 0,
    undone: 0,
    unknown_to_memory: 0,
    recovered_ms: [] as number[],
  };

  before(async () => {
    mariadb = await PrivateMariaDb.start();
    db = createTestDatabase('mysql');
    endpoint = await EndpointServer.start();
    const ini = db.ini.replace(/^port = .*$/m, `port = ${mariadb.port}`);
    const config = writeConfig({ ...db, ini }, `[endpoint]\nbaseurl = ${endpoint.baseUrl}\n`);
    assert.equal((await runCli(['-config', config, '-create-table'])).code, 0);
    dalga = await DalgaProcess.start(config);
  });

  after(async () => {
    await dalga?.kill();
    await endpoint?.close();
    await mariadb?.destroy();
    await db?.drop().catch(() => {}); // its table lived in the private database
    process.stdout.write(`DB-CRASH-SUMMARY ${JSON.stringify(summary)}\n`);
  });

  /** One worker's load: its own keys, one write at a time, until `stop()`. */
  async function worker(id: number, running: () => boolean): Promise<void> {
    while (running()) {
      const key = `w${id}/${random.int(KEYS_PER_WORKER)}`;
      const entry = history.get(key) ?? { acknowledged: 'absent', uncertain: [] };
      history.set(key, entry);
      const del = random.next() < 0.25;
      const state: KeyState = del ? 'absent' : String(1_000 + random.int(1_000_000));
      summary.writes_sent++;
      const answer = await fetch(`${dalga.url}/jobs/${key}${del ? '' : `?interval=${state}`}`, {
        method: del ? 'DELETE' : 'PUT',
        signal: AbortSignal.timeout(15_000),
      }).then(
        (response) => response.status,
        () => null,
      );
      if (answer === (del ? 204 : 201)) {
        summary.acknowledged++;
        entry.acknowledged = state;
        entry.uncertain = [];
      } else {
        if (answer === 503) summary.answered_503++;
        else if (answer === null) summary.no_answer++;
        else assert.fail(`${del ? 'DELETE' : 'PUT'} ${key}: ${answer}`);
        entry.uncertain.push(state);
        await sleep(20); // no hot loop against a database that is down
      }
    }
  }

  async function tableStates(): Promise<Map<string, KeyState>> {
    const rows = (await mariadb.query(`SELECT path, body, \`interval\` FROM \`${db.table}\``)) as { path: string; body: string; interval: string }[];
    return new Map(rows.map((row) => [`${row.path}/${row.body}`, row.interval]));
  }

  test(`${ROUNDS} rounds of kill -9 of the database under writes: nothing acknowledged lost or undone, memory follows the table, recovery in the same process`, async (t) => {
    const pid = dalga.pid;
    for (let round = 1; round <= ROUNDS; round++) {
      let running = true;
      const load = Promise.all(Array.from({ length: WORKERS }, (_, id) => worker(id, () => running)));
      await sleep(random.between(800, 1_600));
      await mariadb.kill();
      await sleep(random.between(500, 2_000));
      const restartedAt = Date.now();
      await mariadb.restart();
      await eventually(
        () =>
          dalga
            .request('GET', '/readyz')
            .then((r) => r.status)
            .catch(() => 0),
        (s) => s === 200,
        'Dalga to be ready again',
        20_000,
      );
      summary.recovered_ms.push(Date.now() - restartedAt);
      await sleep(1_000); // writes succeed again for a while
      running = false;
      await load;

      const table = await tableStates();
      for (const [key, { acknowledged, uncertain }] of history) {
        const stored = table.get(key) ?? 'absent';
        if (stored !== acknowledged && !uncertain.includes(stored)) {
          if (stored === 'absent') summary.lost++;
          else summary.undone++;
          assert.fail(`round ${round}: ${key} holds ${stored}; acknowledged ${acknowledged}, uncertain since: ${uncertain.join(', ') || 'none'}`);
        }
      }
      // Memory reads back whatever the database says of an uncertain write (within a few seconds).
      for (const key of history.keys()) {
        const stored = table.get(key) ?? 'absent';
        const memory = await eventually(
          async () => {
            const got = await dalga.request('GET', `/jobs/${key}`);
            return got.status === 404 ? 'absent' : String(got.json.interval);
          },
          (state) => state === stored,
          `memory of ${key} to follow the table (${stored})`,
          10_000,
        ).catch((error: Error) => {
          summary.unknown_to_memory++;
          throw error;
        });
        assert.equal(memory, stored);
      }
      const put = await dalga.request('PUT', `/jobs/after/${round}?interval=60`);
      assert.equal(put.status, 201, put.text);
      assert.equal(dalga.pid, pid, 'the same Dalga process');
      summary.rounds = round;
      t.diagnostic(
        `round ${round}: ${summary.acknowledged} acknowledged so far, ${summary.answered_503} 503s, recovered ${summary.recovered_ms.at(-1)} ms after restart`,
      );
    }
    assert.ok(summary.answered_503 > 0, 'the crashes were felt');
    t.diagnostic(`summary: ${JSON.stringify(summary)}`);
  });
});
