import { createHash } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { MysqlSettings } from '../config/config.js';
import { StoreUnavailableError, type JobStore } from '../jobs/job-store.js';
import type { WriteFence } from '../jobs/write-fence.js';
import type { Lease } from './lease.js';

export interface MysqlLeaseOptions {
  /** Written into the lease row as its holder (shown by /status). */
  instanceId: string;
  /** How long the lease lasts after a renewal, in the database's clock. */
  leaseMs: number;
  /** A lease statement (or connecting) taking longer counts as the database unreachable. Default 1,000 ms. */
  statementTimeoutMs?: number;
}

/** The lease table of a jobs table: `<table>_lease`, or a hashed name where that exceeds MySQL's 64 characters. */
export function leaseTableName(table: string): string {
  const name = `${table}_lease`;
  return name.length <= 64 ? name : `dalga_lease_${createHash('sha256').update(table).digest('hex').slice(0, 40)}`;
}

/**
 * One row, id 1. owner '' = nobody; token counts takeovers, so a holder can tell it was replaced;
 * writes counts the fenced write transactions (each bumps it, see WriteFence).
 */
export function leaseTableSql(table: string): string[] {
  const lease = leaseTableName(table);
  return [
    `CREATE TABLE IF NOT EXISTS \`${lease}\` (
      id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
      owner VARCHAR(255) NOT NULL,
      token BIGINT UNSIGNED NOT NULL,
      expires_at DATETIME(3) NOT NULL,
      writes BIGINT UNSIGNED NOT NULL DEFAULT 0
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `INSERT IGNORE INTO \`${lease}\` (id, owner, token, expires_at) VALUES (1, '', 0, '1970-01-01 00:00:01')`,
  ];
}

/** Creates the lease table of a MySQL jobs table if it is missing, or adds what an older one lacks (safe to run twice). */
export async function createLeaseTable(store: JobStore): Promise<void> {
  if (store.settings.kind !== 'mysql') return;
  const lease = leaseTableName(store.settings.table);
  try {
    for (const sql of leaseTableSql(store.settings.table)) await store.dataSource.query(sql);
    const columns = (await store.dataSource.query(
      'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
      [lease],
    )) as { name: string }[];
    if (!columns.some((column) => column.name === 'writes')) {
      await store.dataSource.query(`ALTER TABLE \`${lease}\` ADD COLUMN writes BIGINT UNSIGNED NOT NULL DEFAULT 0`);
    }
  } catch (error) {
    throw new StoreUnavailableError(`creating the lease table failed: ${(error as Error).message}`);
  }
}

/**
 * The MySQL lease: a row in `<table>_lease`, times in the database's own clock (UTC_TIMESTAMP),
 * so that servers on different machines never compare their clocks. It has its own connection,
 * which is dropped and reopened when a statement fails or hangs: the lease must keep moving when
 * the pool is busy, and a hung statement must not hold up the next renewal.
 */
export class MysqlLease implements Lease {
  private connection: mysql.Connection | null = null;
  private token: number | null = null;
  private readonly table: string;
  private readonly statementTimeoutMs: number;

  constructor(
    private readonly settings: MysqlSettings,
    private readonly options: MysqlLeaseOptions,
  ) {
    this.table = `\`${leaseTableName(settings.table)}\``;
    this.statementTimeoutMs = options.statementTimeoutMs ?? 1_000;
  }

  async acquire(): Promise<boolean> {
    const taken = await this.execute(
      `UPDATE ${this.table} SET owner = ?, token = token + 1, expires_at = ${this.expiry}
       WHERE id = 1 AND (owner = '' OR expires_at < UTC_TIMESTAMP(3))`,
      [this.options.instanceId],
    );
    if (taken === 0) return false;
    const [row] = await this.select<{ token: number | string }>(`SELECT token FROM ${this.table} WHERE id = 1 AND owner = ?`, [
      this.options.instanceId,
    ]);
    if (!row) return false;
    this.token = Number(row.token);
    return true;
  }

  async renew(): Promise<boolean> {
    if (this.token === null) return false;
    // No expiry condition: a holder whose lease ran out while nobody else took it keeps it.
    const renewed = await this.execute(`UPDATE ${this.table} SET expires_at = ${this.expiry} WHERE id = 1 AND owner = ? AND token = ?`, [
      this.options.instanceId,
      this.token,
    ]);
    if (renewed === 0) this.token = null;
    return renewed > 0;
  }

  fence(): WriteFence {
    if (this.token === null) throw new Error('fence(): this server does not hold the lease');
    return { kind: 'lease', leaseTable: leaseTableName(this.settings.table), owner: this.options.instanceId, token: this.token };
  }

  async release(): Promise<void> {
    if (this.token === null) return;
    const token = this.token;
    this.token = null;
    await this.execute(`UPDATE ${this.table} SET owner = '', expires_at = '1970-01-01 00:00:01' WHERE id = 1 AND owner = ? AND token = ?`, [
      this.options.instanceId,
      token,
    ]);
  }

  async holder(): Promise<string | null> {
    const [row] = await this.select<{ owner: string }>(
      `SELECT owner FROM ${this.table} WHERE id = 1 AND owner <> '' AND expires_at >= UTC_TIMESTAMP(3)`,
    );
    return row?.owner ?? null;
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    await connection?.end().catch(() => connection.destroy());
  }

  private get expiry(): string {
    return `UTC_TIMESTAMP(3) + INTERVAL ${Math.round(this.options.leaseMs * 1000)} MICROSECOND`;
  }

  private async execute(sql: string, parameters: unknown[]): Promise<number> {
    const result = await this.query(sql, parameters);
    return (result as mysql.ResultSetHeader).affectedRows;
  }

  private async select<T>(sql: string, parameters: unknown[] = []): Promise<T[]> {
    return (await this.query(sql, parameters)) as T[];
  }

  private async query(sql: string, parameters: unknown[]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`lease statement did not finish within ${this.statementTimeoutMs} ms`)),
        this.statementTimeoutMs,
      );
    });
    try {
      const connection = await Promise.race([this.connect(), timeout]);
      const [result] = await Promise.race([connection.query(sql, parameters), timeout]);
      return result;
    } catch (error) {
      // Whatever state the connection is in, the next statement starts on a fresh one.
      this.connection?.destroy();
      this.connection = null;
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(`lease: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(): Promise<mysql.Connection> {
    if (this.connection) return this.connection;
    const connection = await mysql.createConnection({
      host: this.settings.host,
      port: this.settings.port,
      user: this.settings.user,
      password: this.settings.password,
      database: this.settings.db,
      connectTimeout: this.statementTimeoutMs,
    });
    connection.on('error', () => {
      if (this.connection === connection) this.connection = null;
    });
    this.connection = connection;
    return connection;
  }
}
