/**
 * 9. Cluster forwarding: the cost of asking a server that does not own the job. Two servers on one
 * table; J jobs all in shards of server 1. GET and PUT of those jobs sent to server 1 (the owner)
 * and to server 2 (which forwards each to server 1 and answers as it answered), in the same run,
 * alternating owner / forwarded / owner / forwarded so that the machine's drift hits both alike.
 * Each figure: 4 × 1 s (quick) or 4 × 5 s (full). One client in flight (the latency a call adds) and 64 (the throughput, and the CPU per call of
 * both servers together).
 */
import http from 'node:http';
import { BenchCluster, ownerOf, type ServerStatus } from '../lib/cluster.js';
import { BenchEndpoint } from '../lib/endpoint.js';
import { count, ms, rate } from '../lib/format.js';
import { closedLoop, sendAll, type LoadRequest, type LoadResult } from '../lib/load.js';
import { benchTable, createJobsTable, dropTable } from '../lib/mysql.js';
import { bySize, type Row, type Scenario } from '../lib/scenario.js';
import { mean } from '../lib/stats.js';

const JOBS = 1_000;
const PATH = 'bench-forward';

/** The Dalga-Instance header of one answer (who answered a forwarded request). */
function answeredBy(url: string): Promise<{ status: number; instance: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, instance: String(response.headers['dalga-instance'] ?? '') }));
      })
      .on('error', reject);
  });
}

interface Phase {
  result: LoadResult;
  /** CPU of both servers per answered call, µs. */
  cpuUsPerCall: number;
}

export const clusterForwarding: Scenario = {
  name: 'cluster-forwarding',
  title: 'Cluster: forwarding to the owner',
  async run(ctx) {
    const halfMs = bySize(ctx.mode, { quick: 1_000, full: 5_000 });
    const table = benchTable('cluster_forward');
    await createJobsTable(table);
    ctx.defer(() => dropTable(table));
    const endpoint = await BenchEndpoint.start();
    ctx.defer(() => endpoint.close());
    const cluster = new BenchCluster({ runtime: ctx.runtime, dir: ctx.dir, table, endpointBaseUrl: endpoint.baseUrl });
    ctx.defer(() => cluster.stop());
    await cluster.addMany(2);
    const { statuses } = await cluster.waitSettled(60_000);
    const owner = ownerOf(statuses as ServerStatus[]);
    const [first, second] = cluster.servers;
    // J keys whose shard server 1 owns.
    const bodies: string[] = [];
    for (let i = 0; bodies.length < JOBS; i++) if (owner(PATH, `f${i}`) === 0) bodies.push(`f${i}`);
    const created = await sendAll({
      baseUrl: first.url,
      concurrency: 32,
      total: JOBS,
      next: (i) => ({ method: 'PUT', path: `/jobs/${PATH}/${bodies[i]}?interval=86400` }),
    });
    if (created.some((a) => a.status !== 201)) throw new Error(`creating the jobs failed: ${created.find((a) => a.status !== 201)?.error}`);
    const check = await answeredBy(`${second.url}/jobs/${PATH}/${bodies[0]}`);
    if (check.status !== 200 || check.instance !== statuses[0].instance_id)
      throw new Error(`a GET through server 2 answered ${check.status} by ${check.instance || 'nobody'}, expected 200 by ${statuses[0].instance_id}`);

    const errors: string[] = [];
    const phase = async (url: string, concurrency: number, next: (i: number) => LoadRequest, expectStatus: number): Promise<Phase> => {
      const cpuBefore = cluster.servers.map((s) => s.cpuMs());
      const result = await closedLoop({ baseUrl: url, concurrency, durationMs: halfMs, next, expectStatus });
      const cpuMs = cluster.servers.reduce((sum, s, i) => sum + s.cpuMs() - cpuBefore[i], 0);
      if (result.errors) errors.push(`${result.errors} errors at ${url}: ${result.errorSamples.join('; ')}`);
      return { result, cpuUsPerCall: (cpuMs * 1000) / Math.max(1, result.requests) };
    };
    const ops = [
      { op: 'GET', expect: 200, next: (i: number) => ({ method: 'GET', path: `/jobs/${PATH}/${bodies[i % JOBS]}` }) },
      { op: 'PUT', expect: 201, next: (i: number) => ({ method: 'PUT', path: `/jobs/${PATH}/${bodies[i % JOBS]}?interval=86400` }) },
    ];
    const measured = [];
    for (const { op, expect, next } of ops) {
      for (const concurrency of [1, 64]) {
        const direct: Phase[] = [];
        const forwarded: Phase[] = [];
        for (let round = 0; round < 2; round++) {
          direct.push(await phase(first.url, concurrency, next, expect));
          forwarded.push(await phase(second.url, concurrency, next, expect));
        }
        const summary = (phases: Phase[]) => ({
          perSecond: mean(phases.map((p) => p.result.perSecond)),
          meanMs: mean(phases.map((p) => p.result.latencyMs.mean)),
          p50Ms: mean(phases.map((p) => p.result.latencyMs.p50)),
          p99Ms: mean(phases.map((p) => p.result.latencyMs.p99)),
          cpuUsPerCall: mean(phases.map((p) => p.cpuUsPerCall)),
          requests: phases.reduce((sum, p) => sum + p.result.requests, 0),
        });
        const d = summary(direct);
        const f = summary(forwarded);
        ctx.log(
          `${op} ×${concurrency}: owner ${rate(d.perSecond, ' req/s')}, mean ${ms(d.meanMs)}, ${Math.round(d.cpuUsPerCall)} µs CPU/call; ` +
            `forwarded ${rate(f.perSecond, ' req/s')}, mean ${ms(f.meanMs)}, ${Math.round(f.cpuUsPerCall)} µs CPU/call`,
        );
        measured.push({ op, concurrency, direct: d, forwarded: f });
      }
    }
    await cluster.stop();
    const rows: Row[] = measured.map(({ op, concurrency, direct: d, forwarded: f }) =>
      concurrency === 1
        ? {
            id: `cluster_forwarding.${op.toLowerCase()}_latency`,
            figure: `forwarding: ${op} of a job, one call in flight, mean latency (p50) through a non-owner; added per call`,
            dalga: `${ms(f.meanMs)} (p50 ${ms(f.p50Ms)}); +${ms(f.meanMs - d.meanMs)} per call`,
            baseline: `${ms(d.meanMs)} (p50 ${ms(d.p50Ms)}) through the owner`,
            ratio: f.meanMs / d.meanMs,
            target: '(info)',
            met: null,
          }
        : {
            id: `cluster_forwarding.${op.toLowerCase()}_throughput`,
            figure: `forwarding: ${op} of a job, ${concurrency} in flight, calls/s through a non-owner; CPU per call of both servers`,
            dalga: `${rate(f.perSecond, '/s')}; ${Math.round(f.cpuUsPerCall)} µs CPU/call`,
            baseline: `${rate(d.perSecond, '/s')}; ${Math.round(d.cpuUsPerCall)} µs CPU/call through the owner`,
            ratio: f.perSecond / d.perSecond,
            target: '(info)',
            met: null,
          },
    );
    return {
      rows,
      details: { jobs: JOBS, halfMs, measured, requests: count(measured.reduce((s, m) => s + m.direct.requests + m.forwarded.requests, 0)) },
      errors,
    };
  },
};
