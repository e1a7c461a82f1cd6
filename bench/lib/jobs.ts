import type { JobRowSpec } from './mysql.js';

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
