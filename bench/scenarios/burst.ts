/**
 * 4. Burst: K one-off jobs due at the same instant (rows inserted before boot); the endpoint
 * answers 200 at once. Jobs/s from the due time to the last callback received and to the last
 * outcome written. Baseline: a bare node:http keep-alive client (own process) POSTing the same K
 * bodies to the same endpoint with max_running in flight, before and after the server's burst.
 */
import { runWorker } from '../lib/child.js';
import { monotonicUs, nowMs, sleep, waitUntil } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { DalgaServer, httpGet } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { count, ms, rate } from '../lib/format.js';
import { jobBody, jobPath } from '../lib/jobs.js';
import { sqlTime } from '../lib/job-rows.js';
import { benchTable, createJobsTable, dropTable, insertJobs, query, rowCount } from '../lib/mysql.js';
import { cpuMsOf } from '../lib/proc.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { mean } from '../lib/stats.js';

const MAX_RUNNING = 100;

/** Mean run outcomes per write-back statement, from the server's /metrics histogram. */
async function writeBackBatchMean(server: DalgaServer): Promise<number> {
  const { text } = await httpGet(`${server.url}/metrics`);
  const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return sample('dalga_write_back_batch_size_sum') / sample('dalga_write_back_batch_size_count');
}

interface ClientResult {
  k: number;
  ms: number;
  perSecond: number;
  errors: number;
}

export const burst: Scenario = {
  name: 'burst',
  title: 'Burst',
  async run(ctx) {
    const k = bySize(ctx.mode, { quick: 10_000, full: 100_000 });
    const table = benchTable('burst');
    await createJobsTable(table);
    ctx.defer(() => dropTable(table));
    const now = Date.now();
    await insertJobs(table, k, (i) => ({
      path: jobPath(i, 'burst'),
      body: jobBody(i),
      interval: null,
      oneOff: true,
      nextRun: now + 3_600_000,
      nextSched: now + 3_600_000,
      createdAt: now,
    }));
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());

    const baseline = async () => {
      endpoint.reset();
      const { value } = await runWorker<ClientResult>(ctx.runtime, 'bench/workers/http-post-client.ts', {
        baseUrl: endpoint.baseUrl,
        path: '/burst000',
        k,
        concurrency: MAX_RUNNING,
      });
      if (value.errors || endpoint.count !== k) throw new Error(`baseline client: ${value.errors} errors, ${endpoint.count} of ${k} received`);
      ctx.log(`baseline: ${rate(value.perSecond, ' req/s')}`);
      return value;
    };
    const before = await baseline();
    endpoint.reset();

    // Due a moment after the server will be ready (boot of K rows is quick; leave room for a slow start).
    const due = Math.ceil((Date.now() + 4_000 + k * 0.03 + (ctx.runtime.kind === 'tsx' ? 2_000 : 0)) / 1000) * 1000;
    await query(`UPDATE \`${table}\` SET next_run = ${sqlTime(due)}, next_sched = ${sqlTime(due)}`);
    const server = await DalgaServer.start({
      runtime: ctx.runtime,
      dir: ctx.dir,
      table,
      endpointBaseUrl: endpoint.baseUrl,
      maxRunning: MAX_RUNNING,
      cpuProfile: ctx.profile,
    });
    ctx.defer(() => server.stop());
    const readyAt = nowMs();
    if (readyAt > due) ctx.log(`server was ready ${ms(readyAt - due)} after the due time; measuring from ready`);
    const start = Math.max(due, readyAt);
    const offsetUs = monotonicUs() - nowMs() * 1000; // epoch ms -> CLOCK_MONOTONIC µs
    await sleep(Math.max(0, start - nowMs()));
    const cpuBefore = cpuMsOf(server.pid) ?? NaN;
    await waitUntil(
      async () => endpoint.count,
      (n) => n >= k,
      `${k} callbacks`,
      600_000,
      20,
    );
    const lastCallback = endpoint.lastAt;
    await waitUntil(
      () => server.status(),
      (s) => s.total_jobs === 0 && s.running_jobs === 0 && s.write_backs_pending === 0,
      'every outcome written',
      600_000,
      20,
    );
    const outcomesAt = nowMs();
    // Server CPU per job (callback + outcome write): what the machine's noise moves least.
    const cpuUsPerJob = (((cpuMsOf(server.pid) ?? NaN) - cpuBefore) * 1000) / k;
    const batchMean = await writeBackBatchMean(server);
    const left = await rowCount(table);
    if (left !== 0) throw new Error(`${left} rows left after the burst`);
    const firstLag = endpoint.firstAt - due;
    const callbackRate = (k / (lastCallback - start)) * 1000;
    const outcomeRate = (k / (outcomesAt - start)) * 1000;
    ctx.log(
      `dalga: first callback ${ms(firstLag)} after due, ${rate(callbackRate, ' callbacks/s')}, ${rate(outcomeRate, ' outcomes/s')}, ${batchMean.toFixed(1)} outcomes per write-back statement, ${Math.round(cpuUsPerJob)} µs server CPU per job`,
    );
    const code = await server.stop();
    if (code !== 0) throw new Error(`server exited with ${code}`);
    const after = await baseline();
    const baseRate = mean([before.perSecond, after.perSecond]);
    const notes: string[] = [];
    if (ctx.profile) {
      const file = server.cpuProfileFile();
      if (file)
        notes.push(
          formatProfile(
            'burst: server CPU profile, due → last outcome',
            summarizeProfile(file, { fromUs: start * 1000 + offsetUs, toUs: outcomesAt * 1000 + offsetUs }),
          ),
        );
    }
    return {
      rows: [
        {
          id: 'burst.callbacks_per_sec',
          figure: `burst: ${count(k)} jobs due at once → last callback`,
          dalga: rate(callbackRate, ' jobs/s'),
          baseline: `${rate(baseRate, ' req/s')} raw node:http client, ${MAX_RUNNING} in flight`,
          ratio: callbackRate / baseRate,
          target: '≥ 0.5×',
          met: callbackRate / baseRate >= 0.5,
        },
        {
          id: 'burst.outcomes_per_sec',
          figure: 'burst: due → last outcome written',
          dalga: rate(outcomeRate, ' jobs/s'),
          baseline: `${rate(baseRate, ' req/s')} (no database write)`,
          ratio: outcomeRate / baseRate,
          target: '≥ 0.5×',
          met: outcomeRate / baseRate >= 0.5,
        },
        {
          id: 'burst.cpu_per_job',
          figure: 'burst: server CPU per job (callback + outcome)',
          dalga: `${Math.round(cpuUsPerJob)} µs`,
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
        {
          id: 'burst.write_back_batch',
          figure: 'burst: run outcomes per write-back statement (mean)',
          dalga: batchMean.toFixed(1),
          baseline: '—',
          ratio: null,
          target: '(info)',
          met: null,
        },
      ],
      details: {
        k,
        writeBackBatchMean: batchMean,
        cpuUsPerJob,
        maxRunning: MAX_RUNNING,
        due: new Date(due).toISOString(),
        readyAfterDueMs: readyAt - due,
        firstCallbackLagMs: firstLag,
        callbackRate,
        outcomeRate,
        baseline: { before, after },
      },
      notes,
    };
  },
};
