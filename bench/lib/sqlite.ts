import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { JobStore } from '../../src/store/job-store.js';
import { COLUMNS, rowValues, type JobRowSpec } from './job-rows.js';

/** Creates the jobs table in a SQLite file exactly as `dalga -create-table` does (JobStore.upgradeSchema: the same migrations). */
export async function createSqliteJobsTable(file: string, table: string): Promise<void> {
  const store = await JobStore.open({ kind: 'sqlite', file, table });
  try {
    await store.upgradeSchema();
  } finally {
    await store.close();
  }
}

/**
 * Fills a table of a SQLite file (not timed): multi-row INSERTs of `batch` rows, the same row text
 * as the MySQL fill (rowValues: SQLite takes MySQL's literals and backquoted names), all in one
 * transaction so that the file is synced once, not once per statement, with the table's indexes
 * dropped during the fill and recreated from their own SQL after it (one sorted build instead of
 * a random insert per row).
 */
export function insertSqliteJobs(
  file: string,
  table: string,
  total: number,
  make: (i: number) => JobRowSpec,
  options: { batch?: number; onProgress?: (done: number) => void } = {},
): void {
  const batch = options.batch ?? 2_000;
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(table) as {
      name: string;
      sql: string;
    }[];
    db.exec('BEGIN');
    for (const index of indexes) db.exec(`DROP INDEX \`${index.name}\``);
    for (let start = 0; start < total; start += batch) {
      const end = Math.min(total, start + batch);
      const values: string[] = [];
      for (let i = start; i < end; i++) values.push(rowValues(make(i)));
      db.exec(`INSERT INTO \`${table}\` (${COLUMNS}) VALUES ${values.join(',')}`);
      options.onProgress?.(end);
    }
    for (const index of indexes) db.exec(index.sql);
    db.exec('COMMIT');
    // Fold the log into the file: the server and the baseline then start from the same state.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/** Removes a SQLite database and its WAL side files. */
export function removeSqliteFile(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}
