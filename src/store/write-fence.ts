/**
 * A writer's claim to the jobs table, checked where the data lives: every statement that changes
 * the table commits only while the claim is still current, inside the same transaction (as
 * Temporal fences a shard with `lockShard` in every transaction). A server that lost its lease,
 * however long it was paused, cannot change a row.
 *
 * - lease: the MySQL lease row (`<table>_lease`) must still name this owner with this token. The
 *   store's write transaction first bumps the row's `writes` counter under that condition, and
 *   writes nothing unless exactly that row matched. Updating the row (rather than only reading it
 *   under a lock) puts it into the transaction's write set, so a takeover committed in between,
 *   on this database or on another node of a Galera cluster, conflicts with the write instead of
 *   passing beside it.
 * - process-lock: SQLite, one process per file; the kernel lock this process holds on the file
 *   (SqliteProcessLock) is the claim, so there is nothing to check per statement.
 */
export type WriteFence = { kind: 'lease'; leaseTable: string; owner: string; token: number } | { kind: 'process-lock' };

export const PROCESS_LOCK_FENCE: WriteFence = { kind: 'process-lock' };

/** The MySQL statements around a fenced write: `before` claims, the write runs only `WHERE ${condition}`. */
export function leaseClaim(fence: Extract<WriteFence, { kind: 'lease' }>): { before: string; parameters: unknown[]; condition: string } {
  return {
    before: `UPDATE \`${fence.leaseTable}\` SET writes = writes + 1 WHERE id = 1 AND owner = ? AND token = ?;\n` + 'SET @dalga_fence = ROW_COUNT()',
    parameters: [fence.owner, fence.token],
    condition: '@dalga_fence = 1',
  };
}
