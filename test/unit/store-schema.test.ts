/**
 * The store's one schema source: the migrations build exactly the entity's columns, and JobColumns'
 * statements and decoders follow the entity's metadata (SQLite in a temporary file).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../src/jobs/job.js';
import { JobColumns } from '../../src/store/job-columns.js';
import { JobStore } from '../../src/store/job-store.js';

const T0 = Date.UTC(2028, 1, 29, 23, 59, 59, 999);

const JOB: Job = {
  path: 'p',
  body: 'b',
  interval: 'PT1H',
  cron: null,
  location: 'Europe/Istanbul',
  oneOff: true,
  nextRun: T0 + 5,
  nextSched: T0,
  anchor: T0 - 3_600_000,
  pausedRun: null,
  triggeredAt: T0 + 1,
  attempts: 2,
  failingSince: T0 - 7,
  lastRun: T0 - 1,
  lastStatus: 503,
  lastError: 'HTTP 503',
  createdAt: T0 - 86_400_000,
  updatedAt: T0,
};

describe('store schema', () => {
  let dir: string;
  let store: JobStore;
  let columns: JobColumns;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dalga-schema-'));
    store = await JobStore.open({ kind: 'sqlite', file: join(dir, 'dalga.sqlite'), table: 'jobs' });
    columns = new JobColumns(store.dataSource.entityMetadatas[0], () => 7);
  });

  after(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the migrations build every column of the entities (jobs, runs), with their nullability, and their indexes', async () => {
    assert.deepEqual(await store.schemaState(), { kind: 'missing' });
    const { created, migrations } = await store.upgradeSchema();
    assert.equal(created, true);
    assert.equal(migrations.length, 6);
    assert.deepEqual(await store.schemaState(), { kind: 'current' });
    const runner = store.dataSource.createQueryRunner();
    try {
      for (const entity of store.dataSource.entityMetadatas) {
        const table = await runner.getTable(entity.tableName);
        assert.ok(table, entity.tableName);
        const built = new Map(table.columns.map((column) => [column.name, column]));
        for (const column of entity.columns) {
          const got = built.get(column.databaseName);
          assert.ok(got, `column ${column.databaseName}`);
          assert.equal(got.isNullable, column.isNullable, `${column.databaseName} nullable`);
          assert.equal(got.isPrimary, column.isPrimary, `${column.databaseName} primary`);
        }
        assert.equal(built.size, entity.columns.length, `no column the entity ${entity.tableName} lacks`);
        for (const index of entity.indices) {
          const columns = index.columns.map((column) => column.databaseName).join();
          assert.ok(
            table.indices.some((built) => built.columnNames.join() === columns),
            `${entity.tableName} index on ${columns}`,
          );
        }
      }
    } finally {
      await runner.release();
    }
  });

  test('statement columns come from the metadata: created_at is insert-only, the key leads every UPDATE', () => {
    assert.deepEqual(
      columns.inserted.map((c) => c.name),
      store.dataSource.entityMetadatas[0].columns.map((c) => c.databaseName),
    );
    // The shard is written (derived from the key), never read back into a Job.
    assert.deepEqual(
      columns.inserted.filter((c) => !columns.all.includes(c)).map((c) => c.name),
      ['shard'],
    );
    assert.equal(columns.values(JOB, columns.inserted).at(-1), 7, "the shard from the store's shard map");
    assert.deepEqual(
      columns.keys.map((c) => c.name),
      ['path', 'body'],
    );
    assert.ok(!columns.replaced.some((c) => c.name === 'created_at' || c.primary));
    assert.equal(columns.replaced.length, columns.all.length - 3);
    assert.deepEqual(columns.outcome.slice(0, 2), columns.keys);
    assert.deepEqual(
      columns.lastRun.map((c) => c.name),
      ['path', 'body', 'last_run', 'last_status', 'last_error'],
    );
  });

  test('a job encoded for the database and decoded again (array row or record) is the same job', () => {
    const values = columns.values(JOB, columns.all);
    assert.deepEqual(columns.loader().load(values), JOB);
    const record = Object.fromEntries(columns.all.map((c, i) => [c.name, values[i]]));
    assert.deepEqual(columns.fromRecord(record), JOB);
    // A row from before the anchor column: its next slot is the anchor.
    assert.equal(columns.loader().load(values.map((v, i) => (columns.all[i].name === 'anchor' ? null : v))).anchor, JOB.nextSched);
  });

  test('text longer than its column is cut (non-key columns only)', () => {
    const long = 'x'.repeat(2_000);
    const values = columns.values({ ...JOB, lastError: long }, columns.all);
    const error = values[columns.all.findIndex((c) => c.name === 'last_error')] as string;
    assert.equal(error.length, 1024);
    assert.ok(error.endsWith('…'));
    const keyed = columns.values({ ...JOB, path: long }, columns.keys);
    assert.equal(keyed[0], long);
  });
});
