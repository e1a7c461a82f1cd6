/**
 * `npx tsx bench/measure-store.ts [rows]`: the figures behind the store's hot-path statements
 * (README, "The data layer"), on the bench MariaDB:
 * - the boot load of `rows` rows (default 100,000): the raw mysql2 stream the store uses against
 *   TypeORM's QueryRunner.stream decoded by column name;
 * - 64-row upserts: the generated fenced statement against Repository.upsert (unfenced: it cannot
 *   carry the fence's condition).
 */
import { takeShards } from '../test/helpers/test-fence.js';
import type { Job } from '../src/jobs/job.js';
import { JobColumns } from '../src/store/job-columns.js';
import { JobStore } from '../src/store/job-store.js';
import { benchTable, createJobsTable, dropTable, insertJobs, mysqlSettings } from './lib/mysql.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const UPSERT_ROWS = 64;
const UPSERT_ROUNDS = 200;
const T0 = Date.UTC(2026, 0, 1);

function job(i: number, round: number): Job {
  const at = T0 + (i + round) * 1000;
  return {
    path: 'measure',
    body: `u${String(i).padStart(4, '0')}`,
    interval: '60',
    cron: null,
    location: 'UTC',
    oneOff: false,
    nextRun: at,
    nextSched: at,
    anchor: at,
    pausedRun: null,
    triggeredAt: null,
    attempts: round,
    failingSince: null,
    lastRun: null,
    lastStatus: null,
    lastError: null,
    createdAt: T0,
    updatedAt: at,
  };
}

async function best(runs: number, measure: () => Promise<void>): Promise<number> {
  let fastest = Infinity;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await measure();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const table = benchTable('store');
await createJobsTable(table);
try {
  await insertJobs(table, ROWS, (i) => ({
    path: `p${i % 100}`,
    body: `b${String(i).padStart(8, '0')}`,
    interval: '60',
    oneOff: false,
    nextRun: T0 + i,
    nextSched: T0 + i,
    createdAt: T0,
  }));
  const store = await JobStore.open(mysqlSettings(table));
  await store.schemaState();
  const dataSource = store.dataSource;
  const metadata = dataSource.entityMetadatas[0];
  const columns = new JobColumns(metadata, (path, body) => store.shards.of(path, body));
  try {
    let count = 0;
    const raw = await best(3, async () => {
      count = await store.loadShards(null, () => {});
    });
    const stream = await best(3, async () => {
      const runner = dataSource.createQueryRunner('slave');
      try {
        const rows = await runner.stream(`SELECT ${columns.all.map((c) => `\`${c.name}\``).join(', ')} FROM \`${table}\``);
        let n = 0;
        for await (const row of rows) {
          columns.fromRecord(row as Record<string, unknown>);
          n++;
        }
        if (n !== count) throw new Error(`streamed ${n} rows of ${count}`);
      } finally {
        await runner.release();
      }
    });
    console.log(`load ${count} rows: raw mysql2 stream ${(raw / 1000).toFixed(2)} s, QueryRunner.stream ${(stream / 1000).toFixed(2)} s`);

    // Each batch claims the shards its rows are in, as the server's writes do.
    const { gate } = await takeShards(store, 'measure');
    const fenceOf = (jobs: Job[]) => gate.fence([...new Set(jobs.map((j) => store.shards.of(j.path, j.body)))]);
    const generated = await best(1, async () => {
      for (let round = 0; round < UPSERT_ROUNDS; round++) {
        const jobs = Array.from({ length: UPSERT_ROWS }, (_, i) => job(i, round));
        await store.upsertMany(fenceOf(jobs), jobs);
      }
    });
    const repository = dataSource.getRepository(metadata.target);
    const times = new Set(metadata.columns.filter((c) => c.type === 'datetime').map((c) => c.propertyName));
    const entityRow = (j: Job) => {
      const row: Record<string, unknown> = {};
      for (const column of columns.all) {
        const value = j[column.field];
        row[column.field] = times.has(column.field) && typeof value === 'number' ? new Date(value) : value;
      }
      return row;
    };
    const upsert = await best(1, async () => {
      for (let round = 0; round < UPSERT_ROUNDS; round++) {
        await repository.upsert(
          Array.from({ length: UPSERT_ROWS }, (_, i) => entityRow(job(i, round + UPSERT_ROUNDS))),
          ['path', 'body'],
        );
      }
    });
    console.log(
      `upsert ${UPSERT_ROWS} rows x ${UPSERT_ROUNDS}: generated fenced statement ${(generated / UPSERT_ROUNDS).toFixed(2)} ms each, ` +
        `Repository.upsert ${(upsert / UPSERT_ROUNDS).toFixed(2)} ms each`,
    );
  } finally {
    await store.close();
  }
} finally {
  await dropTable(table);
}
