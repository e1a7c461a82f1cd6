/**
 * Where the benchmarks' MariaDB is, and nothing else: the baseline workers import this (not
 * mysql.ts, which loads the server's TypeORM store), so a bare process stays bare.
 */

/** The MariaDB every scenario uses (the same one the tests use); BENCH_MYSQL_* override it (not DALGA_*: the server reads those as its config). */
export const MYSQL = {
  host: process.env.BENCH_MYSQL_HOST ?? '127.0.0.1',
  port: Number(process.env.BENCH_MYSQL_PORT ?? 3306),
  user: process.env.BENCH_MYSQL_USER ?? 'root',
  password: process.env.BENCH_MYSQL_PASSWORD ?? '',
  database: process.env.BENCH_MYSQL_DB ?? 'test',
};

/** Connection options as the server's TypeORM data source sets them (utf8mb4, times in UTC). */
export const CONNECTION = { ...MYSQL, charset: 'utf8mb4', timezone: 'Z' } as const;

/** The `[mysql]` section of a server config for a table. */
export function mysqlIni(table: string): string {
  return `[mysql]\nhost = ${MYSQL.host}\nport = ${MYSQL.port}\ndb = ${MYSQL.database}\ntable = ${table}\nuser = ${MYSQL.user}\npassword = ${MYSQL.password}\n`;
}
