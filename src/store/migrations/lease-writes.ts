import { TableColumn, type QueryRunner } from 'typeorm';
import { leaseTableName } from '../table-names.js';
import { isMysql, type DalgaMigrationClass } from './dalga-migration.js';

/** The lease row's `writes`: every fenced write transaction bumps it (see WriteFence). MySQL only. */
export function leaseWrites(table: string): DalgaMigrationClass {
  const lease = leaseTableName(table);
  return class LeaseWrites {
    readonly name = 'LeaseWrites1764000000002';

    async up(runner: QueryRunner): Promise<void> {
      if (!isMysql(runner)) return;
      await runner.addColumn(lease, new TableColumn({ name: 'writes', type: 'bigint', unsigned: true, default: 0 }));
    }

    async down(runner: QueryRunner): Promise<void> {
      if (isMysql(runner)) await runner.dropColumn(lease, 'writes');
    }

    async alreadyApplied(runner: QueryRunner): Promise<boolean> {
      return !isMysql(runner) || (await runner.hasColumn(lease, 'writes'));
    }
  };
}
