import type { JobRowSpec } from './job-rows.js';

const DAY = 86_400_000;

/** Key of job i: in primary-key order as i grows (fast bulk inserts); the path has no "/" (no %2F in URLs). */
export function jobPath(i: number, prefix = 'bench-p'): string {
  return `${prefix}${String(Math.floor(i / 10_000)).padStart(3, '0')}`;
}

export function jobBody(i: number): string {
  return `k${String(i).padStart(7, '0')}`;
}

/** Job i of a large table: periodic (1 day), next run spread over the next year, so none fires during a run. */
export function farFutureJob(i: number, now: number, prefix = 'bench-p'): JobRowSpec {
  const nextRun = now + DAY + ((i * 7919) % 364) * DAY + ((i * 104_729) % DAY);
  return { path: jobPath(i, prefix), body: jobBody(i), interval: '86400', oneOff: false, nextRun, nextSched: nextRun, createdAt: now };
}

/**
 * The rows farFutureJob(i, now, prefix) gives for i in [from, to), as a MariaDB SELECT over its
 * SEQUENCE engine (seq_<from>_to_<to - 1>), in the column order of COLUMNS_WITH_SHARD (the shard
 * as the server computes it, CRC32(path NUL body) % shards, see ShardMap): MariaDB computes
 * 10 M rows in well under a minute where building INSERT text in Node takes several. It mirrors
 * farFutureJob formula for formula; fillFarFutureJobs compares sample rows with it, so the two
 * cannot drift apart unnoticed. Times are DATETIME arithmetic from the epoch, so the session
 * time zone never applies.
 */
export function farFutureJobsSelect(from: number, to: number, now: number, shards: number, prefix = 'bench-p'): string {
  const padded = (value: string, width: number) => `LPAD(${value}, GREATEST(${width}, LENGTH(${value})), '0')`;
  const time = (ms: string) => `TIMESTAMPADD(MICROSECOND, (${ms}) * 1000, '1970-01-01 00:00:00')`;
  const nextRun = time(`${now + DAY} + MOD(seq * 7919, 364) * ${DAY} + MOD(seq * 104729, ${DAY})`);
  const created = time(String(now));
  const path = `CONCAT('${prefix}', ${padded('FLOOR(seq / 10000)', 3)})`;
  const body = `CONCAT('k', ${padded('seq', 7)})`;
  return (
    `SELECT ${path}, ${body}, '86400', NULL, 'UTC', 0, ` +
    `${nextRun}, ${nextRun}, NULL, 0, NULL, NULL, NULL, ${created}, ${created}, CRC32(CONCAT(${path}, CHAR(0), ${body})) % ${shards} FROM seq_${from}_to_${to - 1}`
  );
}
