import { createHash } from 'node:crypto';

/** MySQL's limit on identifier length. */
const MAX_NAME = 64;

/** `<table><suffix>`, or a hashed name where that exceeds MySQL's 64 characters. */
function besideTable(table: string, suffix: string): string {
  const name = `${table}${suffix}`;
  return name.length <= MAX_NAME ? name : `dalga${suffix}_${createHash('sha256').update(table).digest('hex').slice(0, 40)}`;
}

/** The lease table of a (MySQL) jobs table: `<table>_lease`. */
export function leaseTableName(table: string): string {
  return besideTable(table, '_lease');
}

/** The migration history of a jobs table, one per table so two Dalga tables in one database do not share it. */
export function migrationsTableName(table: string): string {
  return besideTable(table, '_migrations');
}

/** The run history of a jobs table: `<table>_runs`. */
export function runsTableName(table: string): string {
  return besideTable(table, '_runs');
}

/** The shard leases of a jobs table: `<table>_shards`, one row per shard (their count is the table's shard count). */
export function shardsTableName(table: string): string {
  return besideTable(table, '_shards');
}

/** The servers of a cluster on a jobs table, by heartbeat: `<table>_instances`. */
export function instancesTableName(table: string): string {
  return besideTable(table, '_instances');
}
