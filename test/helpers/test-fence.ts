import { MysqlLease } from '../../src/cluster/mysql-lease.js';
import type { JobStore } from '../../src/store/job-store.js';
import { PROCESS_LOCK_FENCE, type WriteFence } from '../../src/store/write-fence.js';

/**
 * A real claim to a test's jobs table (made by JobStore.upgradeSchema, with its lease table), for tests that write through a JobStore directly: on MySQL
 * the table's lease is taken (for a minute) as a server would take it; on SQLite the process lock
 * is the claim.
 */
export async function takeFence(store: JobStore, instanceId = 'test-writer'): Promise<WriteFence> {
  if (store.settings.kind === 'sqlite') return PROCESS_LOCK_FENCE;
  const lease = new MysqlLease(store.settings, { instanceId, leaseMs: 60_000 });
  try {
    if (!(await lease.acquire())) throw new Error(`the lease of ${store.settings.table} is held by another writer`);
    return lease.fence();
  } finally {
    await lease.close();
  }
}
