import { Table, type QueryRunner } from 'typeorm';
import { binaryKeyCollation } from '../mysql-dialect.js';
import { runsTableName } from '../table-names.js';
import { isMysql, type DalgaMigrationClass } from './dalga-migration.js';

/** The run history (run.entity.ts): one row per callback attempt, by job and id. */
export function runsTable(table: string): DalgaMigrationClass {
  const name = runsTableName(table);
  return class RunsTable {
    readonly name = 'RunsTable1764000000004';

    async up(runner: QueryRunner): Promise<void> {
      const mysql = isMysql(runner);
      // Keys compare as the jobs table's do (byte for byte).
      const key = mysql ? { charset: 'utf8mb4', collation: await binaryKeyCollation(runner) } : {};
      const time = { type: 'datetime', precision: 3 };
      await runner.createTable(
        new Table({
          name,
          columns: [
            // SQLite makes only an INTEGER PRIMARY KEY an alias of its rowid (auto-incremented).
            { name: 'id', type: mysql ? 'bigint' : 'integer', unsigned: mysql, isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
            { name: 'path', type: 'varchar', length: '255', ...key },
            { name: 'body', type: 'varchar', length: '255', ...key },
            { name: 'sched', ...time },
            { name: 'attempt', type: 'int' },
            { name: 'instance', type: 'varchar', length: '64' },
            { name: 'started_at', ...time },
            { name: 'finished_at', ...time },
            { name: 'status', type: 'int', isNullable: true },
            { name: 'error', type: 'varchar', length: '1024', isNullable: true },
          ],
          indices: [{ name: `${name}_job`, columnNames: ['path', 'body', 'id'] }],
        }),
      );
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.dropTable(name);
    }

    alreadyApplied(runner: QueryRunner): Promise<boolean> {
      return runner.hasTable(name);
    }
  };
}
