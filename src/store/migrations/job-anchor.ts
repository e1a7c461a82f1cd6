import { TableColumn, type QueryRunner } from 'typeorm';
import type { DalgaMigrationClass } from './dalga-migration.js';

/**
 * A job's anchor (its first slot) and paused_run (what a disabled job was waiting for). Both stay
 * NULL in the rows already there: a NULL anchor reads as the row's next slot (job-columns.ts).
 */
export function jobAnchor(table: string): DalgaMigrationClass {
  return class JobAnchor {
    readonly name = 'JobAnchor1764000000003';

    async up(runner: QueryRunner): Promise<void> {
      await runner.addColumns(table, [
        new TableColumn({ name: 'anchor', type: 'datetime', precision: 3, isNullable: true }),
        new TableColumn({ name: 'paused_run', type: 'datetime', precision: 3, isNullable: true }),
      ]);
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.dropColumns(table, ['anchor', 'paused_run']);
    }

    async alreadyApplied(runner: QueryRunner): Promise<boolean> {
      return runner.hasColumn(table, 'anchor');
    }
  };
}
