import type { DataSource } from 'typeorm';
import type { Job } from '../jobs/job.js';
import { placeholders, quoted, type Dialect } from './dialect.js';

/** Rows per page of the boot load: small enough that timers run between pages. */
const PAGE_ROWS = 5_000;

/**
 * SQLite: `ON CONFLICT ... DO UPDATE`, `UPDATE ... FROM` a VALUES list, and no fence in the
 * statements (one process per file holds the kernel lock, see SqliteProcessLock). Keys compare
 * with SQLite's default BINARY collation, byte for byte like the in-memory Map.
 */
export const sqliteDialect: Dialect = {
  kind: 'sqlite',

  upsert(table, columns, rows) {
    const set = columns.replaced.map((c) => `\`${c.name}\` = excluded.\`${c.name}\``).join(', ');
    return (
      `INSERT INTO \`${table}\` (${quoted(columns.inserted)}) VALUES ${placeholders(rows, columns.inserted.length)} ` +
      `ON CONFLICT (${quoted(columns.keys)}) DO UPDATE SET ${set}`
    );
  },

  updateFrom(table, columns, rows) {
    const [path, body, ...set] = columns;
    return (
      `WITH v(${quoted(columns)}) AS (VALUES ${placeholders(rows, columns.length)}) ` +
      `UPDATE \`${table}\` SET ${set.map((c) => `\`${c.name}\` = v.\`${c.name}\``).join(', ')} ` +
      `FROM v WHERE \`${table}\`.\`${path.name}\` = v.\`${path.name}\` AND \`${table}\`.\`${body.name}\` = v.\`${body.name}\``
    );
  },

  async write(dataSource: DataSource, fence, statements) {
    if (fence.kind !== 'process-lock') throw new Error(`a ${fence.kind} fence does not guard sqlite`);
    const writes = statements('1');
    const runner = dataSource.createQueryRunner();
    try {
      if (writes.length === 1) return (await runner.query(writes[0].sql, writes[0].parameters, true)).affected ?? 0;
      await runner.startTransaction();
      try {
        let first = 0;
        for (const [index, write] of writes.entries()) {
          const affected = (await runner.query(write.sql, write.parameters, true)).affected ?? 0;
          if (index === 0) first = affected;
        }
        await runner.commitTransaction();
        return first;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => {});
        throw error;
      }
    } finally {
      await runner.release();
    }
  },

  async loadAll(_dataSource, _table, columns, _shards, readPage, onJob) {
    // Pages by key (TypeORM's query builder, as the listing): better-sqlite3 answers synchronously,
    // so between pages timers and requests (/status, progress) get a turn.
    const loader = columns.loader();
    let count = 0;
    let after: { path: string; body: string } | null = null;
    for (;;) {
      const rows = await readPage(after, PAGE_ROWS);
      let last: Job | null = null;
      for (const row of rows) {
        last = loader.load(columns.all.map((column) => row[column.name]));
        onJob(last);
      }
      await new Promise((resolve) => setImmediate(resolve));
      count += rows.length;
      if (rows.length < PAGE_ROWS || last === null) return count;
      after = { path: last.path, body: last.body };
    }
  },
};
