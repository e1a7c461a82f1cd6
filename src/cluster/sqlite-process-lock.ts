import { closeSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import { PROCESS_LOCK_FENCE, type WriteFence } from '../store/write-fence.js';
import { InstanceLockError, type Lease } from './lease.js';

/**
 * SQLite's lease: one process per database file, enforced by the kernel. SQLite is one
 * machine's file, so there is no standby: a second process refuses to start.
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
export class SqliteProcessLock implements Lease {
  private database: Database.Database | null = null;

  constructor(
    /** The lock file: `<jobs file>.server-lock`. */
    private readonly path: string,
    private readonly instanceId: string,
  ) {}

  async acquire(): Promise<boolean> {
    if (this.database) return true;
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
    return true;
  }

  async renew(): Promise<boolean> {
    return this.database !== null;
  }

  fence(): WriteFence {
    return PROCESS_LOCK_FENCE;
  }

  async release(): Promise<void> {
    const database = this.database;
    this.database = null;
    database?.close();
  }

  async holder(): Promise<string | null> {
    return this.database ? this.instanceId : null;
  }

  async close(): Promise<void> {
    await this.release();
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
