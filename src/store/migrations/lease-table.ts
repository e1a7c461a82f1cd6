import type { QueryRunner } from 'typeorm';
import { leaseTableName } from '../table-names.js';
import { isMysql, type DalgaMigrationClass } from './dalga-migration.js';

/**
 * The lease table of a MySQL jobs table (`<table>_lease`, see MysqlLease): one row, id 1.
 * owner '' = nobody; token counts takeovers, so a holder can tell it was replaced. SQLite has none
 * (one process per file holds a kernel lock instead): nothing to do there.
 */
export function leaseTable(table: string): DalgaMigrationClass {
  const lease = leaseTableName(table);
  return class LeaseTable {
    readonly name = 'LeaseTable1764000000001';

    async up(runner: QueryRunner): Promise<void> {
      if (!isMysql(runner)) return;
      // Plain SQL: the row's layout is MySQL's alone (TINYINT UNSIGNED id, InnoDB).
      await runner.query(
        `CREATE TABLE IF NOT EXISTS \`${lease}\` (
          id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
          owner VARCHAR(255) NOT NULL,
          token BIGINT UNSIGNED NOT NULL,
          expires_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      );
      await runner.query(`INSERT IGNORE INTO \`${lease}\` (id, owner, token, expires_at) VALUES (1, '', 0, '1970-01-01 00:00:01')`);
    }

    async down(runner: QueryRunner): Promise<void> {
      if (isMysql(runner)) await runner.dropTable(lease, true);
    }

    async alreadyApplied(runner: QueryRunner): Promise<boolean> {
      return !isMysql(runner) || (await runner.hasTable(lease));
    }
  };
}
