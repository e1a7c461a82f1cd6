import { join } from 'node:path';
import { count } from './format.js';
import { farFutureJob } from './jobs.js';
import { benchTable, createJobsTable, dropTable, fillFarFutureJobs } from './mysql.js';
import { createSqliteJobsTable, insertSqliteJobs, removeSqliteFile } from './sqlite.js';

export type DatabaseKind = 'mysql' | 'sqlite';

/**
 * A scenario's own jobs table on either database the server supports: MariaDB (the shared
 * server) or a SQLite file in the scenario's directory. What a scenario that runs on both needs:
 * create, fill, drop, the server's config, and the raw-read baseline of the same driver.
 */
export interface BenchDatabase {
  kind: DatabaseKind;
  table: string;
  /** SQLite only: the database file. */
  file: string | null;
  /** The worker that reads every row with the bare driver (spawn → exit is the boot baseline); input {table, file}. */
  rawReadWorker: string;
  /** What the baseline is, for the table. */
  rawReadLabel: string;
}

export async function createBenchDatabase(kind: DatabaseKind, scenario: string, dir: string): Promise<BenchDatabase> {
  const table = benchTable(scenario.replace(/\W/g, '_'));
  if (kind === 'mysql') {
    await createJobsTable(table);
    return { kind, table, file: null, rawReadWorker: 'bench/workers/raw-select.ts', rawReadLabel: 'raw mysql2 stream' };
  }
  const file = join(dir, `${table}.sqlite`);
  await createSqliteJobsTable(file, table);
  return { kind, table, file, rawReadWorker: 'bench/workers/raw-sqlite-iterate.ts', rawReadLabel: 'raw better-sqlite3 iterate' };
}

export async function dropBenchDatabase(db: BenchDatabase): Promise<void> {
  if (db.file === null) await dropTable(db.table);
  else removeSqliteFile(db.file);
}

/** farFutureJob(0..n-1, now) into the table, as fast as the database allows (not timed); logs progress. */
export async function fillFarFuture(db: BenchDatabase, n: number, now: number, log: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  const step = Math.max(100_000, 10 ** Math.floor(Math.log10(Math.max(1, n / 5))));
  let reported = 0;
  const onProgress = (done: number) => {
    if (done - reported < step && done < n) return;
    reported = done;
    log(`inserted ${count(done)} of ${count(n)}`);
  };
  if (db.file === null) await fillFarFutureJobs(db.table, n, now, { onProgress });
  else insertSqliteJobs(db.file, db.table, n, (i) => farFutureJob(i, now), { onProgress });
  const seconds = (performance.now() - t0) / 1000;
  log(`filled ${count(n)} rows in ${seconds.toFixed(1)} s`);
}
