import type { WriteFence } from '../store/write-fence.js';

/**
 * The right to be the one server that fires a jobs table's jobs and writes it.
 *
 * A lease is held for a limited time and must be renewed before it runs out. While another
 * server holds it, acquire() says no; once it has run out (its holder died or lost the
 * database), the next acquire() takes it and bumps its token. renew() succeeds only for the
 * holder of the current token, so a server that lost the lease while it could not reach the
 * database finds out on its first renewal, and learns whether anyone else was active meanwhile.
 */
export interface Lease {
  /** Takes the lease if nobody holds it. Throws when the database cannot be reached. */
  acquire(): Promise<boolean>;
  /** Extends the lease; false when another server took it. Throws when the database cannot be reached. */
  renew(): Promise<boolean>;
  /** The claim every write of this holder's term is fenced with (call while holding the lease). */
  fence(): WriteFence;
  /** Gives the lease up at once (graceful stop), so a standby need not wait for it to run out. */
  release(): Promise<void>;
  /** The instance id of the current holder, or null when nobody holds it (for /status). */
  holder(): Promise<string | null>;
  close(): Promise<void>;
}

/** Another server holds what this one needs, and it cannot wait for it (SQLite). */
export class InstanceLockError extends Error {
  override name = 'InstanceLockError';
}
