/**
 * 6. API reads: GET /jobs/<path>/<body> at concurrency 64, served from memory. Baseline: a bare
 * node:http server (own process) answering the same JSON from a Map. Same load generator for
 * both; the baseline runs half before and half after Dalga.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startWorker } from '../lib/child.js';
import { monotonicUs } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { DalgaServer, httpGet } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { count, ms, rate } from '../lib/format.js';
import { farFutureJob, jobBody, jobPath } from '../lib/jobs.js';
import { closedLoop, type LoadResult } from '../lib/load.js';
import { benchTable, createJobsTable, dropTable, insertJobs } from '../lib/mysql.js';
import { prng } from '../lib/random.js';
import { bySize, type Scenario } from '../lib/scenario.js';

const CONCURRENCY = 64;
/** Jobs in the table (all loaded by the server). */
const JOBS = 10_000;
/** The keys read (their JSON is copied into the bare server). */
const READ = 2_000;

export const apiReads: Scenario = {
  name: 'api-reads',
  title: 'API reads',
  async run(ctx) {
    const durationMs = bySize(ctx.mode, { quick: 5_000, full: 20_000 });
    const table = benchTable('reads');
    await createJobsTable(table);
    ctx.defer(() => dropTable(table));
    const now = Date.now();
    await insertJobs(table, JOBS, (i) => farFutureJob(i, now));
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    const server = await DalgaServer.start({ runtime: ctx.runtime, dir: ctx.dir, table, endpointBaseUrl: endpoint.baseUrl, cpuProfile: ctx.profile });
    ctx.defer(() => server.stop());

    // The bare server answers exactly what Dalga answers.
    const pathOf = (i: number) => `/jobs/${jobPath(i)}/${jobBody(i)}`;
    const jsonFile = join(ctx.dir, 'jobs.jsonl');
    const lines: string[] = new Array(READ);
    for (let from = 0; from < READ; from += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, READ - from) }, async (_, d) => {
          const response = await httpGet(`${server.url}${pathOf(from + d)}`);
          if (response.status !== 200) throw new Error(`GET ${pathOf(from + d)} of a loaded job answered ${response.status}`);
          lines[from + d] = response.text;
        }),
      );
    }
    writeFileSync(jsonFile, `${lines.join('\n')}\n`);
    const bare = await startWorker<{ port: number; jobs: number }>(ctx.runtime, 'bench/workers/bare-server.ts', { file: jsonFile });
    ctx.defer(() => bare.stop());
    const bareUrl = `http://127.0.0.1:${bare.hello.port}`;
    const same = (await httpGet(`${bareUrl}${pathOf(7)}`)).text;
    if (same !== lines[7]) throw new Error(`the bare server answers differently:\n${same}\n${lines[7]}`);

    const pick = prng(42);
    const get = (baseUrl: string, time: number) =>
      closedLoop({
        baseUrl,
        concurrency: CONCURRENCY,
        durationMs: time,
        expectStatus: 200,
        next: () => ({ method: 'GET', path: pathOf(Math.floor(pick() * READ)) }),
      });
    const check = (result: LoadResult, who: string) => {
      if (result.errors) throw new Error(`${who}: ${result.errors} failed GETs: ${result.errorSamples.join('; ')}`);
      ctx.log(`${who}: ${rate(result.perSecond, ' req/s')}, p50 ${ms(result.latencyMs.p50)}, p99 ${ms(result.latencyMs.p99)}`);
      return result;
    };
    await get(server.url, bySize(ctx.mode, { quick: 500, full: 1_000 })); // warm-up
    await get(bareUrl, bySize(ctx.mode, { quick: 500, full: 1_000 }));
    const base1 = check(await get(bareUrl, durationMs / 2), 'baseline (1/2)');
    const fromUs = monotonicUs();
    const dalga = check(await get(server.url, durationMs), 'dalga');
    const toUs = monotonicUs();
    const base2 = check(await get(bareUrl, durationMs / 2), 'baseline (2/2)');
    const baseRate = ((base1.requests + base2.requests) / (base1.durationMs + base2.durationMs)) * 1000;
    const baseP50 = (base1.latencyMs.p50 + base2.latencyMs.p50) / 2;
    const baseP99 = Math.max(base1.latencyMs.p99, base2.latencyMs.p99);
    const code = await server.stop();
    if (code !== 0) throw new Error(`server exited with ${code}`);
    const notes: string[] = [];
    if (ctx.profile) {
      const file = server.cpuProfileFile();
      if (file) notes.push(formatProfile('api-reads: server CPU profile during the GET run', summarizeProfile(file, { fromUs, toUs })));
    }
    const ratio = dalga.perSecond / baseRate;
    return {
      rows: [
        {
          id: 'api_reads.req_per_sec',
          figure: `API reads: GET (${count(READ)} keys of ${count(JOBS)} jobs), ${CONCURRENCY} concurrent, ${durationMs / 1000} s`,
          dalga: rate(dalga.perSecond, ' req/s'),
          baseline: `${rate(baseRate, ' req/s')} bare node:http + Map`,
          ratio,
          target: '≥ 0.7×',
          met: ratio >= 0.7,
        },
        {
          id: 'api_reads.latency_p50',
          figure: 'API reads: latency p50 / p99',
          dalga: `${ms(dalga.latencyMs.p50)} / ${ms(dalga.latencyMs.p99)}`,
          baseline: `${ms(baseP50)} / ${ms(baseP99)}`,
          ratio: dalga.latencyMs.p50 / baseP50,
          target: '(info)',
          met: null,
        },
      ],
      details: { concurrency: CONCURRENCY, jobs: JOBS, durationMs, dalga, baseline: { first: base1, second: base2, perSecond: baseRate } },
      notes,
    };
  },
};
