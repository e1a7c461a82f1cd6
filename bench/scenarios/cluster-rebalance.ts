/**
 * 11. Cluster rebalancing: 4 servers settled on N far-future jobs (full 1 M, quick 50 k); a 5th
 * joins. Time from its spawn until the /status of all 5 shows each owning exactly its share by
 * rendezvous hashing over the 5, nothing loading or releasing; how many shards and jobs moved
 * (rendezvous moves only what the newcomer wins: about 1/5). Meanwhile a client GETs jobs of
 * every shard through server 1 at a steady rate: 503 (the shard between owners, Retry-After: 1)
 * is counted, any other failure is an error. No same-run baseline: a single server never
 * rebalances.
 */
import { unsettled } from '../lib/cluster.js';
import { nowMs } from '../lib/clock.js';
import { readyTimeoutFor } from '../lib/dalga-server.js';
import { createBenchDatabase, dropBenchDatabase, fillFarFuture } from '../lib/bench-database.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { count, ms } from '../lib/format.js';
import { jobBody, jobPath } from '../lib/jobs.js';
import { openLoop } from '../lib/load.js';
import { bySize, type Scenario } from '../lib/scenario.js';
import { bootCluster } from './cluster-boot.js';

const SERVERS = 4;
const PROBES_PER_SECOND = 200;

export const clusterRebalance: Scenario = {
  name: 'cluster-rebalance',
  title: 'Cluster: rebalancing when a 5th server joins',
  async run(ctx) {
    const n = bySize(ctx.mode, { quick: 50_000, full: 1_000_000 });
    const db = await createBenchDatabase('mysql', 'cluster-rebalance', ctx.dir);
    ctx.defer(() => dropBenchDatabase(db));
    await fillFarFuture(db, n, Date.now(), ctx.log);
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    const boot = await bootCluster(ctx, db.table, endpoint.baseUrl, SERVERS, n);
    const { cluster } = boot;
    const before = new Map(boot.statuses.map((s) => [s.instance_id, s]));
    ctx.log(`${SERVERS} servers settled in ${ms(boot.settledMs)}; jobs ${boot.statuses.map((s) => count(s.total_jobs)).join(' / ')}`);

    // Probes of random jobs through server 1 while the 5th joins (forwarded when server 1 is not the owner).
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    let probing = true;
    const probes = (async () => {
      while (probing) {
        await openLoop({
          baseUrl: cluster.servers[0].url,
          ratePerSecond: PROBES_PER_SECOND,
          durationMs: 500,
          next: () => {
            const i = Math.floor(Math.random() * n);
            return { method: 'GET', path: `/jobs/${jobPath(i)}/${jobBody(i)}` };
          },
          onDone: (sent) => {
            const key = sent.error && sent.status === 0 ? 'error' : String(sent.status);
            statuses[key] = (statuses[key] ?? 0) + 1;
            if (sent.status !== 200 && sent.status !== 503 && failures.length < 5) failures.push(sent.error ?? `status ${sent.status}`);
          },
        });
      }
    })();

    const joinedAt = nowMs();
    const newcomer = await cluster.add();
    const timeout = readyTimeoutFor(n);
    const [, settled] = await Promise.all([newcomer.waitReady(timeout), cluster.waitSettled(timeout)]);
    const settledMs = settled.at - joinedAt;
    probing = false;
    await probes;
    // Still settled a moment later (no second wave of handovers).
    const again = unsettled(await cluster.statuses());
    if (again) throw new Error(`the cluster unsettled again after the 5th joined: ${again}`);

    const after = settled.statuses;
    const total = after.reduce((sum, s) => sum + s.total_jobs, 0);
    if (total !== n) throw new Error(`5 servers hold ${count(total)} jobs between them after rebalancing, expected ${count(n)}`);
    const mine = after[SERVERS];
    let shardsMoved = 0;
    for (const s of after.slice(0, SERVERS)) {
      const old = before.get(s.instance_id);
      if (!old) throw new Error(`server ${s.instance_id} changed its id`);
      const kept = new Set(s.shards.owned);
      shardsMoved += old.shards.owned.filter((shard) => !kept.has(shard)).length;
      if (s.shards.owned.some((shard) => !old.shards.owned.includes(shard)))
        throw new Error(`${s.instance_id} gained a shard from another old server`);
    }
    if (shardsMoved !== mine.shards.owned.length) throw new Error(`${shardsMoved} shards left the 4, the 5th owns ${mine.shards.owned.length}`);
    const errors = failures.length ? [`GETs during rebalancing failed: ${failures.join('; ')}`] : [];
    const probesSent = Object.values(statuses).reduce((a, b) => a + b, 0);
    ctx.log(
      `5th server: ready after ${ms(newcomer.readyMs)}, all settled after ${ms(settledMs)}; ${mine.shards.owned.length} of ${mine.shards.total} shards and ${count(mine.total_jobs)} jobs moved; probes ${JSON.stringify(statuses)}`,
    );
    await cluster.stop();
    return {
      rows: [
        {
          id: 'cluster_rebalance.settled_time',
          figure: `rebalancing: ${count(n)} jobs on ${SERVERS} servers, a 5th joins → all 5 own their shares, nothing loading or releasing`,
          dalga: `${ms(settledMs)} (the 5th ready after ${ms(newcomer.readyMs)})`,
          baseline: `— (${SERVERS} servers booted in ${ms(boot.settledMs)})`,
          ratio: null,
          target: '(info)',
          met: null,
        },
        {
          id: 'cluster_rebalance.moved',
          figure: 'rebalancing: shards and jobs that moved (to the 5th)',
          dalga: `${mine.shards.owned.length} of ${mine.shards.total} shards, ${count(mine.total_jobs)} jobs (${((mine.total_jobs / n) * 100).toFixed(1)} %)`,
          baseline: `ideal 1/5: ${count(n / 5)} jobs`,
          ratio: mine.total_jobs / (n / 5),
          target: '(info) only the 5th gains',
          met: null,
        },
        {
          id: 'cluster_rebalance.probe_503',
          figure: `rebalancing: GETs of random jobs through server 1 at ${PROBES_PER_SECOND}/s meanwhile, answered 503 (between owners)`,
          dalga: `${count(statuses['503'] ?? 0)} of ${count(probesSent)}`,
          baseline: '—',
          ratio: null,
          target: '(info) no other failure',
          met: null,
        },
      ],
      details: {
        n,
        bootMs: boot.settledMs,
        settledMs,
        newcomerReadyMs: newcomer.readyMs,
        shardsMoved,
        jobsMoved: mine.total_jobs,
        jobsBefore: boot.statuses.map((s) => s.total_jobs),
        jobsAfter: after.map((s) => s.total_jobs),
        probes: statuses,
      },
      errors,
    };
  },
};
