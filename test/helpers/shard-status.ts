import { crc32 } from 'node:zlib';
import type { DalgaStatus } from '../../src/client/dalga-client.js';
import type { DalgaProcess } from './dalga-process.js';
import { eventually } from './eventually.js';

/** What GET /status says about a server's place in the cluster. */
export interface ShardStatus {
  instanceId: string;
  state: string;
  totalJobs: number;
  /** The table's shard count. */
  total: number;
  /** Held: loaded, loading or being handed over. */
  owned: number[];
  loading: number[];
  releasing: number[];
  /** The live servers by this server's last round, with the shards each held then. */
  instances: DalgaStatus['instances'];
}

export async function shardStatus(dalga: DalgaProcess): Promise<ShardStatus> {
  const { json } = await dalga.request('GET', '/status');
  return {
    instanceId: json.instance_id,
    state: json.state,
    totalJobs: json.total_jobs,
    total: json.shards.total,
    owned: json.shards.owned,
    loading: json.shards.loading,
    releasing: json.shards.releasing,
    instances: json.instances,
  };
}

/** The shard of a job as the README defines it: CRC-32 of path, NUL, body, modulo the shard count. */
export function shardOf(path: string, body: string, shards: number): number {
  return crc32(Buffer.from(`${path}\0${body}`, 'utf8')) % shards;
}

/** Whether the server is ready and holds every shard loaded, with none on its way out. */
function ownsAll(status: ShardStatus | null): boolean {
  return (
    status !== null &&
    status.state === 'ready' &&
    status.owned.length === status.total &&
    status.loading.length === 0 &&
    status.releasing.length === 0
  );
}

/** Polls /status every 20 ms until `dalga` holds and has loaded every shard; resolves with ms since `since`. */
export async function ownsAllAfter(dalga: DalgaProcess, since: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await shardStatus(dalga).catch(() => null);
    if (ownsAll(status)) return Date.now() - since;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${status?.instanceId} to own every shard; last ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits until the servers split the shards between them and have settled: each ready and holding
 * some, none loading or handing over, no shard held twice or by nobody, and each seeing all of
 * them live. Resolves with their statuses, in the order given.
 */
export async function balanced(servers: DalgaProcess[], timeoutMs = 20_000): Promise<ShardStatus[]> {
  return eventually(
    () => Promise.all(servers.map((dalga) => shardStatus(dalga).catch(() => null))),
    (statuses) => {
      if (statuses.some((status) => status === null)) return false;
      const all = statuses as ShardStatus[];
      const ids = all.map((status) => status.instanceId).sort();
      const held = all.flatMap((status) => status.owned);
      return (
        all.every(
          (status) =>
            status.state === 'ready' &&
            status.owned.length > 0 &&
            status.loading.length === 0 &&
            status.releasing.length === 0 &&
            status.instances
              .map((instance) => instance.id)
              .sort()
              .join() === ids.join(),
        ) &&
        held.length === all[0].total &&
        new Set(held).size === held.length
      );
    },
    `${servers.length} servers to split the shards`,
    timeoutMs,
  ) as Promise<ShardStatus[]>;
}
