import { closeSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PROCESS_LOCK_FENCE, type ShardClaim, type WriteFence } from '../store/write-fence.js';
import type { LeaseRound, ShardLeases } from './shard-leases.js';

/** Another server holds the database file, and it cannot wait for it. */
export class InstanceLockError extends Error {
  override name = 'InstanceLockError';
}

/**
 * SQLite's shard leases: one process per database file holds every shard, enforced by the
 * kernel. SQLite is one machine's file, so there is no cluster: a second process refuses to start.
 *
 * The lock is an exclusive SQLite lock (fcntl, held by the kernel for this process) on a small
 * database beside the jobs file, opened in `locking_mode = EXCLUSIVE`, so that it is held from the
 * first write until the process ends. The kernel sees every process on the file, whatever its PID
 * namespace (two containers sharing a volume), and drops the lock when the process dies, so a
 * crash leaves nothing stale behind. It is a file beside the jobs database rather than the jobs
 * database itself, so that other readers (the sqlite3 shell, a backup) can still open that.
 * The holder writes its pid into the lock database's header (user_version), where a refused
 * process can read it without SQLite, for its message.
 */
export class SqliteProcessLock implements ShardLeases {
  private database: Database.Database | null = null;

  constructor(
    /** The lock file: `<jobs file>.server-lock`. */
    private readonly path: string,
    private readonly instanceId: string,
    /** The table's shard count: this process holds every shard, for good. */
    private readonly shards: number,
  ) {}

  /** Takes the lock on the first round (refused at once when another process holds it), then holds every shard. */
  async round(): Promise<LeaseRound> {
    this.acquire();
    return {
      shards: Array.from({ length: this.shards }, () => ({ owner: this.instanceId, epoch: 1, expired: false })),
      instances: [{ id: this.instanceId, address: '' }],
    };
  }

  async take(): Promise<ShardClaim[]> {
    return [];
  }

  fence(): WriteFence {
    return PROCESS_LOCK_FENCE;
  }

  /** The lock goes only with the process (close): a handoff needs another process, which SQLite has not. */
  async release(): Promise<void> {}

  async leave(): Promise<void> {}

  async close(): Promise<void> {
    const database = this.database;
    this.database = null;
    database?.close();
  }

  private acquire(): void {
    if (this.database) return;
    const database = new Database(this.path, { timeout: 0 }); // a held lock fails at once, never waits
    try {
      database.pragma('locking_mode = EXCLUSIVE');
      database.exec(`BEGIN EXCLUSIVE; PRAGMA user_version = ${process.pid}; COMMIT`);
    } catch (error) {
      database.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
        throw new InstanceLockError(
          `another Dalga server (pid ${holderPid(this.path) ?? 'unknown'}) is already using this database; refusing to start a second one (it holds the lock on ${this.path})`,
        );
      }
      throw error;
    }
    this.database = database;
  }
}

/** user_version: 4 bytes, big-endian, at offset 60 of an SQLite database file. */
function holderPid(path: string): number | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const header = Buffer.alloc(4);
      return readSync(fd, header, 0, 4, 60) === 4 ? header.readUInt32BE(0) || null : null;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}
