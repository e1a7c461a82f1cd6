import type { EntityMetadata } from 'typeorm';
import type { RunRecord } from '../jobs/run-record.js';
import { parameterRows, quoted, type SqlStatement } from './dialect.js';
import { decode, encode, entityColumns, type EntityColumn } from './job-columns.js';

export interface RunKey {
  path: string;
  body: string;
}

/**
 * The run history's statements, derived from its entity's metadata (run.entity.ts). They join the
 * jobs table's fenced transactions (JobStore): a run is inserted in the statement batch that writes
 * its outcome, a job's runs are deleted with it, old runs are pruned per job in batches, all under
 * the same fence condition.
 */
export class RunHistory {
  /** The columns a run carries (not the generated id), in the entity's order. */
  private readonly columns: readonly EntityColumn<RunRecord>[];
  private readonly id: string;
  private readonly path: string;
  private readonly body: string;

  constructor(
    readonly table: string,
    metadata: EntityMetadata,
  ) {
    const all = entityColumns<RunRecord>(metadata);
    this.columns = all.filter((column) => !column.generated);
    this.id = (all.find((column) => column.generated) as EntityColumn<RunRecord>).name;
    const name = (field: keyof RunRecord) => (all.find((column) => column.field === field) as EntityColumn<RunRecord>).name;
    this.path = name('path');
    this.body = name('body');
  }

  /** INSERT ... SELECT of the runs, only WHERE condition holds. */
  insert(runs: readonly RunRecord[], condition: string): SqlStatement {
    const names = quoted(this.columns);
    return {
      sql: `INSERT INTO \`${this.table}\` (${names}) SELECT ${names} FROM (${parameterRows(this.columns, runs.length)}) AS v WHERE ${condition}`,
      parameters: runs.flatMap((run) => this.columns.map((column) => encode(column, run[column.field]))),
    };
  }

  /** Every run of these jobs. */
  deleteOf(keys: readonly RunKey[], condition: string): SqlStatement {
    return {
      sql: `DELETE FROM \`${this.table}\` WHERE ${condition} AND (${this.keyMatch(keys.length)})`,
      parameters: keys.flatMap((k) => [k.path, k.body]),
    };
  }

  /**
   * Keeps each job's newest `keep` runs: one DELETE per job, below the id of its keep-th newest run
   * (found through the (path, body, id) index; the extra derived table lets MySQL read the table it
   * deletes from).
   */
  prune(keys: readonly RunKey[], keep: number, condition: string): SqlStatement[] {
    const { table, id, path, body } = this;
    const match = `\`${path}\` = ? AND \`${body}\` = ?`;
    const sql =
      `DELETE FROM \`${table}\` WHERE ${condition} AND ${match} AND \`${id}\` < ` +
      `(SELECT \`${id}\` FROM (SELECT \`${id}\` FROM \`${table}\` WHERE ${match} ORDER BY \`${id}\` DESC LIMIT 1 OFFSET ${Math.max(0, keep - 1)}) AS kept)`;
    return keys.map((key) => ({ sql, parameters: [key.path, key.body, key.path, key.body] }));
  }

  /** A row keyed by column name to a RunRecord. */
  fromRecord(row: Readonly<Record<string, unknown>>): RunRecord {
    const run: Record<string, unknown> = {};
    for (const column of this.columns) run[column.field] = decode(column, row[column.name]);
    return run as unknown as RunRecord;
  }

  private keyMatch(count: number): string {
    return Array.from({ length: count }, () => `(\`${this.path}\` = ? AND \`${this.body}\` = ?)`).join(' OR ');
  }
}
