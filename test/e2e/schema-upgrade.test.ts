/**
 * Tables made by an older Dalga: the previous release's schema (no anchor, no paused_run, no
 * migration history) from test/fixtures/, with a few jobs. A MySQL server refuses to start on it
 * with a message naming -create-table; -create-table records what the table already has, runs the
 * rest, and the jobs load unchanged (a NULL anchor reads as the job's next slot).
 */
import assert from 'node:assert/strict';
import { ShardMap } from '../../src/cluster/shard-map.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { createTestDatabase, mysqlQuery, skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { DalgaProcess, runCli, writeConfig } from '../helpers/dalga-process.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** The fixture's statements for this table (blank lines separate them; `--` lines are comments). */
function fixtureStatements(kind: DatabaseKind, table: string): string[] {
  const text = readFileSync(join(FIXTURES, `previous-release.${kind}.sql`), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .replaceAll('{{table}}', table)
    .replaceAll('{{lease}}', `${table}_lease`);
  return text
    .split(/\n\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

async function loadFixture(db: TestDatabase): Promise<void> {
  const statements = fixtureStatements(db.kind, db.table);
  if (db.kind === 'mysql') {
    for (const sql of statements) await mysqlQuery(sql);
    return;
  }
  const sqlite = new Database(join(db.dir, 'dalga.sqlite'));
  try {
    for (const sql of statements) sqlite.exec(sql);
  } finally {
    sqlite.close();
  }
}

async function migrationHistory(db: TestDatabase): Promise<string[]> {
  const sql = `SELECT name FROM \`${db.table}_migrations\` ORDER BY timestamp`;
  if (db.kind === 'mysql') return ((await mysqlQuery(sql)) as { name: string }[]).map((row) => row.name);
  const sqlite = new Database(join(db.dir, 'dalga.sqlite'), { readonly: true });
  try {
    return (sqlite.prepare(sql).all() as { name: string }[]).map((row) => row.name);
  } finally {
    sqlite.close();
  }
}

const ALL_MIGRATIONS = [
  'JobsTable1764000000000',
  'LeaseTable1764000000001',
  'LeaseWrites1764000000002',
  'JobAnchor1764000000003',
  'RunsTable1764000000004',
  'ClusterTables1764000000005',
];

/** Rows of a query, on either database. */
async function queryRows<T>(db: TestDatabase, sql: string): Promise<T[]> {
  if (db.kind === 'mysql') return (await mysqlQuery(sql)) as T[];
  const sqlite = new Database(join(db.dir, 'dalga.sqlite'), { readonly: true });
  try {
    return sqlite.prepare(sql).all() as T[];
  } finally {
    sqlite.close();
  }
}

/** Every row's shard is its key's (MySQL's CRC32 fills it on MySQL, the server's ShardMap on SQLite), out of the default 256. */
async function assertShardsFilled(db: TestDatabase): Promise<void> {
  const map = new ShardMap(256);
  const rows = await queryRows<{ path: string; body: string; shard: number }>(db, `SELECT path, body, shard FROM \`${db.table}\``);
  assert.equal(rows.length, Object.keys(EXPECTED).length);
  for (const row of rows) assert.equal(Number(row.shard), map.of(row.path, row.body), `${row.path}/${row.body}`);
  const shards = await queryRows<{ n: number }>(db, `SELECT COUNT(*) AS n FROM \`${db.table}_shards\``);
  assert.equal(Number(shards[0].n), 256, 'the shard count is stored with the table');
}

/** The fixture's jobs as the API shows them; anchor is each job's next slot. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  '/jobs/hourly/a': {
    interval: 3600,
    next_run: '2099-01-01T10:00:00Z',
    next_sched: '2099-01-01T10:00:00Z',
    anchor: '2099-01-01T10:00:00Z',
    enabled: true,
    attempts: 0,
    last_run: '2099-01-01T09:00:00.250Z',
    last_status: 200,
    last_error: null,
    created_at: '2098-12-31T00:00:00Z',
    updated_at: '2099-01-01T09:00:00.300Z',
  },
  '/jobs/cron/b': {
    cron: '0 9 * * *',
    location: 'Europe/Istanbul',
    next_run: '2099-01-02T06:00:00Z',
    anchor: '2099-01-02T06:00:00Z',
    enabled: true,
  },
  '/jobs/failing/c': {
    interval: 'PT1H',
    next_run: '2099-01-01T10:00:05.500Z',
    next_sched: '2099-01-01T10:00:00Z',
    anchor: '2099-01-01T10:00:00Z',
    attempts: 2,
    last_status: 500,
    last_error: 'HTTP 500',
  },
  '/jobs/disabled/d': { enabled: false, next_run: null, next_sched: '2099-01-01T10:01:00Z', anchor: '2099-01-01T10:01:00Z' },
  '/jobs/oneoff/e': { one_off: true, interval: 0, next_run: '2099-03-01T00:00:00Z', anchor: '2099-03-01T00:00:00Z' },
};

async function assertJobsUnchanged(dalga: DalgaProcess): Promise<void> {
  for (const [path, expected] of Object.entries(EXPECTED)) {
    const response = await dalga.request('GET', path);
    assert.equal(response.status, 200, `${path}: ${response.text}`);
    const job = response.json as Record<string, unknown>;
    for (const [field, value] of Object.entries(expected)) assert.deepEqual(job[field], value, `${path} ${field}`);
  }
  const list = await dalga.request('GET', '/jobs');
  assert.equal((list.json as { jobs: unknown[] }).jobs.length, Object.keys(EXPECTED).length);
}

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`schema upgrade from the previous release (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    test('-create-table records what the table has, adds the rest, and the jobs load unchanged', async () => {
      const db = createTestDatabase(kind);
      try {
        await loadFixture(db);
        const config = writeConfig(db, '');
        if (kind === 'mysql') {
          const refused = await runCli(['-config', config]);
          assert.equal(refused.code, 1, refused.stderr);
          assert.equal(
            refused.stderr,
            `dalga: table test.${db.table} needs an upgrade (missing its migration history, JobAnchor1764000000003, RunsTable1764000000004, ClusterTables1764000000005): run "dalga -config <file> -create-table"\n`,
          );
        }
        const upgrade = await runCli(['-config', config, '-create-table']);
        assert.equal(upgrade.code, 0, upgrade.stderr);
        assert.match(upgrade.stdout, /^upgraded \(JobAnchor1764000000003, RunsTable1764000000004, ClusterTables1764000000005\): /);
        assert.deepEqual(await migrationHistory(db), ALL_MIGRATIONS);
        await assertShardsFilled(db);
        if (kind === 'mysql') {
          // A server of the previous release can neither take the old single lease nor write with its token.
          const [lease] = (await mysqlQuery(`SELECT owner, expires_at > UTC_TIMESTAMP() AS held FROM \`${db.table}_lease\``)) as {
            owner: string;
            held: number;
          }[];
          assert.deepEqual({ owner: lease.owner, held: Number(lease.held) }, { owner: 'retired: sharded cluster', held: 1 });
        }
        const again = await runCli(['-config', config, '-create-table']);
        assert.match(again.stdout, /^already exists: /);

        const dalga = await DalgaProcess.start(config);
        try {
          await assertJobsUnchanged(dalga);
          // The upgraded table takes the new columns.
          assert.equal((await dalga.request('PUT', '/jobs/new/f?interval=60')).status, 201);
          assert.equal((await dalga.request('PATCH', '/jobs/hourly/a?disable=true')).status, 200);
        } finally {
          assert.equal(await dalga.stop(), 0);
        }
      } finally {
        await db.drop();
      }
    });
  });
}

const mysqlSkip = await skipUnlessMysql('mysql');

describe('schema upgrade, other starting points', () => {
  test('MySQL: a lease table from before the writes column gets it, and a server names the missing steps', { skip: mysqlSkip }, async () => {
    const db = createTestDatabase('mysql');
    try {
      await loadFixture(db);
      await mysqlQuery(`ALTER TABLE \`${db.table}_lease\` DROP COLUMN writes`);
      const config = writeConfig(db, '');
      const upgrade = await runCli(['-config', config, '-create-table']);
      assert.equal(upgrade.code, 0, upgrade.stderr);
      assert.match(
        upgrade.stdout,
        /^upgraded \(LeaseWrites1764000000002, JobAnchor1764000000003, RunsTable1764000000004, ClusterTables1764000000005\): /,
      );
      const columns = (await mysqlQuery(`SHOW COLUMNS FROM \`${db.table}_lease\``)) as { Field: string }[];
      assert.ok(columns.some((c) => c.Field === 'writes'));
      // A history that lacks a step (as after a downgrade of the code): named in the refusal.
      await mysqlQuery(`DELETE FROM \`${db.table}_migrations\` WHERE name = 'JobAnchor1764000000003'`);
      await mysqlQuery(`ALTER TABLE \`${db.table}\` DROP COLUMN anchor, DROP COLUMN paused_run`);
      const refused = await runCli(['-config', config]);
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        new RegExp(`table test\\.${db.table} needs an upgrade \\(missing JobAnchor1764000000003\\): run "dalga -config <file> -create-table"`),
      );
    } finally {
      await db.drop();
    }
  });

  test('SQLite: a server started on an old file upgrades it itself (one process per file) and loads its jobs', async () => {
    const db = createTestDatabase('sqlite');
    try {
      await loadFixture(db);
      const dalga = await DalgaProcess.start(writeConfig(db, ''));
      try {
        await assertJobsUnchanged(dalga);
        assert.match(dalga.output, /upgraded the jobs table/);
      } finally {
        assert.equal(await dalga.stop(), 0);
      }
      assert.deepEqual(await migrationHistory(db), ALL_MIGRATIONS);
      await assertShardsFilled(db);
    } finally {
      await db.drop();
    }
  });
});
