/**
 * 10. Cluster boot: N far-future jobs (full 1 M, quick 50 k) in one table; 4 servers spawned
 * together, from the first spawn until all 4 are ready and own their shares (rendezvous hashing
 * over the 4), nothing loading or releasing, and their jobs add up to N. Baseline: one server
 * booting the same table to the same condition (owning every shard), before and after the
 * cluster, in this same run.
 */
import { BenchCluster, type ServerStatus } from '../lib/cluster.js';
import { nowMs } from '../lib/clock.js';
import { readyTimeoutFor } from '../lib/dalga-server.js';
import { createBenchDatabase, dropBenchDatabase, fillFarFuture } from '../lib/bench-database.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { count, ms } from '../lib/format.js';
import { bySize, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { mean } from '../lib/stats.js';

const SERVERS = 4;

export interface ClusterBoot {
  cluster: BenchCluster;
  /** First spawn → settled, ms. */
  settledMs: number;
  /** Each server's spawn → its /readyz 200, ms. */
  readyMs: number[];
  /** CPU of all servers, spawn → settled, ms. */
  cpuMs: number;
  statuses: ServerStatus[];
}

/** Spawns `servers` servers on the table together and waits until they are settled with all n jobs loaded between them. */
export async function bootCluster(ctx: ScenarioContext, table: string, endpointBaseUrl: string, servers: number, n: number): Promise<ClusterBoot> {
  const cluster = new BenchCluster({ runtime: ctx.runtime, dir: ctx.dir, table, endpointBaseUrl });
  ctx.defer(() => cluster.stop());
  const started = nowMs();
  await cluster.addMany(servers);
  const timeout = readyTimeoutFor(n);
  const [, settled] = await Promise.all([Promise.all(cluster.servers.map((s) => s.waitReady(timeout))), cluster.waitSettled(timeout)]);
  const cpuMs = cluster.servers.reduce((sum, s) => sum + s.cpuMs(), 0);
  const loaded = settled.statuses.reduce((sum, s) => sum + s.total_jobs, 0);
  if (loaded !== n) throw new Error(`${servers} servers loaded ${count(loaded)} jobs between them, expected ${count(n)}`);
  return { cluster, settledMs: settled.at - started, readyMs: cluster.servers.map((s) => s.readyMs), cpuMs, statuses: settled.statuses };
}

export const clusterBoot: Scenario = {
  name: 'cluster-boot',
  title: 'Cluster: boot of 4 servers',
  async run(ctx) {
    const n = bySize(ctx.mode, { quick: 50_000, full: 1_000_000 });
    const db = await createBenchDatabase('mysql', 'cluster-boot', ctx.dir);
    ctx.defer(() => dropBenchDatabase(db));
    await fillFarFuture(db, n, Date.now(), ctx.log);
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());

    const single = async (tag: string) => {
      const boot = await bootCluster(ctx, db.table, endpoint.baseUrl, 1, n);
      await boot.cluster.stop();
      ctx.log(`1 server (${tag}): settled in ${ms(boot.settledMs)} (ready ${ms(boot.readyMs[0])}), CPU ${ms(boot.cpuMs)}`);
      return boot;
    };
    const before = await single('before');
    const boot = await bootCluster(ctx, db.table, endpoint.baseUrl, SERVERS, n);
    const jobs = boot.statuses.map((s) => s.total_jobs);
    ctx.log(
      `${SERVERS} servers: settled in ${ms(boot.settledMs)} (ready ${boot.readyMs.map(ms).join(' / ')}), CPU ${ms(boot.cpuMs)} in all; jobs ${jobs.map(count).join(' / ')}; shards ${boot.statuses.map((s) => s.shards.owned.length).join(' / ')}`,
    );
    await boot.cluster.stop();
    const after = await single('after');
    const baseMs = mean([before.settledMs, after.settledMs]);
    const baseCpu = mean([before.cpuMs, after.cpuMs]);
    return {
      rows: [
        {
          id: 'cluster_boot.settled_time',
          figure: `cluster boot: ${count(n)} jobs, ${SERVERS} servers spawned together → all ready, each owning its shards, all jobs loaded`,
          dalga: `${ms(boot.settledMs)} (each ready after ${boot.readyMs.map(ms).join(' / ')})`,
          baseline: `${ms(baseMs)} one server booting the same table`,
          ratio: boot.settledMs / baseMs,
          target: '(info)',
          met: null,
        },
        {
          id: 'cluster_boot.cpu_time',
          figure: `cluster boot: ${count(n)} jobs, CPU time of all ${SERVERS} servers, spawn → settled`,
          dalga: ms(boot.cpuMs),
          baseline: `${ms(baseCpu)} one server`,
          ratio: boot.cpuMs / baseCpu,
          target: '(info)',
          met: null,
        },
      ],
      details: {
        n,
        servers: SERVERS,
        cluster: {
          settledMs: boot.settledMs,
          readyMs: boot.readyMs,
          cpuMs: boot.cpuMs,
          jobs,
          shards: boot.statuses.map((s) => s.shards.owned.length),
        },
        single: [before, after].map((b) => ({ settledMs: b.settledMs, readyMs: b.readyMs[0], cpuMs: b.cpuMs })),
      },
    };
  },
};
