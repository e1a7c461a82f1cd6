import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { buildConfig, type DatabaseSettings } from '../../src/config/config.js';

/**
 * The databases end-to-end tests run against: the embedded SQLite default and the real MariaDB
 * on 127.0.0.1:3306 (root, empty password, database `test`), each test with a table of its own.
 *
 * When MariaDB cannot be reached, CI (CI=true) fails; elsewhere the MySQL cases are skipped with
 * a note saying so.
 */
export const MYSQL = {
  host: process.env.TEST_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_MYSQL_PORT ?? 3306),
  user: 'root',
  password: '',
  database: 'test',
};

export type DatabaseKind = 'sqlite' | 'mysql';

/** A fresh database section for a config file, and how to clean it up. */
export interface TestDatabase {
  kind: DatabaseKind;
  /** INI text of the database section. */
  ini: string;
  table: string;
  /** For SQLite: the directory holding the file. */
  dir: string;
  drop(): Promise<void>;
}

let mysqlReachable: Promise<string | null> | undefined;

/** null when MariaDB answers; else why not. */
export function mysqlProblem(): Promise<string | null> {
  mysqlReachable ??= (async () => {
    try {
      const connection = await mysql.createConnection({ ...MYSQL, connectTimeout: 3_000 });
      await connection.query('SELECT 1');
      await connection.end();
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  })();
  return mysqlReachable;
}

/** `{ skip }` option for node:test: skip MySQL cases on a machine without MariaDB, but never in CI. */
export async function skipUnlessMysql(kind: DatabaseKind): Promise<string | false> {
  if (kind !== 'mysql') return false;
  const problem = await mysqlProblem();
  if (problem === null) return false;
  if (process.env.CI) throw new Error(`MariaDB on ${MYSQL.host}:${MYSQL.port} is unreachable in CI: ${problem}`);
  const note = `MariaDB unreachable (${problem}): MySQL tests skipped`;
  process.stderr.write(`NOTE: ${note}\n`);
  return note;
}

export async function mysqlQuery(sql: string, params: unknown[] = []): Promise<unknown> {
  const connection = await mysql.createConnection(MYSQL);
  try {
    const [rows] = await connection.query(sql, params);
    return rows;
  } finally {
    await connection.end();
  }
}

export function createTestDatabase(kind: DatabaseKind): TestDatabase {
  const table = `t_${randomBytes(5).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'dalga-test-'));
  if (kind === 'sqlite') {
    return {
      kind,
      table,
      dir,
      ini: `[sqlite]\nfile = ${join(dir, 'dalga.sqlite')}\ntable = ${table}\n`,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  return {
    kind,
    table,
    dir,
    ini: `[mysql]\nhost = ${MYSQL.host}\nport = ${MYSQL.port}\ndb = ${MYSQL.database}\ntable = ${table}\nuser = ${MYSQL.user}\npassword =\n`,
    async drop() {
      await mysqlQuery(
        `DROP TABLE IF EXISTS \`${table}\`, \`${table}_lease\`, \`${table}_migrations\`, \`${table}_runs\`, \`${table}_shards\`, \`${table}_instances\``,
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The server's own settings for a test database (for tests that open a JobStore directly). */
export function databaseSettings(db: TestDatabase): DatabaseSettings {
  return buildConfig(
    db.kind === 'mysql'
      ? { mysql: { host: MYSQL.host, port: String(MYSQL.port), db: MYSQL.database, table: db.table, user: MYSQL.user, password: MYSQL.password } }
      : { sqlite: { file: join(db.dir, 'dalga.sqlite'), table: db.table } },
  ).database;
}
