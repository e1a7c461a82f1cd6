import { MysqlShardLeases } from '../../src/cluster/mysql-shard-leases.js';
import type { ShardGate } from '../../src/jobs/job-service.js';
import type { JobStore } from '../../src/store/job-store.js';
import { PROCESS_LOCK_FENCE, type ShardClaim, type WriteFence } from '../../src/store/write-fence.js';

/**
 * Real claims to every shard of a test's jobs table (made by JobStore.upgradeSchema), for tests that
 * write through a JobStore or a JobService directly: on MySQL every shard is taken (for a minute)
 * as a server would take them; on SQLite the process lock is the claim.
 */
export async function takeShards(store: JobStore, instanceId = 'test-writer'): Promise<{ gate: ShardGate; fence: WriteFence }> {
  const map = store.shards;
  const all = Array.from({ length: map.count }, (_, shard) => shard);
  if (store.settings.kind === 'sqlite') {
    return { fence: PROCESS_LOCK_FENCE, gate: { map, mayWrite: () => true, fence: () => PROCESS_LOCK_FENCE, onFenced: () => {} } };
  }
  const leases = new MysqlShardLeases(store.settings, { instanceId, address: '127.0.0.1:1', leaseMs: 60_000 });
  let claims: ShardClaim[];
  try {
    claims = await leases.take(all);
    if (claims.length !== all.length) throw new Error(`shards of ${store.settings.table} are held by another writer`);
  } finally {
    await leases.close();
  }
  const epochs = new Map(claims.map((claim) => [claim.shard, claim.epoch]));
  const fence = (shards: readonly number[]): WriteFence => leases.fence(shards.map((shard) => ({ shard, epoch: epochs.get(shard) ?? -1 })));
  return { fence: fence(all), gate: { map, mayWrite: () => true, fence, onFenced: () => {} } };
}

/** The fence of every shard (see takeShards). */
export async function takeFence(store: JobStore, instanceId = 'test-writer'): Promise<WriteFence> {
  return (await takeShards(store, instanceId)).fence;
}

/** Every shard number of the store's table. */
export function allShards(store: JobStore): number[] {
  return Array.from({ length: store.shards.count }, (_, shard) => shard);
}
