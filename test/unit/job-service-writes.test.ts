/**
 * JobService over a real database (MariaDB and SQLite): concurrent API writes and run outcomes
 * share statements, each still answered after its own commit; failures leave memory untouched;
 * an outcome whose write fails is retried until it lands.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { JobService, NotActiveError, type RunTicket } from '../../src/jobs/job-service.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import { JobStore, StoreUnavailableError, type StatementTiming } from '../../src/store/job-store.js';
import type { WriteFence } from '../../src/store/write-fence.js';
import { TimingWheel } from '../../src/wheel/timing-wheel.js';
import { WheelTimer } from '../../src/wheel/wheel-timer.js';
import { createTestDatabase, databaseSettings, skipUnlessMysql, type DatabaseKind, type TestDatabase } from '../helpers/databases.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { allShards, takeShards } from '../helpers/test-fence.js';
import type { ShardGate } from '../../src/jobs/job-service.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
const MINUTE = 60_000;
const RETRY_MS = 1_000;

for (const kind of ['mysql', 'sqlite'] as DatabaseKind[]) {
  describe(`JobService group commit (${kind})`, { skip: await skipUnlessMysql(kind) }, () => {
    let db: TestDatabase;
    let store: JobStore;
    let fence: WriteFence;
    let gate: ShardGate;
    /** Whether the service may write (it trusts its shard leases). */
    let writable: boolean;
    const statements: StatementTiming[] = [];
    let clock: FakeClock;
    let service: JobService;
    let writeBackBatches: number[];
    let writeBackErrors: number;

    const count = (operation: string) => statements.filter((s) => s.operation === operation && s.ok).length;
    const hideTable = () => store.dataSource.query(`ALTER TABLE \`${db.table}\` RENAME TO \`${db.table}_away\``);
    const restoreTable = () => store.dataSource.query(`ALTER TABLE \`${db.table}_away\` RENAME TO \`${db.table}\``);

    before(async () => {
      db = createTestDatabase(kind);
      store = await JobStore.open(databaseSettings(db), { onStatement: (timing) => statements.push(timing) });
      await store.upgradeSchema();
      ({ fence, gate } = await takeShards(store));
    });

    after(async () => {
      await store?.close();
      await db?.drop();
    });

    beforeEach(async () => {
      writable = true;
      clock = new FakeClock(T0);
      writeBackBatches = [];
      writeBackErrors = 0;
      service = new JobService({
        store,
        gate: { ...gate, mayWrite: (shard) => writable && gate.mayWrite(shard) },
        clock,
        timer: new WheelTimer(new TimingWheel<number>(T0), clock, () => {}),
        policy: {
          retryIntervalMs: 1_000,
          retryMultiplier: 2,
          retryMaxIntervalMs: MINUTE,
          retryStopAfterMs: 0,
          fixedIntervals: false,
          randomizationFactor: 0,
          random: Math.random,
        },
        writeBackRetryMs: RETRY_MS,
        onWriteBackBatch: (rows) => writeBackBatches.push(rows),
        onWriteBackError: () => writeBackErrors++,
      });
      // A fresh server's memory: the table holds only what this test writes.
      await store.dataSource.query(`DELETE FROM \`${store.settings.table}\``);
      await service.loadShards(allShards(store), true);
    });

    /** `n` jobs due now, every minute, created with concurrent PUTs. */
    async function putJobs(path: string, n: number): Promise<string[]> {
      const bodies = Array.from({ length: n }, (_, i) => `b${String(i).padStart(3, '0')}`);
      await Promise.all(bodies.map((body) => service.schedule(path, body, parseJobSpec({ interval: '60', immediate: 'true' }))));
      return bodies;
    }

    async function rowsOf(path: string) {
      return (await store.page({ prefix: path, after: null, limit: 1_000 })).jobs;
    }

    function startAll(path: string, bodies: string[]): RunTicket[] {
      return bodies.map((body) => {
        const ticket = service.startRun(service.idOf(path, body) ?? -1);
        assert.ok(ticket, `${body} is due`);
        return ticket;
      });
    }

    const ok = { status: 200, error: null, startedAt: T0, finishedAt: T0 + 5 };

    test('concurrent PUTs and concurrent outcomes share statements; an outcome never brings back a row deleted behind the server', async () => {
      const upserts = count('upsert');
      const bodies = await putJobs('share', 60);
      const statementsUsed = count('upsert') - upserts;
      assert.ok(statementsUsed < 20, `60 concurrent PUTs took ${statementsUsed} statements`);
      assert.equal((await rowsOf('share')).length, 60);

      // Another writer (an operator, a migration) deletes one row while its callback runs.
      const tickets = startAll('share', bodies);
      await store.deleteMany(fence, [{ path: 'share', body: 'b000' }]);
      await Promise.all(tickets.map((ticket) => service.finishRun(ticket, ok)));

      assert.equal(
        writeBackBatches.reduce((a, b) => a + b, 0),
        60,
        'every outcome counted once',
      );
      assert.ok(writeBackBatches.length < 20, `60 outcomes took ${writeBackBatches.length} statements`);
      const rows = await rowsOf('share');
      assert.deepEqual(
        rows.map((row) => row.body),
        bodies.slice(1),
        'the deleted row stays deleted',
      );
      for (const row of rows) {
        assert.equal(row.nextSched, ok.finishedAt + MINUTE);
        assert.equal(row.lastStatus, 200);
      }
      assert.equal(service.get('share', 'b000'), undefined, 'memory follows the database');
      assert.equal(service.get('share', 'b001')?.nextRun, ok.finishedAt + MINUTE);
      assert.deepEqual(service.counts(), { total: 59, disabled: 0, failing: 0, running: 0, writeBacksPending: 0 });
    });

    test('a server that does not trust its leases refuses a write before sending it: nothing lands', async () => {
      await putJobs('trust', 1);
      writable = false;
      await assert.rejects(service.schedule('trust', 'b000', parseJobSpec({ interval: '3600' })), NotActiveError);
      await assert.rejects(service.remove('trust', 'b000'), NotActiveError);
      await new Promise((resolve) => setTimeout(resolve, 100)); // a write handed to the batcher would have committed by now
      const [row] = await rowsOf('trust');
      assert.equal(row?.interval, '60', 'the row as it was');
      assert.equal(service.get('trust', 'b000')?.interval, '60');
    });

    test('a failed statement fails every PUT in it and leaves memory as it was', async () => {
      await putJobs('fail', 1);
      const before = service.get('fail', 'b000');
      await hideTable();
      try {
        const results = await Promise.allSettled(
          ['b000', 'b001', 'b002', 'b003', 'b004', 'b005'].map((body) => service.schedule('fail', body, parseJobSpec({ interval: '3600' }))),
        );
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          assert.ok(result.reason instanceof StoreUnavailableError);
        }
        assert.deepEqual(service.get('fail', 'b000'), before, 'the old job, untouched');
        assert.equal(service.get('fail', 'b001'), undefined);
        assert.equal(service.counts().total, 1);
      } finally {
        await restoreTable();
      }
    });

    test('outcomes whose write fails are kept, retried after the backoff, and land once', async () => {
      const bodies = await putJobs('retry', 8);
      const tickets = startAll('retry', bodies);
      await hideTable();
      let finished = 0;
      const finishing = tickets.map((ticket, i) =>
        service.finishRun(ticket, i === 0 ? { status: 204, error: null, startedAt: T0, finishedAt: T0 + 5 } : ok).then(() => finished++),
      );
      try {
        await eventually(
          async () => writeBackErrors,
          (n) => n >= 8,
          'every write-back to fail',
        );
        await eventually(
          async () => clock.pendingCount,
          (n) => n >= 8,
          'every write-back to wait for its retry',
        );
      } finally {
        await restoreTable();
      }
      assert.equal(finished, 0);
      assert.deepEqual(service.counts(), { total: 8, disabled: 0, failing: 0, running: 8, writeBacksPending: 8 });
      assert.equal(service.startRun(service.idOf('retry', 'b001') ?? -1), null, 'still running: it cannot fire twice');
      assert.equal(writeBackBatches.length, 0, 'nothing committed yet');

      clock.advance(RETRY_MS - 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(finished, 0, 'not before the backoff');
      clock.advance(1);
      await Promise.all(finishing);

      assert.equal(
        writeBackBatches.reduce((a, b) => a + b, 0),
        8,
        'each outcome written once',
      );
      assert.equal(writeBackErrors, 8);
      const rows = await rowsOf('retry');
      assert.deepEqual(
        rows.map((row) => row.body),
        bodies.slice(1),
        '204 deleted its job',
      );
      for (const row of rows) assert.equal(row.nextSched, ok.finishedAt + MINUTE);
      assert.deepEqual(service.counts(), { total: 7, disabled: 0, failing: 0, running: 0, writeBacksPending: 0 });
    });
  });
}
