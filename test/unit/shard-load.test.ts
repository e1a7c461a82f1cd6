/**
 * A shard taken over is loaded while the wheel runs: a job of it that is overdue (its old owner
 * died) comes due at once, possibly before the load has ended. It must fire once the shard is ready.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { JobService, type RunTicket } from '../../src/jobs/job-service.js';
import { parseJobSpec } from '../../src/jobs/job-spec.js';
import { JobStore } from '../../src/store/job-store.js';
import { TimingWheel } from '../../src/wheel/timing-wheel.js';
import { WheelTimer } from '../../src/wheel/wheel-timer.js';
import { createTestDatabase, databaseSettings } from '../helpers/databases.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { allShards, takeShards } from '../helpers/test-fence.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 0);
const policy = {
  retryIntervalMs: 1_000,
  retryMultiplier: 2,
  retryMaxIntervalMs: 60_000,
  retryStopAfterMs: 0,
  fixedIntervals: true,
  randomizationFactor: 0,
  random: Math.random,
};

const db = createTestDatabase('sqlite');
after(() => db.drop());

test('a job that comes due while its shard is still loading fires once the shard is ready', async () => {
  const store = await JobStore.open(databaseSettings(db));
  after(() => store.close());
  await store.upgradeSchema();
  const { gate } = await takeShards(store);
  const clock = new FakeClock(T0);

  // The old owner wrote the job, due in a second; then it died.
  const writer = new JobService({ store, gate, clock, policy, timer: new WheelTimer(new TimingWheel<number>(T0), clock, () => {}) });
  await writer.loadShards(allShards(store), true);
  const due = await writer.schedule('taken', 'over', parseJobSpec({ interval: '1' }));
  clock.advance(5_000);

  // The new owner's wheel runs; the load of the shard awaits the database once more after its rows.
  const tickets: RunTicket[] = [];
  let owner: JobService | null = null;
  const timer = new WheelTimer(new TimingWheel<number>(clock.now()), clock, (ids) => {
    for (const id of ids) {
      const ticket = owner?.startRun(id);
      if (ticket) tickets.push(ticket);
    }
  });
  owner = new JobService({ store, gate, clock, policy, timer });
  timer.start();
  const readRows = store.loadShards.bind(store);
  let endLoad = () => {};
  const loadEnds = new Promise<void>((resolve) => (endLoad = resolve));
  store.loadShards = async (shards, onJob) => {
    const count = await readRows(shards, onJob);
    await loadEnds;
    return count;
  };
  const { shard } = owner.shardStateOf('taken', 'over');
  const loading = owner.loadShards([shard]);
  while (owner.idOf('taken', 'over') === undefined) await new Promise((resolve) => setImmediate(resolve));

  clock.advance(1); // the wheel hands the overdue job out while its shard is loading
  assert.equal(owner.shardStateOf('taken', 'over').state, 'loading');
  assert.equal(tickets.length, 0, 'nothing of a loading shard starts');

  endLoad();
  await loading;
  clock.advance(1);
  assert.equal(tickets.length, 1, 'the job fires once its shard is ready');
  assert.equal(tickets[0].sched, due.nextSched);
});
