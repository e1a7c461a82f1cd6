/**
 * 8. Cluster fire rate and precision: the same work on 1, 2 and 4 servers sharing one table on
 * the shared MariaDB; the 1-server cluster of this same run is the baseline. Two passes per size,
 * every job PUT to its shard's owner (no forwarding in what is measured) before the first is due:
 * a burst (K one-off jobs due at one instant; due → last outcome written) and a paced pass (M
 * one-off jobs at 1,000/s in all, at distinct ms; lag = arrival − Dalga-Sched). The machine has 2
 * cores, so the total rate cannot grow with the servers: what shows the cluster's overhead is the
 * callbacks per CPU-second of each server (its utime + stime from /proc over the pass). At a fixed
 * total rate each server of a bigger cluster fires at a lower rate, and a callback costs more CPU
 * at a lower rate on any server (fewer callbacks share each wake-up and each write-back), so the
 * paced pass is also run by one server alone at 500/s and 250/s: the cluster's own overhead is the
 * ratio to that.
 */
import { BenchCluster, ownerOf, sendAllTo } from '../lib/cluster.js';
import { nowMs, sleep, waitUntil } from '../lib/clock.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { count, ms, rate } from '../lib/format.js';
import { benchTable, createJobsTable, dropTable, rowCount } from '../lib/mysql.js';
import { bySize, type Row, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { mean, rounded, summarize, type Summary } from '../lib/stats.js';

const SIZES = [1, 2, 4];
const CONCURRENCY = 64;
const PER_SECOND = 1000;
const WARMUP = 500;
/** Every server's max_running (the default). */
const MAX_RUNNING = 100;

interface ServerShare {
  id: string;
  callbacks: number;
  cpuMs: number;
  /** callbacks / CPU seconds of this server. */
  perCpuSecond: number;
  /** Run outcomes per write-back statement over the pass (group commit's batch). */
  outcomesPerStatement: number;
}

interface Pass {
  jobs: number;
  /** First due → last outcome written, ms. */
  windowMs: number;
  /** jobs / window. */
  perSecond: number;
  servers: ServerShare[];
  /** Mean over the servers of their callbacks per CPU-second. */
  perCpuSecond: number;
  /** All callbacks / all servers' CPU seconds. */
  totalPerCpuSecond: number;
  lag: Summary;
  counted: number;
  /** PUTs answered 503 and sent again. */
  retried: number;
  early: number;
  duplicates: number;
}

async function clusterOf(ctx: ScenarioContext, n: number, endpoint: BenchEndpoint, sizes: { warmup: number; k: number; m: number; idleMs: number }) {
  const table = benchTable(`cluster_fire_${n}`);
  await createJobsTable(table);
  ctx.defer(() => dropTable(table));
  const cluster = new BenchCluster({ runtime: ctx.runtime, dir: ctx.dir, table, endpointBaseUrl: endpoint.baseUrl, maxRunning: MAX_RUNNING });
  ctx.defer(() => cluster.stop());
  await cluster.addMany(n);
  const { statuses } = await cluster.waitSettled(60_000);
  const owner = ownerOf(statuses);
  const urls = cluster.servers.map((s) => s.url);
  const ids = statuses.map((s) => s.instance_id);

  // Far-future periodic jobs that stay: they warm up each server's JIT and pools, and give the PUT rate for the lead time.
  const warmStart = nowMs();
  const { answers: warm } = await sendAllTo({
    urls,
    concurrency: CONCURRENCY,
    total: WARMUP,
    next: (i) => ({ method: 'PUT', path: `/jobs/bench-cfire-warmup/w${i}?interval=86400` }),
    target: (i) => owner('bench-cfire-warmup', `w${i}`),
  });
  const badWarm = warm.find((a) => a.status !== 201);
  if (badWarm) throw new Error(`${n} servers: warm-up PUT failed: ${badWarm.error ?? badWarm.status}`);
  const putRate = (WARMUP / (nowMs() - warmStart)) * 1000;
  // What a server costs doing nothing but its lease rounds (heartbeat, renewal, reading the shard rows) every 500 ms.
  await sleep(500);
  const idleFrom = cluster.servers.map((s) => s.cpuMs());
  const idleStart = nowMs();
  await sleep(sizes.idleMs);
  const idleCpuMsPerSecond = mean(cluster.servers.map((s, i) => ((s.cpuMs() - idleFrom[i]) / (nowMs() - idleStart)) * 1000));

  const pass = async (tag: string, jobs: number, perSecond: number | null): Promise<Pass> => {
    endpoint.reset();
    const t0 = Math.ceil((Date.now() + 1_000 + (jobs / putRate) * 1000 * 1.3) / 1000) * 1000;
    const dueOf = (i: number) => (perSecond === null ? t0 : t0 + Math.round((i * 1000) / perSecond));
    // One path per job: the callback's URL names the job (a burst's jobs share Dalga-Sched).
    const path = (i: number) => `bench-cfire-${tag}-${i}`;
    const { answers, retried } = await sendAllTo({
      urls,
      concurrency: CONCURRENCY,
      total: jobs,
      next: (i) => ({ method: 'PUT', path: `/jobs/${path(i)}/x?one-off=true&first-run=${new Date(dueOf(i)).toISOString()}` }),
      target: (i) => owner(path(i), 'x'),
    });
    const failed = answers.filter((a) => a.status !== 201);
    if (failed.length) throw new Error(`${n} servers, ${tag}: ${failed.length} PUTs failed: ${failed[0].error ?? failed[0].status}`);
    // A job answered less than 5 ms before its due time fires "at once", not on time: not in the lags.
    if (retried) ctx.log(`${n} servers, ${tag}: ${retried} PUTs answered 503 (a server briefly suspended), sent again`);
    const lateScheduled = new Set(answers.flatMap((a, i) => (a.endedAt > dueOf(i) - 5 ? [dueOf(i)] : [])));
    await sleep(Math.max(0, t0 - 20 - nowMs()));
    // Read before the CPU figure is taken (rendering /metrics costs the server CPU too).
    const writeBacksBefore = await Promise.all(cluster.servers.map((s) => s.writeBacks()));
    const cpuBefore = cluster.servers.map((s) => s.cpuMs());
    await waitUntil(
      async () => endpoint.count,
      (c) => c >= jobs,
      `${jobs} callbacks (${n} servers, ${tag})`,
      dueOf(jobs - 1) - Date.now() + 120_000,
      20,
    );
    const settled = await waitUntil(
      () => cluster.statuses(),
      (all) =>
        all.every((s) => s !== null && s.running_jobs === 0 && s.write_backs_pending === 0) &&
        all.reduce((sum, s) => sum + (s?.total_jobs ?? 0), 0) === WARMUP,
      `every outcome written (${n} servers, ${tag})`,
      120_000,
      20,
    );
    const doneAt = nowMs();
    const cpuAfter = cluster.servers.map((s) => s.cpuMs());
    const writeBacksAfter = await Promise.all(cluster.servers.map((s) => s.writeBacks()));
    if (settled.some((s) => s?.state !== 'ready')) throw new Error(`${n} servers, ${tag}: a server left 'ready': ${settled.map((s) => s?.state)}`);
    const byInstance = new Map<string, number>();
    const seen = new Set<string>();
    const lags: number[] = [];
    let duplicates = 0;
    let early = 0;
    for (const arrival of endpoint.arrivals) {
      byInstance.set(arrival.instance, (byInstance.get(arrival.instance) ?? 0) + 1);
      const key = `${arrival.path} ${arrival.sched}`;
      if (seen.has(key)) duplicates++;
      seen.add(key);
      const lag = arrival.at - arrival.sched;
      if (lag < 0) early++;
      if (!lateScheduled.has(arrival.sched)) lags.push(lag);
    }
    const servers = ids.map((id, i) => {
      const callbacks = byInstance.get(id) ?? 0;
      const cpuMs = cpuAfter[i] - cpuBefore[i];
      const [before, after] = [writeBacksBefore[i], writeBacksAfter[i]];
      const outcomesPerStatement = (after.outcomes - before.outcomes) / (after.statements - before.statements);
      return { id, callbacks, cpuMs, perCpuSecond: (callbacks / cpuMs) * 1000, outcomesPerStatement };
    });
    const totalCpuMs = servers.reduce((sum, s) => sum + s.cpuMs, 0);
    const windowMs = doneAt - t0;
    const result: Pass = {
      jobs,
      windowMs,
      perSecond: (jobs / windowMs) * 1000,
      servers,
      perCpuSecond: mean(servers.map((s) => s.perCpuSecond)),
      totalPerCpuSecond: (endpoint.count / totalCpuMs) * 1000,
      lag: summarize(lags),
      counted: lags.length,
      retried,
      early,
      duplicates,
    };
    ctx.log(
      `${n} servers, ${tag}: ${count(jobs)} jobs in ${ms(windowMs)} (${rate(result.perSecond, ' callbacks/s')}); per CPU-second per server ${servers.map((s) => rate(s.perCpuSecond, '')).join(' / ')}; ` +
        `outcomes per write-back statement ${servers.map((s) => s.outcomesPerStatement.toFixed(1)).join(' / ')}; ` +
        `lag p50 ${ms(result.lag.p50)} p99 ${ms(result.lag.p99)} max ${ms(result.lag.max)}; early ${early}, duplicates ${result.duplicates}, ${lateScheduled.size} scheduled too late to count`,
    );
    return result;
  };

  // An unmeasured burst first: each server's JIT has compiled its firing and write-back paths before either measured pass (a server of a bigger cluster otherwise pays that on fewer callbacks).
  await pass('warm-up', sizes.warmup, null);
  const burst = await pass('burst', sizes.k, null);
  const paced = await pass('paced', sizes.m, PER_SECOND);
  // One server alone at each bigger cluster's per-server rate, for as long: what a callback costs at that rate without a cluster.
  const alone = new Map<number, Pass>();
  if (n === 1) {
    for (const size of SIZES.slice(1)) alone.set(size, await pass(`paced-${PER_SECOND / size}`, Math.round(sizes.m / size), PER_SECOND / size));
  }
  const left = await rowCount(table);
  if (left !== WARMUP) throw new Error(`${n} servers: ${left - WARMUP} one-off rows left after every one-off job ran`);
  await cluster.stop();
  ctx.log(`${n} servers: idle, ${idleCpuMsPerSecond.toFixed(1)} ms CPU per second per server`);
  return { n, putRate, idleCpuMsPerSecond, burst, paced, alone };
}

function shares(pass: Pass): string {
  return pass.servers.map((s) => rate(s.perCpuSecond, '')).join(' / ');
}

export const clusterFire: Scenario = {
  name: 'cluster-fire',
  title: 'Cluster: fire rate and precision on 1, 2, 4 servers',
  async run(ctx) {
    const sizes = bySize(ctx.mode, {
      quick: { warmup: 1_000, k: 5_000, m: 2_000, idleMs: 2_000 },
      full: { warmup: 5_000, k: 50_000, m: 20_000, idleMs: 5_000 },
    });
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    endpoint.keep = true;
    const runs = [];
    for (const n of SIZES) runs.push(await clusterOf(ctx, n, endpoint, sizes));
    const [one] = runs;
    const errors = runs.flatMap((r) =>
      (['burst', 'paced'] as const).flatMap((tag) => {
        const p = r[tag];
        return p.early || p.duplicates ? [`${r.n} servers, ${tag}: ${p.early} callbacks before their due time, ${p.duplicates} duplicates`] : [];
      }),
    );
    const rows: Row[] = [];
    for (const r of runs) {
      const label = `cluster fire, ${r.n} server${r.n > 1 ? 's' : ''}`;
      const base = r.n === 1 ? '(this is the baseline)' : `1 server: ${rate(one.burst.perCpuSecond, '')} per CPU-s`;
      rows.push({
        id: `cluster_fire.burst_per_cpu_${r.n}`,
        figure: `${label}: ${count(sizes.k)} one-off jobs due at one instant, callbacks per CPU-second per server (each server)`,
        dalga: `${rate(r.burst.perCpuSecond, '')} (${shares(r.burst)})`,
        baseline: base,
        ratio: r.n === 1 ? null : r.burst.perCpuSecond / one.burst.perCpuSecond,
        target: r.n === 1 ? '(baseline)' : '≥ 0.9×',
        met: r.n === 1 ? null : r.burst.perCpuSecond / one.burst.perCpuSecond >= 0.9,
      });
      rows.push({
        id: `cluster_fire.burst_rate_${r.n}`,
        figure: `${label}: the burst, due → last outcome written, callbacks/s of all servers`,
        dalga: rate(r.burst.perSecond, '/s'),
        baseline: r.n === 1 ? '(this is the baseline)' : `1 server: ${rate(one.burst.perSecond, '/s')}`,
        ratio: r.n === 1 ? null : r.burst.perSecond / one.burst.perSecond,
        target: '(info: 2 cores for all servers and MariaDB)',
        met: null,
      });
      rows.push({
        id: `cluster_fire.paced_p99_${r.n}`,
        figure: `${label}: ${count(r.paced.counted)} one-off jobs at 1,000/s in all, lag p50 / p99 / max; callbacks per CPU-second per server`,
        dalga: `${ms(r.paced.lag.p50)} / ${ms(r.paced.lag.p99)} / ${ms(r.paced.lag.max)}; ${rate(r.paced.perCpuSecond, '')} per CPU-s`,
        baseline: r.n === 1 ? '(this is the baseline)' : `1 server: p99 ${ms(one.paced.lag.p99)}; ${rate(one.paced.perCpuSecond, '')} per CPU-s`,
        ratio: r.n === 1 ? null : r.paced.lag.p99 / one.paced.lag.p99,
        target: 'p99 ≤ 10 ms; none early, none twice',
        met: r.paced.lag.p99 <= 10 && r.paced.early === 0 && r.paced.duplicates === 0,
      });
      const same = one.alone.get(r.n);
      if (same) {
        const perServer = PER_SECOND / r.n;
        rows.push({
          id: `cluster_fire.paced_per_cpu_${r.n}`,
          figure: `${label}: at 1,000/s in all (${perServer}/s each), callbacks per CPU-second per server, against one server alone at ${perServer}/s`,
          dalga: `${rate(r.paced.perCpuSecond, '')} (${shares(r.paced)})`,
          baseline: `1 server at ${perServer}/s: ${rate(same.perCpuSecond, '')}; at 1,000/s: ${rate(one.paced.perCpuSecond, '')}`,
          ratio: r.paced.perCpuSecond / same.perCpuSecond,
          target: '≥ 0.9× (against the same per-server rate)',
          met: r.paced.perCpuSecond / same.perCpuSecond >= 0.9,
        });
      }
      rows.push({
        id: `cluster_fire.idle_cpu_${r.n}`,
        figure: `${label}: idle CPU per server (lease rounds every 500 ms), ms per second`,
        dalga: `${r.idleCpuMsPerSecond.toFixed(1)} ms/s`,
        baseline: r.n === 1 ? '(this is the baseline)' : `1 server: ${one.idleCpuMsPerSecond.toFixed(1)} ms/s`,
        ratio: r.n === 1 ? null : r.idleCpuMsPerSecond / one.idleCpuMsPerSecond,
        target: '(info)',
        met: null,
      });
    }
    const detail = (p: Pass) => ({ ...p, lag: rounded(p.lag) });
    return {
      rows,
      details: {
        sizes,
        runs: runs.map((r) => ({
          n: r.n,
          putRate: r.putRate,
          idleCpuMsPerSecond: r.idleCpuMsPerSecond,
          burst: detail(r.burst),
          paced: detail(r.paced),
          alone: Object.fromEntries([...r.alone].map(([size, p]) => [`${PER_SECOND / size}/s`, detail(p)])),
        })),
      },
      errors,
    };
  },
};
