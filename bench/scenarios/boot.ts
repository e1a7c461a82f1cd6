/**
 * 2. Boot: N jobs in the database; a real server process from spawn to /readyz = 200, and its RSS
 * once loaded. Baseline: a bare process reading the same rows with the server's own driver (a
 * mysql2 stream, a better-sqlite3 iterate), spawn to exit, run before and after the server so
 * that both see the same cache state. One scenario per database and size (boot, boot-10m,
 * boot-sqlite), made by bootScenario.
 */
import { runWorker } from '../lib/child.js';
import { sleep } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { createBenchDatabase, dropBenchDatabase, fillFarFuture, type DatabaseKind } from '../lib/bench-database.js';
import { DalgaServer, readyTimeoutFor } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { bytes, count, ms } from '../lib/format.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { cpuMsOf } from '../lib/proc.js';
import { mean } from '../lib/stats.js';

interface RawSelect {
  rows: number;
  connectMs: number;
  streamMs: number;
  rss: number;
  cpuMs: number;
}

const MB = 1024 * 1024;

export interface BootOptions {
  name: string;
  title: string;
  database: DatabaseKind;
  /** Jobs in the table; quick null: a full-mode-only scenario. */
  jobs: { quick: number | null; full: number };
  /** Targets: ready time / baseline, RSS in bytes; null: informational. */
  maxRatio: number | null;
  maxRss: number | null;
}

export function bootScenario(options: BootOptions): Scenario {
  const id = options.name.replace(/-/g, '_');
  return {
    name: options.name,
    title: options.title,
    fullOnly: options.jobs.quick === null,
    async run(ctx) {
      const n = bySize(ctx.mode, options.jobs) ?? options.jobs.full;
      const db = await createBenchDatabase(options.database, options.name, ctx.dir);
      ctx.defer(() => dropBenchDatabase(db));
      const now = Date.now();
      const t0 = performance.now();
      await fillFarFuture(db, n, now, ctx.log);
      const insertMs = performance.now() - t0;

      const endpoint = await BenchEndpoint.start();
      ctx.defer(() => endpoint.close());
      const raw = async () => {
        const result = await runWorker<RawSelect>(ctx.runtime, db.rawReadWorker, { table: db.table, file: db.file });
        if (result.value.rows !== n) throw new Error(`raw read got ${result.value.rows} rows, expected ${n}`);
        ctx.log(`baseline: ${ms(result.wallMs)} (read ${ms(result.value.streamMs)}), RSS ${bytes(result.value.rss)}`);
        return result;
      };
      await raw(); // warm-up: the first scan pulls the table into the buffer pool / page cache
      const before = await raw();
      const server = await DalgaServer.start({
        runtime: ctx.runtime,
        dir: ctx.dir,
        table: db.table,
        sqliteFile: db.file,
        endpointBaseUrl: endpoint.baseUrl,
        cpuProfile: ctx.profile,
        readyTimeoutMs: readyTimeoutFor(n),
      });
      ctx.defer(() => server.stop());
      const readyMs = server.readyMs;
      // CPU to ready moves less with the other load on the shared machine than wall time does.
      const cpuAtReady = cpuMsOf(server.pid) ?? NaN;
      const atReady = server.memory();
      await sleep(bySize(ctx.mode, { quick: 1_000, full: 2_000 }));
      const settled = server.memory();
      const status = await server.status();
      if (status.total_jobs !== n) throw new Error(`server loaded ${status.total_jobs} jobs, expected ${n}`);
      ctx.log(
        `dalga: ready in ${ms(readyMs)}, RSS ${bytes(atReady?.rss ?? NaN)} at ready, ${bytes(settled?.rss ?? NaN)} a moment later, peak ${bytes(settled?.peak ?? NaN)}`,
      );
      const readyUs = server.spawnedAtUs + readyMs * 1000;
      const code = await server.stop();
      if (code !== 0) throw new Error(`server exited with ${code}`);
      const after = await raw();
      const baselineMs = mean([before.wallMs, after.wallMs]);
      const baselineCpuMs = mean([before.value.cpuMs, after.value.cpuMs]);
      const notes: string[] = [];
      if (ctx.profile) {
        const file = server.cpuProfileFile();
        if (file)
          notes.push(
            formatProfile(
              `${options.name}: server CPU profile, spawn to ready`,
              summarizeProfile(file, { fromUs: server.spawnedAtUs, toUs: readyUs }),
            ),
          );
      }
      const rss = settled?.rss ?? NaN;
      const ratio = readyMs / baselineMs;
      const on = options.database === 'sqlite' ? ' (SQLite)' : '';
      return {
        rows: [
          {
            id: `${id}.ready_time`,
            figure: `boot${on}: ${count(n)} jobs, process start → ready`,
            dalga: ms(readyMs),
            baseline: `${ms(baselineMs)} ${db.rawReadLabel} (process start → last row)`,
            ratio,
            target: options.maxRatio === null ? '(info)' : `≤ ${options.maxRatio}×`,
            met: options.maxRatio === null ? null : ratio <= options.maxRatio,
          },
          {
            id: `${id}.cpu_time`,
            figure: `boot${on}: ${count(n)} jobs, CPU time of the process, start → ready`,
            dalga: ms(cpuAtReady),
            baseline: `${ms(baselineCpuMs)} ${db.rawReadLabel}`,
            ratio: cpuAtReady / baselineCpuMs,
            target: '(info: less noisy than wall time on a shared machine)',
            met: null,
          },
          {
            id: `${id}.rss`,
            figure: `boot${on}: RSS with ${count(n)} jobs loaded`,
            dalga: `${bytes(rss)} (peak ${bytes(settled?.peak ?? NaN)}, ${Math.round(rss / n)} B/job)`,
            baseline: `${bytes(mean([before.value.rss, after.value.rss]))} raw read process`,
            ratio: null,
            target:
              options.maxRss === null
                ? '(info)'
                : `≤ ${options.maxRss >= 1024 * MB ? `${(options.maxRss / 1024 / MB).toFixed(1)} GB` : `${options.maxRss / MB} MB`}`,
            met: options.maxRss === null ? null : rss <= options.maxRss,
          },
        ],
        details: {
          database: options.database,
          n,
          insertMs,
          readyMs,
          cpuAtReady,
          baseline: { before: { wallMs: before.wallMs, ...before.value }, after: { wallMs: after.wallMs, ...after.value } },
          memory: { atReady, settled },
          bytesPerJob: rss / n,
        },
        notes,
      };
    },
  };
}

export const boot = bootScenario({
  name: 'boot',
  title: 'Boot',
  database: 'mysql',
  jobs: { quick: 100_000, full: 1_000_000 },
  maxRatio: 1.5,
  maxRss: 250 * MB,
});
export const boot10m = bootScenario({
  name: 'boot-10m',
  title: 'Boot, 10 M jobs',
  database: 'mysql',
  jobs: { quick: null, full: 10_000_000 },
  maxRatio: 1.5,
  maxRss: 2048 * MB,
});
export const bootSqlite = bootScenario({
  name: 'boot-sqlite',
  title: 'Boot on SQLite',
  database: 'sqlite',
  jobs: { quick: 100_000, full: 1_000_000 },
  maxRatio: null,
  maxRss: null,
});
