import { Table, type QueryRunner } from 'typeorm';
import { binaryKeyCollation } from '../mysql-dialect.js';
import { isMysql, type DalgaMigrationClass } from './dalga-migration.js';

/** The jobs table as the first releases created it: no anchor, no paused_run (see JobAnchor). */
export function jobsTable(table: string): DalgaMigrationClass {
  return class JobsTable {
    readonly name = 'JobsTable1764000000000';

    async up(runner: QueryRunner): Promise<void> {
      const key = isMysql(runner) ? { charset: 'utf8mb4', collation: await binaryKeyCollation(runner) } : {};
      const time = { type: 'datetime', precision: 3 };
      await runner.createTable(
        new Table({
          name: table,
          columns: [
            { name: 'path', type: 'varchar', length: '255', isPrimary: true, ...key },
            { name: 'body', type: 'varchar', length: '255', isPrimary: true, ...key },
            { name: 'interval', type: 'varchar', length: '64', isNullable: true },
            { name: 'cron', type: 'varchar', length: '255', isNullable: true },
            { name: 'location', type: 'varchar', length: '64', default: "'UTC'" },
            { name: 'one_off', type: 'boolean', default: 0 },
            { name: 'next_run', ...time, isNullable: true },
            { name: 'next_sched', ...time },
            { name: 'triggered_at', ...time, isNullable: true },
            { name: 'attempts', type: 'int', default: 0 },
            { name: 'failing_since', ...time, isNullable: true },
            { name: 'last_run', ...time, isNullable: true },
            { name: 'last_status', type: 'int', isNullable: true },
            { name: 'last_error', type: 'varchar', length: '1024', isNullable: true },
            { name: 'created_at', ...time },
            { name: 'updated_at', ...time },
          ],
          indices: [{ name: runner.connection.namingStrategy.indexName(table, ['next_run']), columnNames: ['next_run'] }],
        }),
      );
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.dropTable(table);
    }

    alreadyApplied(runner: QueryRunner): Promise<boolean> {
      return runner.hasTable(table);
    }
  };
}
