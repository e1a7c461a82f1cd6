import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { InstanceLockError, type Lease } from './lease.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SQLite's lease: a lock file beside the database holding the owner's pid. SQLite is one
 * machine's file, so there is no standby: a second process on the same file refuses to start
 * (acquire throws InstanceLockError); a file left by a dead process is taken over.
 */
export class FileLock implements Lease {
  private held = false;

  constructor(
    private readonly path: string,
    private readonly instanceId: string,
  ) {}

  async acquire(): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        this.held = true;
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number(readFileSync(this.path, 'utf8').trim());
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
          throw new InstanceLockError(
            `another Dalga server (pid ${owner}) is already using this database; refusing to start a second one (lock file ${this.path})`,
          );
        }
        unlinkSync(this.path); // left behind by a process that is gone
      }
    }
    throw new InstanceLockError(`could not take the lock file ${this.path}`);
  }

  async renew(): Promise<boolean> {
    return this.held;
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  async holder(): Promise<string | null> {
    return this.held ? this.instanceId : null;
  }

  async close(): Promise<void> {}
}
