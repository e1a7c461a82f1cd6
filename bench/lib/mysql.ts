import { instancesTableName, leaseTableName, migrationsTableName, runsTableName, shardsTableName } from '../../src/store/table-names.js';
import { ShardMap } from '../../src/cluster/shard-map.js';
import mysql from 'mysql2/promise';
import { buildConfig, type MysqlSettings } from '../../src/config/config.js';
import { JobStore } from '../../src/store/job-store.js';
import { COLUMNS_WITH_SHARD, rowValues, sqlTime, type JobRowSpec } from './job-rows.js';
import { farFutureJob, farFutureJobsSelect } from './jobs.js';
import { CONNECTION, MYSQL } from './mysql-connection.js';

export function benchTable(scenario: string): string {
  return `bench_${scenario}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}

export function mysqlSettings(table: string): MysqlSettings {
  const config = buildConfig({
    mysql: { host: MYSQL.host, port: String(MYSQL.port), db: MYSQL.database, table, user: MYSQL.user, password: MYSQL.password },
  });
  return config.database as MysqlSettings;
}

/** Creates the jobs table exactly as `dalga -create-table` does (JobStore.upgradeSchema: the same migrations). */
export async function createJobsTable(table: string): Promise<void> {
  const store = await JobStore.open(mysqlSettings(table));
  try {
    await store.upgradeSchema();
  } finally {
    await store.close();
  }
}

export async function query(sql: string, params: unknown[] = []): Promise<unknown> {
  const connection = await mysql.createConnection(CONNECTION);
  try {
    const [rows] = await connection.query(sql, params);
    return rows;
  } finally {
    await connection.end();
  }
}

/** Drops a jobs table and the tables beside it (lease, migration history, run history, shard leases, instances). */
export async function dropTable(table: string): Promise<void> {
  const names = [table, leaseTableName(table), migrationsTableName(table), runsTableName(table), shardsTableName(table), instancesTableName(table)];
  await query(`DROP TABLE IF EXISTS ${names.map((name) => `\`${name}\``).join(', ')}`);
}

/** The table's shard count: the rows of `<table>_shards` (made by -create-table). */
export async function shardCount(table: string): Promise<number> {
  const rows = (await query(`SELECT COUNT(*) AS n FROM \`${shardsTableName(table)}\``)) as { n: number }[];
  return Number(rows[0].n);
}

export async function rowCount(table: string): Promise<number> {
  const rows = (await query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as { n: number }[];
  return Number(rows[0].n);
}

export async function serverVersion(): Promise<string> {
  const rows = (await query('SELECT VERSION() AS v')) as { v: string }[];
  return rows[0].v;
}

/**
 * Fills a table fast: multi-row INSERTs of `batch` rows over `parallel` connections, each
 * connection taking a contiguous range (rows come in key order, so pages fill sequentially).
 */
export async function insertJobs(
  table: string,
  total: number,
  make: (i: number) => JobRowSpec,
  options: { batch?: number; parallel?: number; onProgress?: (done: number) => void } = {},
): Promise<void> {
  const batch = options.batch ?? 2_000;
  const parallel = Math.max(1, Math.min(options.parallel ?? 2, Math.ceil(total / batch)));
  let done = 0;
  const per = Math.ceil(total / parallel);
  const shards = new ShardMap(await shardCount(table));
  await Promise.all(
    Array.from({ length: parallel }, async (_, worker) => {
      const from = worker * per;
      const to = Math.min(total, from + per);
      if (from >= to) return;
      const connection = await mysql.createConnection(CONNECTION);
      try {
        for (let start = from; start < to; start += batch) {
          const end = Math.min(to, start + batch);
          const values: string[] = [];
          for (let i = start; i < end; i++) {
            const row = make(i);
            values.push(rowValues(row, shards.of(row.path, row.body)));
          }
          await connection.query(`INSERT INTO \`${table}\` (${COLUMNS_WITH_SHARD}) VALUES ${values.join(',')}`);
          done += end - start;
          options.onProgress?.(done);
        }
      } finally {
        await connection.end();
      }
    }),
  );
}

/** Whether the server has MariaDB's SEQUENCE engine (the virtual seq_<from>_to_<to> tables). */
async function hasSequenceEngine(): Promise<boolean> {
  const rows = (await query("SELECT SUPPORT AS support FROM information_schema.ENGINES WHERE ENGINE = 'SEQUENCE'")) as { support: string }[];
  return rows.length > 0 && rows[0].support !== 'NO';
}

/** Secondary indexes of a table (name → columns in order), as information_schema has them. */
async function secondaryIndexes(table: string): Promise<Map<string, string[]>> {
  const rows = (await query(
    "SELECT INDEX_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX",
    [MYSQL.database, table],
  )) as { name: string; col: string }[];
  const indexes = new Map<string, string[]>();
  for (const row of rows) indexes.set(row.name, [...(indexes.get(row.name) ?? []), row.col]);
  return indexes;
}

/**
 * Fills an empty table with farFutureJob(0..n-1, now) fast (not timed by any scenario): on
 * MariaDB, INSERT ... SELECT from the SEQUENCE engine in chunks of `chunk` rows over two
 * connections, with the secondary indexes dropped during the fill and rebuilt after it (one
 * sorted build instead of n random inserts into a buffer pool far smaller than a 10 M-row index).
 * Elsewhere, multi-row INSERTs built in Node (insertJobs). Sample rows are compared with
 * farFutureJob, so the SQL mirror of it cannot drift.
 */
export async function fillFarFutureJobs(
  table: string,
  n: number,
  now: number,
  options: { chunk?: number; onProgress?: (done: number) => void } = {},
): Promise<void> {
  if (!(await hasSequenceEngine())) {
    await insertJobs(table, n, (i) => farFutureJob(i, now), { onProgress: options.onProgress });
    return;
  }
  const chunk = options.chunk ?? 500_000;
  const shards = await shardCount(table);
  const indexes = await secondaryIndexes(table);
  for (const name of indexes.keys()) await query(`ALTER TABLE \`${table}\` DROP INDEX \`${name}\``);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      const connection = await mysql.createConnection(CONNECTION);
      try {
        while (next < n) {
          const from = next;
          const to = Math.min(n, from + chunk);
          next = to;
          await connection.query(`INSERT INTO \`${table}\` (${COLUMNS_WITH_SHARD}) ${farFutureJobsSelect(from, to, now, shards)}`);
          done += to - from;
          options.onProgress?.(done);
        }
      } finally {
        await connection.end();
      }
    }),
  );
  for (const [name, columns] of indexes) await query(`ALTER TABLE \`${table}\` ADD INDEX \`${name}\` (${columns.map((c) => `\`${c}\``).join(', ')})`);
  await checkFarFutureRows(table, n, now, new ShardMap(shards));
}

/** A few rows of a filled table against farFutureJob (first, last, some between). */
async function checkFarFutureRows(table: string, n: number, now: number, shards: ShardMap): Promise<void> {
  const samples = [...new Set([0, 1, 9_999, 10_000, 123_457, Math.floor(n / 2), n - 1].filter((i) => i >= 0 && i < n))];
  for (const i of samples) {
    const job = farFutureJob(i, now);
    const rows = (await query(
      `SELECT \`interval\` AS iv, one_off AS oneOff, CAST(next_run AS CHAR) AS nextRun, CAST(next_sched AS CHAR) AS nextSched, CAST(created_at AS CHAR) AS createdAt, shard FROM \`${table}\` WHERE path = ? AND body = ?`,
      [job.path, job.body],
    )) as { iv: string; oneOff: number; nextRun: string; nextSched: string; createdAt: string; shard: number }[];
    const expected = {
      iv: job.interval,
      oneOff: 0,
      nextRun: sqlTime(job.nextRun as number),
      nextSched: sqlTime(job.nextSched),
      createdAt: sqlTime(job.createdAt),
      shard: shards.of(job.path, job.body),
    };
    const row = rows[0];
    const got = row && {
      iv: row.iv,
      oneOff: Number(row.oneOff),
      nextRun: `'${row.nextRun}'`,
      nextSched: `'${row.nextSched}'`,
      createdAt: `'${row.createdAt}'`,
      shard: Number(row.shard),
    };
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error(`row ${i} (${job.path}/${job.body}) is ${JSON.stringify(got)}, farFutureJob gives ${JSON.stringify(expected)}`);
  }
}
