/** TypeORM DataSource options for a database setting (also used by ormconfig.ts for the TypeORM CLI). */
import 'reflect-metadata';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseSettings } from '../config/config.js';
import { jobEntity } from './job.entity.js';
import { runEntity } from './run.entity.js';
import { jobMigrations } from './migrations/index.js';
import { migrationsTableName } from './table-names.js';
import { mysqlStreamOption } from './mysql-hosts.js';

/** `shards`: the shard count a table created by these options' migrations gets. */
export function dataSourceOptions(settings: DatabaseSettings, shards: number): DataSourceOptions {
  const schema = {
    entities: [jobEntity(settings.table), runEntity(settings.table)],
    migrations: jobMigrations(settings.table, shards),
    migrationsTableName: migrationsTableName(settings.table),
    // Schema changes only by `dalga -create-table` (schema.ts), never as a side effect of connecting.
    synchronize: false,
    migrationsRun: false,
    logging: false,
  };
  if (settings.kind === 'sqlite') {
    // WAL: a commit appends to the log (still fsynced) instead of rewriting pages through a
    // rollback journal, so a PUT holds the (synchronous) event loop for less time.
    return { type: 'better-sqlite3', database: settings.file, enableWAL: true, ...schema };
  }
  return {
    type: 'mysql',
    host: settings.host,
    port: settings.port,
    username: settings.user,
    password: settings.password,
    database: settings.db,
    charset: 'utf8mb4',
    timezone: 'Z',
    connectTimeout: 5_000,
    // A fenced write is one transaction sent as one query (mysql-dialect.ts); every value is still
    // bound as a parameter, never spliced in.
    multipleStatements: true,
    poolSize: 64,
    // TypeORM hands `extra` to mysql2's createPool: with several [mysql] hosts, the failover socket.
    extra: { enableKeepAlive: true, keepAliveInitialDelay: 10_000, ...mysqlStreamOption(settings) },
    ...schema,
  };
}
