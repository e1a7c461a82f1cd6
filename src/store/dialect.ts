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
  /**
   * Runs statements in one transaction under the fence (`statements` gets the SQL condition that
   * holds each back); returns the rows the first one affected.
   */
  write(dataSource: DataSource, fence: WriteFence, statements: (condition: string) => readonly SqlStatement[]): Promise<number>;
  /**
   * Calls onJob for every row of the given shards (null: every row) without holding all of them;
   * returns the count. `readPage` reads the same rows by pages.
   */
  loadAll(
    dataSource: DataSource,
    table: string,
    columns: JobColumns,
    shards: readonly number[] | null,
    readPage: PageReader,
    onJob: (job: Job) => void,
  ): Promise<number>;
}

/** `(?, ?), (?, ?)` for a multi-row VALUES list. */
export function placeholders(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

/**
 * `SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?`: rows of parameters as a derived table with named
 * columns (both databases), so a multi-row INSERT ... SELECT can carry a WHERE condition (the fence).
 */
export function parameterRows(columns: readonly { name: string }[], rows: number): string {
  const first = `SELECT ${columns.map((c) => `? AS \`${c.name}\``).join(', ')}`;
  return first + ` UNION ALL SELECT ${columns.map(() => '?').join(', ')}`.repeat(rows - 1);
}

/** Backquoted names: both MySQL and SQLite take them. */
export function quoted(columns: readonly { name: string }[], prefix = ''): string {
  return columns.map((column) => `${prefix}\`${column.name}\``).join(', ');
}
