/**
 * Booting on a large table: the server answers /status while it loads (state, loaded_jobs,
 * expected_jobs), /readyz says why it is not ready, and the log reports progress (count, percent,
 * rate) at least every 2 seconds even when rows arrive slowly.
 *
 * 300,000 rows go straight into MariaDB with multi-row INSERTs. The server reads them through a
 * TCP proxy that the test pauses in the middle of the load: a database that stalls mid-stream,
 * and a load that cannot finish before the test has looked at it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';
import { createTestDatabase, MYSQL, skipUnlessMysql, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const ROWS = 300_000;
const BATCH = 10_000;

interface Status {
  state: string;
  loaded_jobs: number;
  expected_jobs: number | null;
  total_jobs: number;
}

async function fillTable(table: string): Promise<void> {
  const connection = await mysql.createConnection(MYSQL);
  try {
    const created = new Date();
    const base = Date.now() + 3_600_000; // nothing fires during the test
    for (let start = 0; start < ROWS; start += BATCH) {
      const rows: unknown[][] = [];
      for (let i = start; i < start + BATCH; i++) {
        const due = new Date(base + i * 1_000);
        rows.push([`load/${i % 100}`, `job-${i}`, '86400', 'UTC', 0, due, due, 0, created, created]);
      }
      await connection.query(
        `INSERT INTO \`${table}\` (path, body, \`interval\`, location, one_off, next_run, next_sched, attempts, created_at, updated_at) VALUES ?`,
        [rows],
      );
    }
  } finally {
    await connection.end();
  }
}

describe('boot progress on a large table (mysql)', { skip: await skipUnlessMysql('mysql') }, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;

  before(async () => {
    db = createTestDatabase('mysql');
    assert.equal((await runCli(['-config', writeConfig(db, '', 'direct.ini'), '-create-table'])).code, 0);
    await fillTable(db.table);
    proxy = await TcpProxy.start({ host: MYSQL.host, port: MYSQL.port });
  });

  after(async () => {
    proxy?.resume();
    await proxy?.close();
    await db?.drop();
  });

  test('/status and /readyz answer during the load, and the log shows count, percent and rate', async (t) => {
    const port = await freePort();
    const config = join(db.dir, 'proxied.ini');
    writeFileSync(config, `${db.ini.replace(/^port = .*$/m, `port = ${proxy.port}`)}\n[listen]\nhost = 127.0.0.1\nport = ${port}\n`);
    const base = `http://127.0.0.1:${port}`;
    const getStatus = async (): Promise<Status | null> => {
      const response = await fetch(`${base}/status`).catch(() => null);
      return response?.ok ? ((await response.json()) as Status) : null;
    };

    const starting = DalgaProcess.start(config, { timeoutMs: 60_000 });
    starting.catch(() => {}); // awaited below; an early failure must not be an unhandled rejection
    let dalga: DalgaProcess | undefined;
    try {
      // Wait until the rows are counted and the first ones are in, then stall the stream.
      let seen: Status | null = null;
      const deadline = Date.now() + 20_000;
      while (!(seen?.state === 'loading' && seen.expected_jobs === ROWS && seen.loaded_jobs > 0) && Date.now() < deadline) {
        seen = await getStatus();
        if (seen?.state === 'ready') break;
      }
      proxy.pause();
      assert.equal(seen?.state, 'loading', `server was not seen loading: ${JSON.stringify(seen)}`);

      const samples: Status[] = [];
      const stalledUntil = Date.now() + 2_600;
      while (Date.now() < stalledUntil) {
        const status = await getStatus();
        if (status) samples.push(status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(samples.length >= 10, 'the API answers while jobs load');
      // Past the lease's 2 s without the database, the server also says it is suspended.
      assert.equal(samples[0].state, 'loading');
      for (const status of samples) {
        assert.ok(status.state === 'loading' || status.state === 'suspended', status.state);
        assert.equal(status.expected_jobs, ROWS);
        assert.ok(status.loaded_jobs < ROWS, `loaded ${status.loaded_jobs}`);
      }
      const readyz = await fetch(`${base}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(((await readyz.json()) as { error: string }).error, /^(loading: \d+ jobs loaded|suspended: )/);
      const job = await fetch(`${base}/jobs/load%2F1/job-1`);
      assert.equal(job.status, 503, 'job calls wait for the whole table');

      proxy.resume();
      dalga = await starting;

      const progress = dalga.output
        .split('\n')
        .filter((line) => line.includes('"msg":"loading jobs"'))
        .map((line) => JSON.parse(line) as { loaded: number; expected: number; percent: number; rate: number; time: string });
      assert.ok(progress.length >= 1, `no progress line in:\n${dalga.output.slice(0, 3_000)}`);
      t.diagnostic(`stalled at ${samples[0].loaded_jobs} rows; progress lines: ${progress.map((l) => `${l.loaded} (${l.percent}%)`).join(', ')}`);
      for (const line of progress) {
        assert.equal(line.expected, ROWS);
        assert.ok(line.loaded > 0 && line.loaded <= ROWS);
        assert.equal(line.percent, Math.round((line.loaded / ROWS) * 1000) / 10);
        assert.ok(line.rate > 0);
      }
      // Stalled for 2.6 s: a line within every 2 s of it, however few rows arrived.
      const times = progress.map((line) => Date.parse(line.time));
      for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] < 2_600, 'progress lines at most ~2 s apart');

      const ready = (await dalga.request('GET', '/status')).json as Status;
      assert.equal(ready.state, 'ready');
      assert.equal(ready.loaded_jobs, ROWS);
      assert.equal(ready.expected_jobs, ROWS);
      assert.equal(ready.total_jobs, ROWS);
      assert.match(dalga.output, new RegExp(`"jobs":${ROWS},"ms":\\d+.*"msg":"ready"`));
    } finally {
      proxy.resume();
      dalga ??= await starting.catch(() => undefined);
      await dalga?.stop();
    }
  });
});
