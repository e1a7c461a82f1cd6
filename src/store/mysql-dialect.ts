import type { DataSource, QueryRunner } from 'typeorm';
import { parameterRows, quoted, type Dialect } from './dialect.js';
import { errorText, FencedError, isServerRefusal, StoreUncertainError, StoreUnavailableError } from './store-errors.js';
import { shardClaim } from './write-fence.js';

/** Tries of one write that keeps hitting deadlocks (or Galera certification conflicts, or not-ready nodes) before it fails. */
const DEADLOCK_ATTEMPTS = 3;
/**
 * Refusals that say nothing about the write itself, so that running it again may succeed: a
 * deadlock or certification conflict, and a Galera node not ready for statements (the host list
 * sends the next connection to another node, see mysql-hosts.ts).
 */
const RETRIED = new Set(['ER_LOCK_DEADLOCK', 'ER_UNKNOWN_COM_ERROR']);

/**
 * The part of mysql2's (callback API) connection the boot load uses. TypeORM's QueryRunner hands
 * the connection out as `any` (connect()); this is all the store relies on.
 */
interface RawMysqlConnection {
  query(options: { sql: string; rowsAsArray: boolean; dateStrings: boolean }): RawMysqlQuery;
}

interface RawMysqlQuery {
  on(event: 'result', listener: (row: unknown[]) => void): RawMysqlQuery;
  on(event: 'error', listener: (error: Error) => void): RawMysqlQuery;
  on(event: 'end', listener: () => void): RawMysqlQuery;
}

/**
 * MySQL (and MariaDB, Galera): `INSERT ... SELECT ... ON DUPLICATE KEY UPDATE`, `UPDATE ... JOIN` a
 * derived table, and every write in one transaction that first claims its shards' rows (WriteFence).
 */
export const mysqlDialect: Dialect = {
  kind: 'mysql',

  upsert(table, columns, rows, condition) {
    // INSERT ... SELECT, so that the fence's condition can hold the rows back.
    const update = columns.replaced.map((c) => `\`${c.name}\` = VALUES(\`${c.name}\`)`).join(', ');
    return (
      `INSERT INTO \`${table}\` (${quoted(columns.inserted)}) SELECT * FROM (${parameterRows(columns.inserted, rows)}) AS v ` +
      `WHERE ${condition} ON DUPLICATE KEY UPDATE ${update}`
    );
  },

  updateFrom(table, columns, rows, condition) {
    const [path, body, ...set] = columns;
    return (
      `UPDATE \`${table}\` AS t JOIN (${parameterRows(columns, rows)}) AS v ` +
      `ON t.\`${path.name}\` = v.\`${path.name}\` AND t.\`${body.name}\` = v.\`${body.name}\` ` +
      `SET ${set.map((c) => `t.\`${c.name}\` = v.\`${c.name}\``).join(', ')} WHERE ${condition}`
    );
  },

  /**
   * One transaction sent as one multi-statement query, so that no transaction stays open between
   * round trips (a server paused in the middle would otherwise hold the shard rows' locks and keep
   * another server from taking them over). The claim statement comes first: it locks the shard
   * rows in shard order, so fenced writes never deadlock one another. A deadlock or a Galera certification conflict rolled the
   * transaction back whole, and a node not ready refused it whole: it is run again, a few times at most.
   *
   * What the caller may assume when it fails: a refusal or error from the database (the
   * transaction is rolled back) or a connection that could not be had changed nothing
   * (StoreUnavailableError); the fence found moved changed nothing (FencedError); anything after
   * the statement may have reached the database (a lost connection, a timeout) may or may not have
   * been applied (StoreUncertainError).
   */
  async write(dataSource, fence, statements) {
    if (fence.kind !== 'shards') throw new Error(`a ${fence.kind} fence does not guard mysql`);
    const claim = shardClaim(fence);
    const writes = statements(claim.condition);
    const parameters = writes.flatMap((write) => write.parameters);
    const transaction = `START TRANSACTION;\n${claim.before};\n${writes.map((write) => write.sql).join(';\n')};\nCOMMIT`;
    for (let attempt = 1; ; attempt++) {
      const runner = dataSource.createQueryRunner();
      try {
        try {
          await runner.connect();
        } catch (error) {
          throw new StoreUnavailableError(`database unreachable: ${errorText(error)}`); // nothing was sent
        }
        let results: unknown;
        try {
          results = (await runner.query(transaction, [...claim.parameters, ...parameters], true)).raw;
        } catch (error) {
          const driverError = (error as { driverError?: unknown }).driverError ?? error;
          if (!isServerRefusal(driverError)) {
            throw new StoreUncertainError(
              `database connection lost during a write, which may or may not have been applied: ${errorText(driverError)}`,
            );
          }
          // The server refused a statement: the transaction is left open on this connection.
          await runner.query('ROLLBACK').catch(() => {});
          const code = (driverError as { code?: unknown }).code;
          if (attempt < DEADLOCK_ATTEMPTS && typeof code === 'string' && RETRIED.has(code)) continue;
          throw new StoreUnavailableError(`database error: ${errorText(driverError)}`);
        }
        // START TRANSACTION, claim, SET, the first write, the others, COMMIT.
        const affected = (index: number) => (results as { affectedRows?: number }[])[index]?.affectedRows ?? 0;
        if (affected(1) !== claim.rows) {
          const shards = fence.claims.map((c) => c.shard).join(', ');
          throw new FencedError(`another Dalga server took over one of shards ${shards}; nothing was written`);
        }
        return affected(3);
      } finally {
        await runner.release();
      }
    }
  },

  /**
   * One plain query on mysql2's own connection, row by row from its 'result' events: no Readable,
   * no async iterator, no per-row promise. Rows come as arrays ordered like the select list, times
   * as text (dateStrings), decoded by JobColumns' loader. The event loop still turns between
   * socket reads (progress, /status, /readyz).
   *
   * Not QueryRunner.stream: it takes a plain SQL string (no rowsAsArray or dateStrings), so rows
   * come as objects with Date times through a Readable. Loading 100,000 rows (bench/measure-store.ts,
   * best of 3, MariaDB on the same 2-core machine): this path 0.45 s, QueryRunner.stream decoded by
   * column name 0.87 s.
   */
  async loadAll(dataSource: DataSource, table, columns, shards, _readPage, onJob) {
    const runner = dataSource.createQueryRunner('slave');
    // Shard numbers are integers the server computed, spelled out (the raw query takes no parameters).
    if (shards && !shards.every(Number.isInteger)) throw new Error('shard numbers must be integers');
    const where = shards === null ? '' : ` WHERE shard IN (${shards.length > 0 ? shards.join(', ') : 'NULL'})`;
    try {
      const connection = (await runner.connect()) as RawMysqlConnection;
      // On Galera, the rows a shard's previous owner committed through another node are applied
      // here before this read (causal read); elsewhere the setting is accepted and changes nothing.
      // (MySQL has no such variable: then there is no Galera either.)
      const causal = await runner.query('SET SESSION wsrep_sync_wait = 1').then(
        () => true,
        () => false,
      );
      const loader = columns.loader();
      const count = await new Promise<number>((resolve, reject) => {
        let count = 0;
        let failure: unknown = null;
        connection
          .query({ sql: `SELECT ${quoted(columns.all)} FROM \`${table}\`${where}`, rowsAsArray: true, dateStrings: true })
          .on('result', (row) => {
            if (failure !== null) return; // drain the rest of the result set, then report
            try {
              onJob(loader.load(row));
              count++;
            } catch (error) {
              failure = error;
            }
          })
          // A lost connection may end the query with 'error' alone: settle at once (later calls are no-ops).
          .on('error', (error) => reject(failure ?? error))
          .on('end', () => (failure === null ? resolve(count) : reject(failure)));
      });
      if (causal) await runner.query('SET SESSION wsrep_sync_wait = DEFAULT');
      return count;
    } finally {
      await runner.release();
    }
  },
};

/**
 * The key collation of a new MySQL table: binary and no-pad where the server has one, so that keys
 * compare like the in-memory Map ("a" and "a " are two jobs).
 */
export async function binaryKeyCollation(runner: QueryRunner): Promise<string> {
  const rows = (await runner.query(
    "SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')",
  )) as { name: string }[];
  const names = rows.map((row) => row.name);
  return names.find((name) => name === 'utf8mb4_0900_bin') ?? names[0] ?? 'utf8mb4_bin';
}
