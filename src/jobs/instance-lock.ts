import { createHash } from 'node:crypto';
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import type { QueryRunner } from 'typeorm';
import type { JobStore } from './job-store.js';

/**
 * One active server per jobs table: two servers firing from one table would fire every job twice.
 *
 * MySQL: a named lock (GET_LOCK) held by a dedicated connection for the server's lifetime; the
 * database releases it when that connection ends, including when the process is killed.
 * SQLite: a lock file beside the database holding the owner's pid; a file left by a dead process
 * is taken over.
 */
export class InstanceLockError extends Error {
  override name = 'InstanceLockError';
}

export interface InstanceLock {
  release(): Promise<void>;
}

export async function acquireInstanceLock(store: JobStore): Promise<InstanceLock> {
  return store.settings.kind === 'mysql' ? acquireMysqlLock(store) : acquireFileLock(`${store.settings.file}.lock`);
}

function mysqlLockName(db: string, table: string): string {
  const name = `dalga:${db}.${table}`;
  // MySQL limits lock names to 64 characters.
  return name.length <= 64 ? name : `dalga:${createHash('sha256').update(name).digest('hex').slice(0, 56)}`;
}

async function acquireMysqlLock(store: JobStore): Promise<InstanceLock> {
  if (store.settings.kind !== 'mysql') throw new Error('not a MySQL store');
  const name = mysqlLockName(store.settings.db, store.settings.table);
  const runner: QueryRunner = store.dataSource.createQueryRunner('master');
  const [row] = (await runner.query('SELECT GET_LOCK(?, 0) AS acquired, IS_USED_LOCK(?) AS holder', [name, name])) as {
    acquired: number | null;
    holder: number | null;
  }[];
  const holder = row.holder;
  const mine = (await runner.query('SELECT CONNECTION_ID() AS id')) as { id: number }[];
  if (Number(row.acquired) !== 1 || Number(holder) !== Number(mine[0].id)) {
    await runner.release();
    throw new InstanceLockError(
      `another Dalga server is already active on table ${store.settings.db}.${store.settings.table} ` +
        `(MySQL lock "${name}" held by connection ${holder}); refusing to start a second one`,
    );
  }
  return {
    async release() {
      try {
        await runner.query('SELECT RELEASE_LOCK(?)', [name]);
      } finally {
        await runner.release();
      }
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireFileLock(path: string): InstanceLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return {
        async release() {
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new InstanceLockError(
          `another Dalga server (pid ${owner}) is already using this database; refusing to start a second one (lock file ${path})`,
        );
      }
      unlinkSync(path); // left behind by a process that is gone
    }
  }
  throw new InstanceLockError(`could not take the lock file ${path}`);
}
