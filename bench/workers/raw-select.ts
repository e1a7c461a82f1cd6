/**
 * Boot baseline: a bare process that streams every row of the jobs table with mysql2 (the driver
 * the server uses, with its connection options), the lower bound for loading the table.
 * Input: {table}. Prints {rows, connectMs, streamMs, rss, cpuMs}.
 */
import mysql from 'mysql2';
import { COLUMNS } from '../lib/job-rows.js';
import { cpuMsOf } from '../lib/proc.js';
import { CONNECTION } from '../lib/mysql-connection.js';

const { table } = JSON.parse(process.argv[2]) as { table: string };
const t0 = performance.now();
const connection = mysql.createConnection(CONNECTION);
connection.connect((error) => {
  if (error) throw error;
  const t1 = performance.now();
  let rows = 0;
  connection
    .query(`SELECT ${COLUMNS} FROM \`${table}\``)
    .stream({ highWaterMark: 1000 })
    .on('data', () => {
      rows++;
    })
    .on('error', (streamError: Error) => {
      throw streamError;
    })
    .on('end', () => {
      const t2 = performance.now();
      connection.end(() => {
        process.stdout.write(
          `${JSON.stringify({ rows, connectMs: t1 - t0, streamMs: t2 - t1, rss: process.memoryUsage().rss, cpuMs: cpuMsOf(process.pid) })}\n`,
        );
        process.exit(0);
      });
    });
});
