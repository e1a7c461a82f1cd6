/**
 * 2. Boot: N jobs in MariaDB; a real server process from spawn to /readyz = 200, and its RSS once
 * loaded. Baseline: a bare process streaming the same rows with mysql2 (spawn to exit), run before
 * and after the server so that both see the same cache state.
 */
import { runWorker } from '../lib/child.js';
import { sleep } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { DalgaServer } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { bytes, count, ms, rate } from '../lib/format.js';
import { benchTable, createJobsTable, dropTable, insertJobs } from '../lib/mysql.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { mean } from '../lib/stats.js';
import { farFutureJob } from '../lib/jobs.js';

interface RawSelect {
  rows: number;
  connectMs: number;
  streamMs: number;
  rss: number;
}

export const boot: Scenario = {
  name: 'boot',
  title: 'Boot',
  async run(ctx) {
    const n = bySize(ctx.mode, { quick: 100_000, full: 1_000_000 });
    const table = benchTable('boot');
    await createJobsTable(table);
    ctx.defer(() => dropTable(table));
    const now = Date.now();
    const t0 = performance.now();
    await insertJobs(table, n, (i) => farFutureJob(i, now), {
      onProgress: (done) => {
        if (done % 200_000 === 0) ctx.log(`inserted ${count(done)}`);
      },
    });
    const insertMs = performance.now() - t0;
    ctx.log(`inserted ${count(n)} rows in ${ms(insertMs)} (${rate((n / insertMs) * 1000, ' rows/s')})`);

    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    const raw = async () => {
      const result = await runWorker<RawSelect>(ctx.runtime, 'bench/workers/raw-select.ts', { table });
      if (result.value.rows !== n) throw new Error(`raw select read ${result.value.rows} rows, expected ${n}`);
      ctx.log(`baseline: ${ms(result.wallMs)} (stream ${ms(result.value.streamMs)})`);
      return result;
    };
    await raw(); // warm-up: the first scan pulls the table into the buffer pool / page cache
    const before = await raw();
    const server = await DalgaServer.start({ runtime: ctx.runtime, dir: ctx.dir, table, endpointBaseUrl: endpoint.baseUrl, cpuProfile: ctx.profile });
    ctx.defer(() => server.stop());
    const readyMs = server.readyMs;
    const atReady = server.memory();
    await sleep(bySize(ctx.mode, { quick: 1_000, full: 2_000 }));
    const settled = server.memory();
    const status = await server.status();
    if (status.total_jobs !== n) throw new Error(`server loaded ${status.total_jobs} jobs, expected ${n}`);
    ctx.log(`dalga: ready in ${ms(readyMs)}, RSS ${bytes(atReady?.rss ?? NaN)} at ready, ${bytes(settled?.rss ?? NaN)} a moment later, peak ${bytes(settled?.peak ?? NaN)}`);
    const readyUs = server.spawnedAtUs + readyMs * 1000;
    const code = await server.stop();
    if (code !== 0) throw new Error(`server exited with ${code}`);
    const after = await raw();
    const baselineMs = mean([before.wallMs, after.wallMs]);
    const notes: string[] = [];
    if (ctx.profile) {
      const file = server.cpuProfileFile();
      if (file) notes.push(formatProfile('boot: server CPU profile, spawn to ready', summarizeProfile(file, { fromUs: server.spawnedAtUs, toUs: readyUs })));
    }
    const rss = settled?.rss ?? NaN;
    return {
      rows: [
        {
          id: 'boot.ready_time',
          figure: `boot: ${count(n)} jobs, process start → ready`,
          dalga: ms(readyMs),
          baseline: `${ms(baselineMs)} raw mysql2 stream (process start → last row)`,
          ratio: readyMs / baselineMs,
          target: '≤ 2×',
          met: readyMs / baselineMs <= 2,
        },
        {
          id: 'boot.rss',
          figure: `boot: RSS with ${count(n)} jobs loaded`,
          dalga: `${bytes(rss)} (peak ${bytes(settled?.peak ?? NaN)})`,
          baseline: `${bytes(mean([before.value.rss, after.value.rss]))} raw stream process`,
          ratio: null,
          target: '≤ 400 MB',
          met: rss <= 400 * 1024 * 1024,
        },
      ],
      details: {
        n,
        insertMs,
        readyMs,
        baseline: { before: { wallMs: before.wallMs, ...before.value }, after: { wallMs: after.wallMs, ...after.value } },
        memory: { atReady, settled },
        bytesPerJob: rss / n,
      },
      notes,
    };
  },
};
