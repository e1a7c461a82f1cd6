/**
 * 5. API writes: PUT at concurrency 64 for a fixed time; each 201 comes after the row is
 * committed. Baseline: raw mysql2 single-row REPLACE at concurrency 64 into an identical table
 * (created the same way), half before and half after the server's run.
 */
import mysql from 'mysql2/promise';
import { monotonicUs, nowMs, sleep } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { DalgaServer, httpGet } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { ms, rate } from '../lib/format.js';
import { closedLoop, type LoadResult } from '../lib/load.js';
import { COLUMNS, rowValues } from '../lib/job-rows.js';
import { benchTable, createJobsTable, dropTable } from '../lib/mysql.js';
import { CONNECTION } from '../lib/mysql-connection.js';
import { cpuMsOf } from '../lib/proc.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { Samples, summarize } from '../lib/stats.js';

const CONCURRENCY = 64;
const HOUR = 3_600_000;

/** Upsert statements the server has run (its /metrics): PUTs per statement shows the group commit at work. */
async function upsertStatements(server: DalgaServer): Promise<number> {
  const { text } = await httpGet(`${server.url}/metrics`);
  const match = /^dalga_db_write_duration_seconds_count\{operation="upsert"\} (\d+)$/m.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Raw mysql2: `concurrency` connections each REPLACE-ing one row at a time (autocommit). */
async function replaceLoop(table: string, durationMs: number, firstKey: number, all?: Samples): Promise<LoadResult> {
  const pool = mysql.createPool({ ...CONNECTION, connectionLimit: CONCURRENCY });
  const latencies = new Samples();
  let key = firstKey;
  // Open every connection before the clock starts (the server's pool is warm too).
  await Promise.all(Array.from({ length: CONCURRENCY }, () => pool.query('SELECT 1')));
  const started = nowMs();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (nowMs() < deadline) {
        const now = Date.now();
        const i = key++;
        const values = rowValues({
          path: 'bench-w',
          body: `k${i}`,
          interval: '3600',
          oneOff: false,
          nextRun: now + HOUR,
          nextSched: now + HOUR,
          createdAt: now,
        });
        const t = nowMs();
        await pool.query(`REPLACE INTO \`${table}\` (${COLUMNS}) VALUES ${values}`);
        const latency = nowMs() - t;
        latencies.push(latency);
        all?.push(latency);
      }
    }),
  );
  const duration = nowMs() - started;
  await pool.end();
  return {
    requests: latencies.length,
    errors: 0,
    errorSamples: [],
    durationMs: duration,
    perSecond: (latencies.length / duration) * 1000,
    latencyMs: summarize(latencies.values()),
    statuses: {},
  };
}

export const apiWrites: Scenario = {
  name: 'api-writes',
  title: 'API writes',
  async run(ctx) {
    const durationMs = bySize(ctx.mode, { quick: 5_000, full: 20_000 });
    const dalgaTable = benchTable('writes');
    const rawTable = benchTable('writes_raw');
    await createJobsTable(dalgaTable);
    ctx.defer(() => dropTable(dalgaTable));
    await createJobsTable(rawTable);
    ctx.defer(() => dropTable(rawTable));
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    const server = await DalgaServer.start({
      runtime: ctx.runtime,
      dir: ctx.dir,
      table: dalgaTable,
      endpointBaseUrl: endpoint.baseUrl,
      cpuProfile: ctx.profile,
    });
    ctx.defer(() => server.stop());

    let key = 0;
    const put = (ms: number) =>
      closedLoop({
        baseUrl: server.url,
        concurrency: CONCURRENCY,
        durationMs: ms,
        expectStatus: 201,
        next: () => ({ method: 'PUT', path: `/jobs/bench-w/k${key++}?interval=3600` }),
      });
    // Warm-up both sides (JIT, connection pools, the table's first pages).
    const warm = await put(bySize(ctx.mode, { quick: 500, full: 1_000 }));
    if (warm.errors) throw new Error(`PUT errors during warm-up: ${warm.errorSamples.join('; ')}`);
    await replaceLoop(rawTable, bySize(ctx.mode, { quick: 500, full: 1_000 }), 10_000_000);

    const rawLatencies = new Samples();
    const raw1 = await replaceLoop(rawTable, durationMs / 2, 20_000_000, rawLatencies);
    ctx.log(`baseline (1/2): ${rate(raw1.perSecond, ' rows/s')}, p50 ${ms(raw1.latencyMs.p50)}`);
    const statementsBefore = await upsertStatements(server);
    const cpuBefore = cpuMsOf(server.pid) ?? NaN;
    const fromUs = monotonicUs();
    const dalga = await put(durationMs);
    const toUs = monotonicUs();
    // Server CPU per PUT: what the machine's noise moves least (throughput also waits on MariaDB and the load generator).
    const cpuUsPerPut = (((cpuMsOf(server.pid) ?? NaN) - cpuBefore) * 1000) / dalga.requests;
    if (dalga.errors) throw new Error(`${dalga.errors} PUTs failed: ${dalga.errorSamples.join('; ')}`);
    const rowsPerStatement = dalga.requests / Math.max(1, (await upsertStatements(server)) - statementsBefore);
    ctx.log(
      `dalga: ${rate(dalga.perSecond, ' PUT/s')}, p50 ${ms(dalga.latencyMs.p50)}, p99 ${ms(dalga.latencyMs.p99)}, ${rowsPerStatement.toFixed(1)} rows per statement, ${Math.round(cpuUsPerPut)} µs server CPU per PUT`,
    );
    await sleep(200);
    const raw2 = await replaceLoop(rawTable, durationMs / 2, 30_000_000, rawLatencies);
    ctx.log(`baseline (2/2): ${rate(raw2.perSecond, ' rows/s')}, p50 ${ms(raw2.latencyMs.p50)}`);
    const raw = {
      rows: raw1.requests + raw2.requests,
      perSecond: ((raw1.requests + raw2.requests) / (raw1.durationMs + raw2.durationMs)) * 1000,
      latencyMs: summarize(rawLatencies.values()),
    };
    const code = await server.stop();
    if (code !== 0) throw new Error(`server exited with ${code}`);
    const notes: string[] = [];
    if (ctx.profile) {
      const file = server.cpuProfileFile();
      if (file) notes.push(formatProfile('api-writes: server CPU profile during the PUT run', summarizeProfile(file, { fromUs, toUs })));
    }
    const ratio = dalga.perSecond / raw.perSecond;
    return {
      rows: [
        {
          id: 'api_writes.rows_per_sec',
          figure: `API writes: PUT, ${CONCURRENCY} concurrent, each reply after its commit, ${durationMs / 1000} s`,
          dalga: rate(dalga.perSecond, ' rows/s'),
          baseline: `${rate(raw.perSecond, ' rows/s')} raw mysql2 REPLACE`,
          ratio,
          target: '≥ 1.0×',
          met: ratio >= 1,
        },
        {
          id: 'api_writes.latency_p50',
          figure: 'API writes: latency p50 / p99',
          dalga: `${ms(dalga.latencyMs.p50)} / ${ms(dalga.latencyMs.p99)}`,
          baseline: `${ms(raw.latencyMs.p50)} / ${ms(raw.latencyMs.p99)}`,
          ratio: dalga.latencyMs.p50 / raw.latencyMs.p50,
          target: '(info)',
          met: null,
        },
        {
          id: 'api_writes.cpu_per_put',
          figure: 'API writes: server CPU per PUT',
          dalga: `${Math.round(cpuUsPerPut)} µs`,
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
        {
          id: 'api_writes.rows_per_statement',
          figure: 'API writes: rows per upsert statement (group commit)',
          dalga: rowsPerStatement.toFixed(1),
          baseline: '1 (one REPLACE per row)',
          ratio: null,
          target: '(info)',
          met: null,
        },
      ],
      details: { concurrency: CONCURRENCY, durationMs, dalga, rowsPerStatement, cpuUsPerPut, baseline: { first: raw1, second: raw2, combined: raw } },
      notes,
    };
  },
};
