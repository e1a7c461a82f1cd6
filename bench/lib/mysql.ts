import { leaseTableName, migrationsTableName } from '../../src/store/table-names.js';
import mysql from 'mysql2/promise';
import { buildConfig, type MysqlSettings } from '../../src/config/config.js';
import { JobStore } from '../../src/store/job-store.js';

/** The MariaDB every scenario uses (the same one the tests use); BENCH_MYSQL_* override it (not DALGA_*: the server reads those as its config). */
export const MYSQL = {
  host: process.env.BENCH_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.BENCH_MYSQL_PORT ?? 3306),
  user: process.env.BENCH_MYSQL_USER ?? 'root',
  password: process.env.BENCH_MYSQL_PASSWORD ?? '',
  database: process.env.BENCH_MYSQL_DB ?? 'test',
};

/** Connection options as the server's TypeORM data source sets them (utf8mb4, times in UTC). */
export const CONNECTION = { ...MYSQL, charset: 'utf8mb4', timezone: 'Z' } as const;

/** The `[mysql]` section of a server config for a table. */
export function mysqlIni(table: string): string {
  return `[mysql]\nhost = ${MYSQL.host}\nport = ${MYSQL.port}\ndb = ${MYSQL.database}\ntable = ${table}\nuser = ${MYSQL.user}\npassword = ${MYSQL.password}\n`;
}

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

/** Drops a jobs table and the lease and migration history tables beside it. */
export async function dropTable(table: string): Promise<void> {
  await query(`DROP TABLE IF EXISTS \`${table}\`, \`${leaseTableName(table)}\`, \`${migrationsTableName(table)}\``);
}

export async function rowCount(table: string): Promise<number> {
  const rows = (await query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as { n: number }[];
  return Number(rows[0].n);
}

export async function serverVersion(): Promise<string> {
  const rows = (await query('SELECT VERSION() AS v')) as { v: string }[];
  return rows[0].v;
}

/** A row to insert; times in ms since the epoch (UTC), null for NULL. */
export interface JobRowSpec {
  path: string;
  body: string;
  interval: string | null;
  oneOff: boolean;
  nextRun: number | null;
  nextSched: number;
  createdAt: number;
}

export const COLUMNS =
  'path, body, `interval`, cron, location, one_off, next_run, next_sched, triggered_at, attempts, last_run, last_status, last_error, created_at, updated_at';

/** DATETIME(3) literal in UTC. */
export function sqlTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `'${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
}

function literal(text: string | null): string {
  if (text === null) return 'NULL';
  if (/['\\]/.test(text)) return mysql.escape(text);
  return `'${text}'`;
}

export function rowValues(row: JobRowSpec): string {
  const next = row.nextRun === null ? 'NULL' : sqlTime(row.nextRun);
  const created = sqlTime(row.createdAt);
  return `(${literal(row.path)},${literal(row.body)},${literal(row.interval)},NULL,'UTC',${row.oneOff ? 1 : 0},${next},${sqlTime(row.nextSched)},NULL,0,NULL,NULL,NULL,${created},${created})`;
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
          for (let i = start; i < end; i++) values.push(rowValues(make(i)));
          await connection.query(`INSERT INTO \`${table}\` (${COLUMNS}) VALUES ${values.join(',')}`);
          done += end - start;
          options.onProgress?.(done);
        }
      } finally {
        await connection.end();
      }
    }),
  );
}
