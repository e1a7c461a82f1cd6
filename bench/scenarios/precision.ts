import { sleep } from '../lib/clock.js';
/**
 * 3. Precision: M one-off jobs due at 1,000/s at distinct milliseconds, scheduled through the API
 * with first-run; the endpoint records each arrival; lag = arrival - due (Dalga-Sched).
 * No same-run baseline: the original Dalga polls the table once a second.
 * Loaded variants (precision-1m, precision-10m, made by precisionScenario): N far-future jobs are
 * in the table at boot, so they sit on the wheel and in memory while the measured jobs fire
 * (a bigger wheel, a bigger heap to collect).
 */
import { monotonicUs, nowMs, waitUntil } from '../lib/clock.js';
import { formatProfile, summarizeProfile } from '../lib/cpu-profile.js';
import { createBenchDatabase, dropBenchDatabase, fillFarFuture } from '../lib/bench-database.js';
import { DalgaServer, readyTimeoutFor } from '../lib/dalga-server.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { bytes, count, ms, rate } from '../lib/format.js';
import { sendAll } from '../lib/load.js';
import { rowCount } from '../lib/mysql.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { rounded, summarize } from '../lib/stats.js';

const PER_SECOND = 1000;
const CONCURRENCY = 64;
const BASELINE = '1 s poll (original Dalga)';

export interface PrecisionOptions {
  name: string;
  title: string;
  /** Far-future jobs in the table at boot; quick null: a full-mode-only scenario. */
  loaded: { quick: number | null; full: number };
  /** Target for the lag p99 at 1,000/s, ms. */
  maxP99: number;
}

export function precisionScenario(options: PrecisionOptions): Scenario {
  const id = options.name.replace(/-/g, '_');
  return {
    name: options.name,
    title: options.title,
    fullOnly: options.loaded.quick === null,
    async run(ctx) {
      const m = bySize(ctx.mode, { quick: 3_000, full: 20_000 });
      const loaded = bySize(ctx.mode, options.loaded) ?? options.loaded.full;
      const db = await createBenchDatabase('mysql', options.name, ctx.dir);
      const table = db.table;
      ctx.defer(() => dropBenchDatabase(db));
      if (loaded) await fillFarFuture(db, loaded, Date.now(), ctx.log);
      const endpoint = await BenchEndpoint.start();
      ctx.defer(() => endpoint.close());
      endpoint.keep = true;
      const server = await DalgaServer.start({
        runtime: ctx.runtime,
        dir: ctx.dir,
        table,
        endpointBaseUrl: endpoint.baseUrl,
        cpuProfile: ctx.profile,
        readyTimeoutMs: readyTimeoutFor(loaded),
      });
      ctx.defer(() => server.stop());
      if (loaded) ctx.log(`server ready with ${count(loaded)} jobs loaded in ${ms(server.readyMs)}, RSS ${bytes(server.memory()?.rss ?? NaN)}`);

      // Everything is scheduled before the first job is due, so the firing window sees no API
      // traffic. The lead time comes from the PUT rate of a warm-up batch (far-future periodic jobs
      // that stay in the table: they also warm up the server's JIT and connection pool).
      const warmup = Math.min(500, Math.ceil(m / 10));
      // Right after a big boot, a long GC pause can make the lease renewal late: the server answers
      // 503 (suspended) until its next renewal. A client retries that; so does the warm-up (counted).
      let warm: Awaited<ReturnType<typeof sendAll>> = [];
      let suspendedAnswers = 0;
      let warmStart = nowMs();
      for (const deadline = nowMs() + 30_000; ; ) {
        warmStart = nowMs();
        warm = await sendAll({
          baseUrl: server.url,
          concurrency: CONCURRENCY,
          total: warmup,
          next: (i) => ({ method: 'PUT', path: `/jobs/bench-precision-warmup/w${i}?interval=86400` }),
        });
        const refused = warm.filter((a) => a.status === 503).length;
        if (refused === 0 || nowMs() > deadline) break;
        suspendedAnswers += refused;
        await sleep(500);
      }
      if (suspendedAnswers > 0) ctx.log(`warm-up: ${suspendedAnswers} PUTs answered 503 (suspended after boot), retried`);
      if (warm.some((a) => a.status !== 201))
        throw new Error(`warm-up PUT failed: ${warm.find((a) => a.status !== 201)?.error ?? warm.find((a) => a.status !== 201)?.status}`);
      const putRate = (warmup / (nowMs() - warmStart)) * 1000;
      /** Jobs that stay in the table: the loaded ones and the warm-up's. */
      const resident = loaded + warmup;
      /** Schedules m one-off jobs due at `perSecond` (all PUTs before the first is due), waits for them, returns the lags. */
      const pass = async (tag: string, m: number, perSecond: number) => {
        endpoint.reset();
        const spacing = 1000 / perSecond;
        const t0 = Math.ceil((Date.now() + 1_000 + (m / putRate) * 1000 * 1.15) / 1000) * 1000;
        const dueOf = (i: number) => t0 + Math.round(i * spacing);
        const scheduleStart = nowMs();
        const answers = await sendAll({
          baseUrl: server.url,
          concurrency: CONCURRENCY,
          total: m,
          next: (i) => ({ method: 'PUT', path: `/jobs/bench-precision-${tag}/j${i}?one-off=true&first-run=${new Date(dueOf(i)).toISOString()}` }),
        });
        const scheduleMs = nowMs() - scheduleStart;
        const failed = answers.filter((a) => a.error || a.status !== 201);
        if (failed.length) throw new Error(`${failed.length} PUTs failed: ${failed[0].error ?? failed[0].status}`);
        // A job whose PUT was answered less than 5 ms before its due time fires "at once", not on time: excluded.
        const lateScheduled = new Set<number>();
        answers.forEach((a, i) => {
          if (a.endedAt > dueOf(i) - 5) lateScheduled.add(dueOf(i));
        });
        ctx.log(
          `${tag}: scheduled ${count(m)} jobs in ${ms(scheduleMs)} (${rate((m / scheduleMs) * 1000, ' PUT/s')}); first due in ${ms(t0 - nowMs())}; ${lateScheduled.size} scheduled too late to count`,
        );
        await waitUntil(
          async () => endpoint.count,
          (n) => n >= m,
          `${m} callbacks`,
          dueOf(m - 1) - Date.now() + 60_000,
          100,
        );
        await waitUntil(
          () => server.status(),
          (s) => s.total_jobs === resident && s.running_jobs === 0 && s.write_backs_pending === 0,
          'all outcomes written',
          60_000,
          100,
        );
        const lags: number[] = [];
        let early = 0;
        let retries = 0;
        const seen = new Set<number>();
        let duplicates = 0;
        for (const arrival of endpoint.arrivals) {
          if (arrival.attempt !== 1) retries++;
          if (seen.has(arrival.sched)) duplicates++;
          seen.add(arrival.sched);
          if (lateScheduled.has(arrival.sched)) continue;
          const lag = arrival.at - arrival.sched;
          if (lag < 0) early++;
          lags.push(lag);
        }
        const lag = summarize(lags);
        ctx.log(
          `${tag}: lag p50 ${ms(lag.p50)}, p99 ${ms(lag.p99)}, max ${ms(lag.max)}, early ${early}, retries ${retries}, duplicates ${duplicates}`,
        );
        return {
          m,
          perSecond,
          counted: lags.length,
          scheduleMs,
          lateScheduled: lateScheduled.size,
          lag,
          early,
          retries,
          duplicates,
          firstDue: new Date(t0).toISOString(),
        };
      };

      const fireFrom = monotonicUs();
      const main = await pass('1000', m, PER_SECOND);
      const fireTo = monotonicUs();
      const slow = await pass('100', bySize(ctx.mode, { quick: 150, full: 2_000 }), 100);
      const left = await rowCount(table);
      if (left !== resident) throw new Error(`${left - resident} one-off rows left in the table after every one-off job ran`);
      const lag = main.lag;
      const code = await server.stop();
      if (code !== 0) throw new Error(`server exited with ${code}`);
      const notes: string[] = [];
      if (ctx.profile) {
        const file = server.cpuProfileFile();
        if (file)
          notes.push(formatProfile(`${options.name}: server CPU profile while firing`, summarizeProfile(file, { fromUs: fireFrom, toUs: fireTo })));
      }
      const loadedLabel = loaded ? `, ${count(loaded)} jobs loaded` : '';
      return {
        rows: [
          {
            id: `${id}.lag_p50`,
            figure: `precision${loadedLabel}: ${count(main.counted)} one-off jobs at 1,000/s, lag p50`,
            dalga: ms(lag.p50),
            baseline: BASELINE,
            ratio: null,
            target: '≤ 2 ms',
            met: lag.p50 <= 2,
          },
          {
            id: `${id}.lag_p99`,
            figure: `precision${loadedLabel}: lag p99`,
            dalga: ms(lag.p99),
            baseline: BASELINE,
            ratio: null,
            target: `≤ ${options.maxP99} ms`,
            met: lag.p99 <= options.maxP99,
          },
          {
            id: `${id}.lag_max_early`,
            figure: `precision${loadedLabel}: lag max; callbacks before their due time`,
            dalga: `max ${ms(lag.max)}; ${main.early + slow.early} early`,
            baseline: `${BASELINE}: lag up to 1 s`,
            ratio: null,
            target: 'none early',
            met: main.early + slow.early === 0 && main.duplicates + slow.duplicates === 0,
          },
          {
            id: `${id}.slow_lag`,
            figure: `precision${loadedLabel}: ${count(slow.counted)} one-off jobs at 100/s (below write-back capacity), lag p50 / p99`,
            dalga: `${ms(slow.lag.p50)} / ${ms(slow.lag.p99)}`,
            baseline: BASELINE,
            ratio: null,
            target: `(info) ≤ 2 ms / ≤ ${options.maxP99} ms`,
            met: null,
          },
        ],
        details: {
          loaded,
          readyMs: server.readyMs,
          warmupPutRate: putRate,
          atRate: { ...main, lag: rounded(main.lag) },
          slow: { ...slow, lag: rounded(slow.lag) },
        },
        notes,
      };
    },
  };
}

export const precision = precisionScenario({ name: 'precision', title: 'Precision', loaded: { quick: 0, full: 0 }, maxP99: 10 });
export const precision1m = precisionScenario({
  name: 'precision-1m',
  title: 'Precision, 1 M jobs loaded',
  loaded: { quick: 100_000, full: 1_000_000 },
  maxP99: 3,
});
export const precision10m = precisionScenario({
  name: 'precision-10m',
  title: 'Precision, 10 M jobs loaded',
  loaded: { quick: null, full: 10_000_000 },
  maxP99: 10,
});
