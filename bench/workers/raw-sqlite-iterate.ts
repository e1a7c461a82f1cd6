/**
 * SQLite boot baseline: a bare process that reads every row of the jobs table with better-sqlite3
 * (the driver the server uses), one statement iterated row by row as arrays: the lower bound for
 * loading the table. Input: {file, table}. Prints {rows, connectMs, streamMs, rss, cpuMs}, as raw-select does.
 */
import Database from 'better-sqlite3';
import { COLUMNS } from '../lib/job-rows.js';
import { cpuMsOf } from '../lib/proc.js';

const { file, table } = JSON.parse(process.argv[2]) as { file: string; table: string };
const t0 = performance.now();
const db = new Database(file, { readonly: true, fileMustExist: true });
const statement = db.prepare(`SELECT ${COLUMNS} FROM \`${table}\``).raw(true);
const t1 = performance.now();
let rows = 0;
for (const row of statement.iterate()) if (row) rows++;
const t2 = performance.now();
db.close();
process.stdout.write(
  `${JSON.stringify({ rows, connectMs: t1 - t0, streamMs: t2 - t1, rss: process.memoryUsage().rss, cpuMs: cpuMsOf(process.pid) })}\n`,
);
