import { Table, TableColumn, TableIndex, type QueryRunner } from 'typeorm';
import { ShardMap } from '../../cluster/shard-map.js';
import { instancesTableName, leaseTableName, shardsTableName } from '../table-names.js';
import { isMysql, type DalgaMigrationClass } from './dalga-migration.js';

/** Shard rows inserted per statement. */
const INSERT_ROWS = 500;

/**
 * The cluster: each job's shard (a column, filled for the rows already there), one lease row per
 * shard in `<table>_shards` (owner '' = nobody, epoch counts takeovers, expiry in the database's
 * clock; their count is the table's shard count, chosen here, once), and `<table>_instances`, the
 * servers' heartbeats. The single lease of earlier releases is retired: its row is taken for good
 * and its token bumped, so a server of an older release on this table stops writing and stays a
 * standby instead of firing beside the cluster.
 */
export function clusterTables(table: string, shards: number): DalgaMigrationClass {
  const shardTable = shardsTableName(table);
  const instances = instancesTableName(table);
  return class ClusterTables {
    readonly name = 'ClusterTables1764000000005';

    async up(runner: QueryRunner): Promise<void> {
      const mysql = isMysql(runner);
      const map = new ShardMap(shards);
      await runner.addColumn(table, new TableColumn({ name: 'shard', type: 'int', default: 0 }));
      if (mysql) {
        await runner.query(`UPDATE \`${table}\` SET shard = CRC32(CONCAT(path, CHAR(0), body)) % ?`, [shards]);
      } else {
        // SQLite has no CRC32; its tables are one process's, small enough to go row by row.
        const rows = (await runner.query(`SELECT path, body FROM \`${table}\``)) as { path: string; body: string }[];
        for (const row of rows) {
          await runner.query(`UPDATE \`${table}\` SET shard = ? WHERE path = ? AND body = ?`, [map.of(row.path, row.body), row.path, row.body]);
        }
      }
      await runner.createIndex(table, new TableIndex({ name: runner.connection.namingStrategy.indexName(table, ['shard']), columnNames: ['shard'] }));
      const time = { type: 'datetime', precision: 3 };
      await runner.createTable(
        new Table({
          name: shardTable,
          columns: [
            { name: 'shard', type: 'int', isPrimary: true },
            { name: 'owner', type: 'varchar', length: '255', default: "''" },
            { name: 'epoch', type: 'bigint', default: 0 },
            { name: 'expires_at', ...time },
            { name: 'writes', type: 'bigint', default: 0 },
          ],
        }),
      );
      for (let first = 0; first < shards; first += INSERT_ROWS) {
        const count = Math.min(INSERT_ROWS, shards - first);
        const rows = Array.from({ length: count }, () => "(?, '', 0, '1970-01-01 00:00:01', 0)").join(', ');
        const numbers = Array.from({ length: count }, (_, i) => first + i);
        await runner.query(`INSERT INTO \`${shardTable}\` (shard, owner, epoch, expires_at, writes) VALUES ${rows}`, numbers);
      }
      await runner.createTable(
        new Table({
          name: instances,
          columns: [
            { name: 'id', type: 'varchar', length: '255', isPrimary: true },
            { name: 'address', type: 'varchar', length: '255' },
            { name: 'last_seen', ...time },
          ],
        }),
      );
      if (mysql && (await runner.hasTable(leaseTableName(table)))) {
        await runner.query(
          `UPDATE \`${leaseTableName(table)}\` SET owner = 'retired: sharded cluster', token = token + 1, expires_at = '9999-12-31 23:59:59' WHERE id = 1`,
        );
      }
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.dropTable(instances, true);
      await runner.dropTable(shardTable, true);
      await runner.dropColumn(table, 'shard');
    }

    alreadyApplied(runner: QueryRunner): Promise<boolean> {
      return runner.hasTable(shardTable);
    }
  };
}
