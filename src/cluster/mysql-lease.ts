import mysql from 'mysql2/promise';
import type { MysqlSettings } from '../config/config.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import { leaseTableName } from '../store/table-names.js';
import type { WriteFence } from '../store/write-fence.js';
import type { Lease } from './lease.js';

export interface MysqlLeaseOptions {
  /** Written into the lease row as its holder (shown by /status). */
  instanceId: string;
  /** How long the lease lasts after a renewal, in the database's clock. */
  leaseMs: number;
  /** A lease statement (or connecting) taking longer counts as the database unreachable. Default 1,000 ms. */
  statementTimeoutMs?: number;
}

/**
 * The MySQL lease: a row in `<table>_lease` (created by the store's migrations, see
 * store/migrations/lease-table.ts), times in the database's own clock (UTC_TIMESTAMP),
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
