import { rendezvous } from '../../src/cluster/rendezvous.js';
import type { DalgaStatus } from '../../src/client/dalga-client.js';
import { ShardMap } from '../../src/cluster/shard-map.js';
import { nowMs, sleep } from './clock.js';
import { DalgaServer, httpGet, type DalgaServerOptions } from './dalga-server.js';
import { LoadClient, type LoadRequest, type Sent } from './load.js';

/** The fields of GET /status the cluster scenarios read. */
/** GET /status, as the client types it. */
export type ServerStatus = DalgaStatus;

/**
 * Several Dalga servers on one MariaDB table (each its own process, config and log), as an
 * operator runs a cluster: the same config but for the listen port.
 */
export class BenchCluster {
  readonly servers: DalgaServer[] = [];

  constructor(private readonly options: Omit<DalgaServerOptions, 'name'>) {}

  /** Spawns one more server; does not wait for it. */
  async add(): Promise<DalgaServer> {
    const server = await DalgaServer.spawn({ ...this.options, name: `${this.options.table}-${this.servers.length + 1}` });
    this.servers.push(server);
    return server;
  }

  /** Spawns n servers one right after another (milliseconds apart); does not wait for them. */
  async addMany(n: number): Promise<DalgaServer[]> {
    const spawned: DalgaServer[] = [];
    for (let i = 0; i < n; i++) spawned.push(await this.add());
    return spawned;
  }

  /** Every server's /status (null for one that does not answer yet). */
  statuses(): Promise<(ServerStatus | null)[]> {
    return Promise.all(
      this.servers.map((server) =>
        httpGet(`${server.url}/status`, 5_000).then(
          (r) => (r.status === 200 ? (JSON.parse(r.text) as ServerStatus) : null),
          () => null,
        ),
      ),
    );
  }

  /** Polls until settled(); resolves with the statuses and the time, ms since the epoch, it was first seen settled. */
  async waitSettled(timeoutMs: number, everyMs = 25): Promise<{ statuses: ServerStatus[]; at: number }> {
    const deadline = Date.now() + timeoutMs;
    let why = '';
    for (;;) {
      const statuses = await this.statuses();
      const at = nowMs();
      why = unsettled(statuses) ?? '';
      if (!why) return { statuses: statuses as ServerStatus[], at };
      if (Date.now() > deadline) {
        const tails = this.servers.map((s, i) => `server ${i + 1}: ${s.logTail(5)}`).join('\n');
        throw new Error(`cluster of ${this.servers.length} not settled after ${timeoutMs} ms: ${why}\n${tails}`);
      }
      await sleep(everyMs);
    }
  }

  /** SIGTERM to all at once (graceful: each drains and releases its shards); throws unless all exit 0. */
  async stop(): Promise<void> {
    const codes = await Promise.all(this.servers.map((server) => server.stop()));
    const bad = codes.map((code, i) => ({ code, i })).filter(({ code }) => code !== 0);
    if (bad.length) throw new Error(`servers exited with ${bad.map(({ code, i }) => `${code} (server ${i + 1})`).join(', ')}`);
  }
}

/**
 * Why the cluster is not settled yet, or null when it is: every server answers and is ready,
 * sees every other one alive, owns exactly the shards rendezvous hashing gives it over the live
 * servers (so no shard is owned twice or by nobody), and loads or releases none.
 */
export function unsettled(statuses: (ServerStatus | null)[]): string | null {
  const missing = statuses.findIndex((s) => s === null);
  if (missing >= 0) return `server ${missing + 1} does not answer /status`;
  const all = statuses as ServerStatus[];
  const ids = all.map((s) => s.instance_id);
  for (const [i, s] of all.entries()) {
    if (s.state !== 'ready') return `server ${i + 1} is ${s.state}`;
    if (s.shards.loading.length || s.shards.releasing.length)
      return `server ${i + 1} loads ${s.shards.loading.length} and releases ${s.shards.releasing.length} shards`;
    const seen = new Set(s.instances.map((instance) => instance.id));
    if (ids.some((id) => !seen.has(id)) || seen.size !== ids.length) return `server ${i + 1} sees ${seen.size} of ${ids.length} servers`;
  }
  const wanted = rendezvous(ids, all[0].shards.total);
  for (const [i, s] of all.entries()) {
    const mine = wanted.filter((owner) => owner === s.instance_id).length;
    if (s.shards.owned.length !== mine || s.shards.owned.some((shard) => wanted[shard] !== s.instance_id))
      return `server ${i + 1} owns ${s.shards.owned.length} shards, rendezvous gives it ${mine}`;
  }
  return null;
}

/** Which server (index) owns a job, by settled statuses. */
export function ownerOf(statuses: ServerStatus[]): (path: string, body: string) => number {
  const map = new ShardMap(statuses[0].shards.total);
  const owner = new Map<number, number>();
  statuses.forEach((s, i) => {
    for (const shard of s.shards.owned) owner.set(shard, i);
  });
  return (path, body) => {
    const index = owner.get(map.of(path, body));
    if (index === undefined) throw new Error(`nobody owns the shard of ${path}/${body}`);
    return index;
  };
}

/**
 * Sends requests 0..total-1 with `concurrency` in flight, each to the server `target(i)` says
 * (its owner: no forwarding in what is measured); every answer by index. A 503 (a server briefly
 * suspended: its lease round was late on the loaded machine) is sent again after 200 ms, as a
 * client does, for up to 30 s; `retried` counts them.
 */
export async function sendAllTo(options: {
  urls: string[];
  concurrency: number;
  total: number;
  next: (i: number) => LoadRequest;
  target: (i: number) => number;
}): Promise<{ answers: Sent[]; retried: number }> {
  const clients = options.urls.map((url) => new LoadClient(url, options.concurrency));
  const answers: Sent[] = new Array(options.total);
  let index = 0;
  let retried = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.total) }, async () => {
      while (index < options.total) {
        const i = index++;
        const deadline = Date.now() + 30_000;
        for (;;) {
          answers[i] = await clients[options.target(i)].send(options.next(i));
          if (answers[i].status !== 503 || Date.now() > deadline) break;
          retried++;
          await sleep(200);
        }
      }
    }),
  );
  for (const client of clients) client.close();
  return { answers, retried };
}
