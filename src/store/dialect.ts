import type { DataSource } from 'typeorm';
import type { Job } from '../jobs/job.js';
import type { JobColumn, JobColumns } from './job-columns.js';
import type { WriteFence } from './write-fence.js';

export interface SqlStatement {
  sql: string;
  parameters: unknown[];
}

/** One page of raw rows (keyed by column name) in key order, for loads that page (SQLite). */
export type PageReader = (after: { path: string; body: string } | null, limit: number) => Promise<Record<string, unknown>[]>;

/**
 * What differs between MySQL and SQLite in the store's own statements (the ones TypeORM's query
 * builder does not write for it, see job-store.ts): upsert and update-from syntax, how a write is
 * fenced, how the whole table is read at boot.
 */
export interface Dialect {
  readonly kind: 'mysql' | 'sqlite';
  /** Inserts `rows` rows of every column, replacing `columns.replaced` where the key exists; only `WHERE condition`. */
  upsert(table: string, columns: JobColumns, rows: number, condition: string): string;
  /** Updates existing rows only from a list of rows of `columns` (the key first); only `WHERE condition`. */
  updateFrom(table: string, columns: readonly JobColumn[], rows: number, condition: string): string;
  /** Runs one statement under the fence (`statement` gets the SQL condition that holds it back); returns the rows it affected. */
  write(dataSource: DataSource, fence: WriteFence, statement: (condition: string) => SqlStatement): Promise<number>;
  /** Calls onJob for every row without holding all of them; returns the count. */
  loadAll(dataSource: DataSource, table: string, columns: JobColumns, readPage: PageReader, onJob: (job: Job) => void): Promise<number>;
}

/** `(?, ?), (?, ?)` for a multi-row VALUES list. */
export function placeholders(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

/** Backquoted names: both MySQL and SQLite take them. */
export function quoted(columns: readonly JobColumn[], prefix = ''): string {
  return columns.map((column) => `${prefix}\`${column.name}\``).join(', ');
}
