import mysql from 'mysql2/promise';
import type { MysqlSettings } from '../config/config.js';
import { mysqlConnectionOptions } from '../store/mysql-hosts.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import { instancesTableName, shardsTableName } from '../store/table-names.js';
import type { ShardClaim, WriteFence } from '../store/write-fence.js';
import type { LeaseRound, ShardLeases } from './shard-leases.js';

export interface MysqlShardLeasesOptions {
  /** Written into the shard rows as their owner, and into the heartbeat. */
  instanceId: string;
  /** host:port the others forward this instance's requests to. */
  address: string;
  /** How long a lease lasts after a renewal, and a heartbeat counts, in the database's clock. */
  leaseMs: number;
  /** A statement (or connecting) taking longer counts as the database unreachable. Default 1,000 ms. */
  statementTimeoutMs?: number;
}

/** Heartbeats older than this are deleted (a server that never came back). */
const FORGET_INSTANCES_AFTER = '1 DAY';
/** Every this many rounds, forgotten heartbeats are deleted (rarely: on Galera every write may conflict). */
const FORGET_EVERY_ROUNDS = 600;

/**
 * The MySQL shard leases: rows of `<table>_shards` and `<table>_instances` (created by the store's
 * migrations, see store/migrations/cluster-tables.ts), times in the database's own clock
 * (UTC_TIMESTAMP). It has its own connection, dropped and reopened when a statement fails or hangs:
 * the leases must keep moving when the pool is busy, and a hung statement must not hold up the
 * next round.
 */
export class MysqlShardLeases implements ShardLeases {
  private connection: mysql.Connection | null = null;
  private readonly shards: string;
  private readonly instances: string;
  private readonly statementTimeoutMs: number;
  private rounds = 0;
  /** Left the cluster: rounds renew what is held but no longer heartbeat (that would undo the leave). */
  private left = false;

  constructor(
    private readonly settings: MysqlSettings,
    private readonly options: MysqlShardLeasesOptions,
  ) {
    this.shards = `\`${shardsTableName(settings.table)}\``;
    this.instances = `\`${instancesTableName(settings.table)}\``;
    this.statementTimeoutMs = options.statementTimeoutMs ?? 1_000;
  }

  async round(): Promise<LeaseRound> {
    const { instanceId, address, leaseMs } = this.options;
    const forget = this.rounds++ % FORGET_EVERY_ROUNDS === 0;
    const heartbeat = this.left
      ? []
      : [
          `INSERT INTO ${this.instances} (id, address, last_seen) VALUES (?, ?, UTC_TIMESTAMP(3))
           ON DUPLICATE KEY UPDATE address = VALUES(address), last_seen = VALUES(last_seen)`,
        ];
    const results = (await this.query(
      [
        ...heartbeat,
        // No expiry condition: a holder whose lease ran out while nobody else took it keeps it.
        `UPDATE ${this.shards} SET expires_at = ${this.expiry} WHERE owner = ?`,
        `SELECT shard, owner, epoch, expires_at < UTC_TIMESTAMP(3) AS expired FROM ${this.shards} ORDER BY shard`,
        `SELECT id, address FROM ${this.instances} WHERE last_seen >= UTC_TIMESTAMP(3) - INTERVAL ${micros(leaseMs)} MICROSECOND ORDER BY id`,
        ...(forget ? [`DELETE FROM ${this.instances} WHERE last_seen < UTC_TIMESTAMP(3) - INTERVAL ${FORGET_INSTANCES_AFTER}`] : []),
      ].join(';\n'),
      [...(this.left ? [] : [instanceId, address]), instanceId],
    )) as unknown[];
    const [rows, live] = results.slice(heartbeat.length + 1) as [
      { shard: number; owner: string; epoch: number | string; expired: number | string }[],
      { id: string; address: string }[],
    ];
    return {
      shards: rows.map((row) => ({ owner: row.owner, epoch: Number(row.epoch), expired: Number(row.expired) === 1 })),
      instances: live.map((row) => ({ id: row.id, address: row.address })),
    };
  }

  async take(shards: readonly number[]): Promise<ShardClaim[]> {
    if (shards.length === 0) return [];
    const list = shards.map(() => '?').join(', ');
    const results = (await this.query(
      `UPDATE ${this.shards} SET owner = ?, epoch = epoch + 1, expires_at = ${this.expiry}
       WHERE shard IN (${list}) AND (owner = '' OR expires_at < UTC_TIMESTAMP(3));
       SELECT shard, epoch FROM ${this.shards} WHERE owner = ? AND shard IN (${list})`,
      [this.options.instanceId, ...shards, this.options.instanceId, ...shards],
    )) as unknown[];
    const rows = results[1] as { shard: number; epoch: number | string }[];
    return rows.map((row) => ({ shard: row.shard, epoch: Number(row.epoch) }));
  }

  async release(claims: readonly ShardClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.query(
      `UPDATE ${this.shards} SET owner = '', expires_at = '1970-01-01 00:00:01'
       WHERE owner = ? AND (${claims.map(() => '(shard = ? AND epoch = ?)').join(' OR ')})`,
      [this.options.instanceId, ...claims.flatMap((claim) => [claim.shard, claim.epoch])],
    );
  }

  async leave(): Promise<void> {
    // Set before the DELETE is sent: a round sent earlier runs before it on this connection, one sent later does not heartbeat.
    this.left = true;
    await this.query(`DELETE FROM ${this.instances} WHERE id = ?`, [this.options.instanceId]);
  }

  fence(claims: readonly ShardClaim[]): WriteFence {
    return { kind: 'shards', shardTable: shardsTableName(this.settings.table), owner: this.options.instanceId, claims };
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    await connection?.end().catch(() => connection.destroy());
  }

  private get expiry(): string {
    return `UTC_TIMESTAMP(3) + INTERVAL ${micros(this.options.leaseMs)} MICROSECOND`;
  }

  private async query(sql: string, parameters: unknown[]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnavailableError(`shard lease statement did not finish within ${this.statementTimeoutMs} ms`)),
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
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError(`shard leases: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async connect(): Promise<mysql.Connection> {
    if (this.connection) return this.connection;
    const connection = await mysql.createConnection({
      // The host list: the first server that answers, the one that answered last first (a Galera cluster's nodes).
      ...mysqlConnectionOptions(this.settings),
      connectTimeout: this.statementTimeoutMs,
      multipleStatements: true,
    });
    connection.on('error', () => {
      if (this.connection === connection) this.connection = null;
    });
    this.connection = connection;
    return connection;
  }
}

function micros(ms: number): number {
  return Math.round(ms * 1000);
}
