/**
 * The multi-row write statements of JobStore and the group commit of JobWriter over them, on the
 * real MariaDB and on SQLite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../src/jobs/job.js';
import { JobStore, StoreUnavailableError, type StatementTiming } from '../../src/store/job-store.js';
import { JobWriter } from '../../src/jobs/job-writer.js';
import type { WriteFence } from '../../src/store/write-fence.js';
import { createTestDatabase, databaseSettings, skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { takeFence } from '../helpers/test-fence.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function job(path: string, body: string, overrides: Partial<Job> = {}): Job {
  return {
    path,
    body,
    interval: '60',
    cron: null,
    location: 'UTC',
    oneOff: false,
    nextRun: T0 + 60_000,
    nextSched: T0 + 60_000,
    pausedRun: null,
    triggeredAt: null,
    attempts: 0,
    failingSince: null,
    lastRun: null,
    lastStatus: null,
    lastError: null,
    createdAt: T0,
    updatedAt: T0,
    // A job on the grid of its served slot unless a test says otherwise.
    anchor: overrides.nextSched ?? T0 + 60_000,
    ...overrides,
  };
}

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`JobStore multi-row writes (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let db: TestDatabase;
    let store: JobStore;
    let fence: WriteFence;
    const statements: StatementTiming[] = [];
    const count = (operation: string) => statements.filter((s) => s.operation === operation).length;

    before(async () => {
      db = createTestDatabase(kind);
      store = await JobStore.open(databaseSettings(db), { onStatement: (timing) => statements.push(timing) });
      await store.upgradeSchema();
      fence = await takeFence(store);
    });

    after(async () => {
      await store?.close();
      await db?.drop();
    });

    async function rows(prefix: string): Promise<Job[]> {
      return (await store.page({ prefix, after: null, limit: 10_000 })).jobs;
    }

    test('writes arriving while one is in flight share one statement; every column lands as given', async () => {
      const writer = new JobWriter(store, () => fence, { maxInFlight: 1 });
      const before = count('upsert');
      const jobs = Array.from({ length: 40 }, (_, i) =>
        job('group', `b${String(i).padStart(2, '0')}`, {
          cron: i % 2 ? '*/5 * * * *' : null,
          interval: i % 2 ? null : `${i + 1}`,
          location: 'Europe/Istanbul',
          oneOff: i % 3 === 0,
          nextRun: i % 4 === 0 ? null : T0 + i,
          triggeredAt: T0 + 7,
          attempts: i,
          failingSince: T0 - i,
          lastRun: T0 - 1,
          lastStatus: 500 + i,
          lastError: `error ${i}`,
        }),
      );
      await Promise.all(jobs.map((j) => writer.upsert(j)));
      assert.equal(count('upsert') - before, 2, 'the first alone, the other 39 together');
      assert.deepEqual(await rows('group'), jobs);
    });

    test('an upsert replaces a row but keeps its created_at', async () => {
      await store.upsertMany(fence, [job('replace', 'a'), job('replace', 'b')]);
      const changed = job('replace', 'a', { interval: '3600', createdAt: T0 + 5_000, updatedAt: T0 + 5_000 });
      await store.upsertMany(fence, [changed, job('replace', 'c')]);
      assert.deepEqual(await rows('replace'), [{ ...changed, createdAt: T0 }, job('replace', 'b'), job('replace', 'c')]);
    });

    test('keys compare byte for byte: "k", "K" and "k " are three rows', async () => {
      await store.upsertMany(fence, [job('bytes', 'k'), job('bytes', 'K'), job('bytes', 'k ')]);
      await store.deleteMany(fence, [{ path: 'bytes', body: 'k' }]);
      assert.deepEqual(
        (await rows('bytes')).map((j) => j.body),
        ['K', 'k '],
      );
      assert.deepEqual(await store.updateMany(fence, [job('bytes', 'K', { attempts: 9 })]), [true]);
      assert.deepEqual(
        (await rows('bytes')).map((j) => [j.body, j.attempts]),
        [
          ['K', 9],
          ['k ', 0],
        ],
      );
    });

    test('an outcome update never brings back a deleted row and tells which rows existed', async () => {
      await store.upsertMany(fence, [job('outcome', 'a'), job('outcome', 'b'), job('outcome', 'c')]);
      await store.deleteMany(fence, [{ path: 'outcome', body: 'b' }]);
      const updates = ['c', 'b', 'a'].map((body) =>
        job('outcome', body, { nextRun: T0 + 120_000, nextSched: T0 + 120_000, lastRun: T0, lastStatus: 200, createdAt: T0 + 1 }),
      );
      const before = count('update');
      assert.deepEqual(await store.updateMany(fence, updates), [true, false, true], 'in the order given');
      assert.equal(count('update') - before, 1, 'one statement');
      assert.deepEqual(await rows('outcome'), [
        { ...updates[2], createdAt: T0 },
        { ...updates[0], createdAt: T0 },
      ]);
    });

    test('an overtaken outcome writes last_* only, and never creates a row', async () => {
      const current = job('lastrun', 'a', { interval: '3600', nextRun: T0 + 3_600_000, nextSched: T0 + 3_600_000 });
      await store.upsertMany(fence, [current]);
      await store.recordLastRunMany(fence, [
        { path: 'lastrun', body: 'a', lastRun: T0 + 1, lastStatus: 503, lastError: 'x'.repeat(2_000) },
        { path: 'lastrun', body: 'gone', lastRun: T0 + 1, lastStatus: 200, lastError: null },
      ]);
      const [row, ...others] = await rows('lastrun');
      assert.deepEqual(others, []);
      assert.deepEqual({ ...row, lastError: null }, { ...current, lastRun: T0 + 1, lastStatus: 503 });
      assert.equal(row.lastError?.length, 1024, 'cut to the column');
    });

    test('more writes than one statement holds go in statements of maxBatch rows', async () => {
      const writer = new JobWriter(store, () => fence, { maxInFlight: 1, maxBatch: 500 });
      const sizes: number[] = [];
      const counting = new JobWriter(store, () => fence, { maxInFlight: 1, maxBatch: 500, onBatch: (n) => sizes.push(n) });
      const jobs = Array.from({ length: 1_201 }, (_, i) => job('many', `b${String(i).padStart(4, '0')}`));
      await Promise.all(jobs.map((j) => counting.upsert(j)));
      assert.deepEqual(sizes, [1, 500, 500, 200]);
      assert.equal((await rows('many')).length, 1_201);
      await Promise.all(jobs.map((j) => writer.delete(j.path, j.body)));
      assert.equal((await rows('many')).length, 0);
    });

    test('a failed statement fails every write in it with StoreUnavailableError', async () => {
      const missing = await JobStore.open({ ...databaseSettings(db), table: `${db.table}_missing` });
      try {
        assert.equal((await missing.schemaState()).kind, 'missing');
        const writer = new JobWriter(missing, () => fence, { maxInFlight: 1 });
        const results = await Promise.allSettled(['a', 'b', 'c'].map((body) => writer.upsert(job('fail', body))));
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          assert.ok(result.reason instanceof StoreUnavailableError, String(result.reason));
        }
      } finally {
        await missing.close();
      }
    });
  });
}
