import { clusterTables } from './cluster-tables.js';
import type { DalgaMigrationClass } from './dalga-migration.js';
import { jobAnchor } from './job-anchor.js';
import { jobsTable } from './jobs-table.js';
import { leaseTable } from './lease-table.js';
import { leaseWrites } from './lease-writes.js';
import { runsTable } from './runs-table.js';

export type { DalgaMigration } from './dalga-migration.js';

/** Every schema step of a jobs table, oldest first; `shards` is the shard count a new table gets. */
export function jobMigrations(table: string, shards: number): DalgaMigrationClass[] {
  return [jobsTable(table), leaseTable(table), leaseWrites(table), jobAnchor(table), runsTable(table), clusterTables(table, shards)];
}
