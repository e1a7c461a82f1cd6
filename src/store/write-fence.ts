/**
 * A writer's claim to the rows it writes, checked where the data lives: every statement that
 * changes the jobs table commits only while the claim is still current, inside the same
 * transaction (as Temporal fences a shard with `lockShard` in every transaction). A server that
 * lost a shard, however long it was paused, cannot change a row of it.
 *
 * - shards: every shard the write touches must still be this owner's at this epoch in
 *   `<table>_shards`. The store's write transaction first bumps those rows' `writes` counter under
 *   that condition, and writes nothing unless every one of them matched. Updating the rows (rather
 *   than only reading them under a lock) puts them into the transaction's write set, so a takeover
 *   committed in between, on this database or on another node of a Galera cluster, conflicts with
 *   the write instead of passing beside it.
 * - process-lock: SQLite, one process per file; the kernel lock this process holds on the file
 *   (SqliteProcessLock) is the claim, so there is nothing to check per statement.
 */
export type WriteFence = { kind: 'shards'; shardTable: string; owner: string; claims: readonly ShardClaim[] } | { kind: 'process-lock' };

/** A shard held by the writer, at the epoch it took it with. */
export interface ShardClaim {
  shard: number;
  epoch: number;
}

export const PROCESS_LOCK_FENCE: WriteFence = { kind: 'process-lock' };

/** The MySQL statements around a fenced write: `before` claims, the write runs only `WHERE ${condition}`. */
export function shardClaim(fence: Extract<WriteFence, { kind: 'shards' }>): {
  before: string;
  parameters: unknown[];
  condition: string;
  rows: number;
} {
  // In shard order: the rows are locked in the primary key's order anyway, and two writers never wait on each other crosswise.
  const claims = [...fence.claims].sort((a, b) => a.shard - b.shard);
  const match = claims.map(() => '(shard = ? AND epoch = ?)').join(' OR ');
  return {
    before:
      `UPDATE \`${fence.shardTable}\` SET writes = writes + 1 WHERE owner = ? AND (${match});\n` +
      `SET @dalga_fence = (ROW_COUNT() = ${claims.length})`,
    parameters: [fence.owner, ...claims.flatMap((claim) => [claim.shard, claim.epoch])],
    // @@in_transaction: on Galera a certification abort in the middle of a multi-statement query can
    // leave the rest of it running outside the (rolled back) transaction; then nothing may be written.
    condition: '@dalga_fence = 1 AND @@in_transaction = 1',
    rows: claims.length,
  };
}
