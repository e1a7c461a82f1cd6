/**
 * Job rows as SQL text, for bulk fills and the raw-write baseline. No database connection and no
 * server module, no driver: the baseline workers import it too (a bare process stays bare). The
 * literals suit MySQL and SQLite alike.
 */
/** A row to insert; times in ms since the epoch (UTC), null for NULL. */
export interface JobRowSpec {
  path: string;
  body: string;
  interval: string | null;
  oneOff: boolean;
  nextRun: number | null;
  nextSched: number;
  createdAt: number;
}

export const COLUMNS =
  'path, body, `interval`, cron, location, one_off, next_run, next_sched, triggered_at, attempts, last_run, last_status, last_error, created_at, updated_at';

/** COLUMNS and the job's shard (rowValues with a shard): a cluster's servers load their shards by that column. */
export const COLUMNS_WITH_SHARD = `${COLUMNS}, shard`;

/** DATETIME(3) literal in UTC. */
export function sqlTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `'${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
}

/** The benchmarks' keys and intervals are plain text: MySQL and SQLite escape quotes and backslashes differently, so none is accepted. */
function literal(text: string | null): string {
  if (text === null) return 'NULL';
  if (/['\\]/.test(text)) throw new Error(`a benchmark row value needs quoting: ${text}`);
  return `'${text}'`;
}

/** The row in the order of COLUMNS, or of COLUMNS_WITH_SHARD when a shard is given. */
export function rowValues(row: JobRowSpec, shard?: number): string {
  const next = row.nextRun === null ? 'NULL' : sqlTime(row.nextRun);
  const created = sqlTime(row.createdAt);
  const tail = shard === undefined ? '' : `,${shard}`;
  return `(${literal(row.path)},${literal(row.body)},${literal(row.interval)},NULL,'UTC',${row.oneOff ? 1 : 0},${next},${sqlTime(row.nextSched)},NULL,0,NULL,NULL,NULL,${created},${created}${tail})`;
}
