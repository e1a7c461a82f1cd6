import { join } from 'node:path';
import Database from 'better-sqlite3';
import { mysqlQuery, type TestDatabase } from './databases.js';

/** One row of a jobs table as the database holds it, read behind the server's back. Times in ms (UTC). */
export interface StoredJob {
  path: string;
  body: string;
  interval: string | null;
  oneOff: boolean;
  nextRun: number | null;
  nextSched: number;
  triggeredAt: number | null;
  attempts: number;
}

/** Both databases hold DATETIME(3) as "YYYY-MM-DD HH:MM:SS.mmm" in UTC (read as text, so no driver time zone applies). */
function parseStoredTime(text: string | null): number | null {
  if (text === null) return null;
  const ms = Date.parse(`${text.replace(' ', 'T')}Z`);
  if (Number.isNaN(ms)) throw new Error(`unexpected stored time ${JSON.stringify(text)}`);
  return ms;
}

interface RawRow {
  path: string;
  body: string;
  interval: string | null;
  one_off: number | boolean;
  next_run: string | null;
  next_sched: string;
  triggered_at: string | null;
  attempts: number;
}

function storedJob(row: RawRow): StoredJob {
  return {
    path: row.path,
    body: row.body,
    interval: row.interval,
    oneOff: Boolean(Number(row.one_off)),
    nextRun: parseStoredTime(row.next_run),
    nextSched: parseStoredTime(row.next_sched) as number,
    triggeredAt: parseStoredTime(row.triggered_at),
    attempts: Number(row.attempts),
  };
}

/** Every row of the test's jobs table, straight from MySQL or the SQLite file. */
export async function readStoredJobs(db: TestDatabase): Promise<StoredJob[]> {
  if (db.kind === 'mysql') {
    const rows = (await mysqlQuery(
      `SELECT path, body, \`interval\`, one_off, CAST(next_run AS CHAR) AS next_run, CAST(next_sched AS CHAR) AS next_sched,
              CAST(triggered_at AS CHAR) AS triggered_at, attempts FROM \`${db.table}\``,
    )) as RawRow[];
    return rows.map(storedJob);
  }
  // Read-only, so the test never takes a write lock from the server it watches.
  const sqlite = new Database(join(db.dir, 'dalga.sqlite'), { readonly: true, fileMustExist: true });
  try {
    sqlite.pragma('busy_timeout = 5000');
    const rows = sqlite
      .prepare(`SELECT path, body, "interval", one_off, next_run, next_sched, triggered_at, attempts FROM "${db.table}"`)
      .all() as RawRow[];
    return rows.map(storedJob);
  } finally {
    sqlite.close();
  }
}
