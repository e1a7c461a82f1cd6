import type { DalgaMigrationClass } from './dalga-migration.js';
import { jobAnchor } from './job-anchor.js';
import { jobsTable } from './jobs-table.js';
import { leaseTable } from './lease-table.js';
import { leaseWrites } from './lease-writes.js';
import { runsTable } from './runs-table.js';

export type { DalgaMigration } from './dalga-migration.js';

/** Every schema step of a jobs table, oldest first. */
export function jobMigrations(table: string): DalgaMigrationClass[] {
  return [jobsTable(table), leaseTable(table), leaseWrites(table), jobAnchor(table), runsTable(table)];
}
