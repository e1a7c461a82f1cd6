import 'reflect-metadata';
import { DataSource, TableColumn, type Repository } from 'typeorm';
import { TableUtils } from 'typeorm/schema-builder/util/TableUtils.js';
import type { DatabaseSettings } from '../config/config.js';
import { dataSourceOptions } from './data-source-options.js';
import { jobKey } from './job-key.js';
import type { Job } from './job.js';
import type { JobRow } from './job.entity.js';
import { FencedError, StoreUncertainError, StoreUnavailableError } from './store-errors.js';
import { leaseClaim, type WriteFence } from './write-fence.js';

export { FencedError, StoreUncertainError, StoreUnavailableError, TableMissingError } from './store-errors.js';

export interface JobStoreOptions {
  /** A statement taking longer than this fails (a write with StoreUncertainError: it may still land). Default 10 s. */
  queryTimeoutMs?: number;
  /** Rows per page when loading from SQLite (MySQL streams); small enough that timers run between pages. Default 5,000. */
  loadPageSize?: number;
  /** Told about every statement once it has ended (for metrics). */
  onStatement?: (timing: StatementTiming) => void;
}

/** The statements JobStore runs, by name. */
export type StoreOperation =
  | 'table_exists'
  | 'create_table'
  | 'collation'
  | 'ping'
  | 'count'
  | 'page'
  | 'get'
  | 'upsert'
  | 'delete'
  | 'update'
  | 'record_last_run'
  | 'existing';

/** One statement, as reported to JobStoreOptions.onStatement. */
export interface StatementTiming {
  operation: StoreOperation;
  /** Whether it changes rows (what the write latency metrics are about). */
  write: boolean;
  /** Wall time from the call to its end (answer, error or timeout). */
  ms: number;
  ok: boolean;
}

const WRITES: ReadonlySet<StoreOperation> = new Set(['upsert', 'delete', 'update', 'record_last_run']);

export interface JobKeyParts {
  path: string;
  body: string;
}

/** What an outcome overtaken by an API change still records. */
export type LastRunRecord = Pick<Job, 'path' | 'body' | 'lastRun' | 'lastStatus' | 'lastError'>;

/** Tries of one write that keeps hitting deadlocks (or Galera certification conflicts) before it fails. */
const DEADLOCK_ATTEMPTS = 3;

export interface JobPage {
  jobs: Job[];
  /** Key of the last job returned, when there may be more. */
  last: { path: string; body: string } | null;
}

type Dialect = DatabaseSettings['kind'];

/** mysql2 hands back Date objects; SQLite (and the MySQL load, see streamAll) "YYYY-MM-DD HH:MM:SS.SSS" text in UTC. */
function fromDbTime(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return parseUtcDateTime(value);
  if (value instanceof Date) return value.getTime();
  throw new TypeError(`unexpected time value ${String(value)}`);
}

/**
 * "YYYY-MM-DD HH:MM:SS[.f{1,6}]" (UTC) to ms, by hand: with a million rows at boot, Date.parse
 * (or mysql2's Date objects) was a tenth of the load. Any other shape goes to Date.parse.
 */
function parseUtcDateTime(text: string): number {
  const length = text.length;
  if (length < 19 || length === 20 || length > 26) return parseOtherTime(text);
  for (let at = 0; at < length; at++) {
    const c = text.charCodeAt(at);
    const separator = at === 4 || at === 7 ? 45 : at === 10 ? 32 : at === 13 || at === 16 ? 58 : at === 19 ? 46 : 0;
    if (separator !== 0 ? c !== separator : c < 48 || c > 57) return parseOtherTime(text);
  }
  const month = decimal(text, 5, 7);
  const day = decimal(text, 8, 10);
  const hour = decimal(text, 11, 13);
  const minute = decimal(text, 14, 16);
  const second = decimal(text, 17, 19);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return parseOtherTime(text);
  // Fraction: the first three digits are the ms; DATETIME(6) digits beyond them are dropped, as Date does.
  const ms = length > 20 ? Math.floor(decimal(text, 20, length) * 10 ** (3 - (length - 20))) : 0;
  return daysFromCivil(decimal(text, 0, 4), month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

function parseOtherTime(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** The number written by the (checked) digits text[from..to). */
function decimal(text: string, from: number, to: number): number {
  let value = 0;
  for (let at = from; at < to; at++) value = value * 10 + text.charCodeAt(at) - 48;
  return value;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * One shared string per distinct value while loading: interval, cron, location and path repeat
 * across many rows, and a copy per row is ~24-40 bytes for each of a million jobs. Rows come in
 * key order, so the previous value is checked before the map. Capped so a table of all-distinct
 * values costs no more than a bounded map; dropped with the load.
 */
class LoadStrings {
  private static readonly MAX_DISTINCT = 100_000;
  private readonly seen = new Map<string, string>();
  private readonly last: (string | null)[] = [];

  /** The shared copy of text; column tells the last-value cache apart. */
  share(column: number, text: string | null): string | null {
    if (text === null) return null;
    const last = this.last[column];
    if (text === last) return last;
    let shared = this.seen.get(text);
    if (shared === undefined) {
      shared = text;
      if (this.seen.size < LoadStrings.MAX_DISTINCT) this.seen.set(text, text);
    }
    this.last[column] = shared;
    return shared;
  }
}

const PATH = 0;
const INTERVAL = 1;
const CRON = 2;
const LOCATION = 3;
const LAST_ERROR = 4;

/** last_error is VARCHAR(1024); an endpoint's error text can be longer. */
const MAX_ERROR_CHARS = 1024;

function errorColumn(text: string | null): string | null {
  return text === null || text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

/** DATETIME(3) text in UTC, the form both MySQL and SQLite (through TypeORM) store. */
function dbTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** A job's values in JOB_COLUMNS order. */
function columnValues(job: Job): unknown[] {
  return [
    job.path,
    job.body,
    job.interval,
    job.cron,
    job.location,
    job.oneOff ? 1 : 0,
    dbTime(job.nextRun),
    dbTime(job.nextSched),
    dbTime(job.anchor),
    dbTime(job.pausedRun),
    dbTime(job.triggeredAt),
    job.attempts,
    dbTime(job.failingSince),
    dbTime(job.lastRun),
    job.lastStatus,
    errorColumn(job.lastError),
    dbTime(job.createdAt),
    dbTime(job.updatedAt),
  ];
}

/** A raw row (database column names) to a Job. */
function fromRawRow(row: Record<string, unknown>): Job {
  return {
    path: row.path as string,
    body: row.body as string,
    interval: (row.interval as string | null) ?? null,
    cron: (row.cron as string | null) ?? null,
    location: row.location as string,
    oneOff: Boolean(row.one_off),
    nextRun: fromDbTime(row.next_run),
    nextSched: fromDbTime(row.next_sched) as number,
    anchor: fromDbTime(row.anchor) ?? (fromDbTime(row.next_sched) as number),
    pausedRun: fromDbTime(row.paused_run),
    triggeredAt: fromDbTime(row.triggered_at),
    attempts: Number(row.attempts),
    failingSince: fromDbTime(row.failing_since),
    lastRun: fromDbTime(row.last_run),
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    lastError: (row.last_error as string | null) ?? null,
    createdAt: fromDbTime(row.created_at) as number,
    updatedAt: fromDbTime(row.updated_at) as number,
  };
}

/** A freshly read job with its repeated strings swapped for the shared copies (SQLite load). */
function shareStrings(job: Job, strings: LoadStrings): Job {
  job.path = strings.share(PATH, job.path) as string;
  job.interval = strings.share(INTERVAL, job.interval);
  job.cron = strings.share(CRON, job.cron);
  job.location = strings.share(LOCATION, job.location) as string;
  job.lastError = strings.share(LAST_ERROR, job.lastError);
  return job;
}

/** A MySQL load row (values in JOB_COLUMNS order, times as text) to a Job. */
function fromLoadRow(row: unknown[], strings: LoadStrings): Job {
  const nextRun = fromDbTime(row[6]);
  const nextSchedText = row[7];
  const createdText = row[16];
  const updatedText = row[17];
  const createdAt = fromDbTime(createdText) as number;
  const nextSched = nextRun !== null && nextSchedText === row[6] ? nextRun : (fromDbTime(nextSchedText) as number);
  return {
    path: strings.share(PATH, row[0] as string) as string,
    body: row[1] as string,
    interval: strings.share(INTERVAL, row[2] as string | null),
    cron: strings.share(CRON, row[3] as string | null),
    location: strings.share(LOCATION, row[4] as string) as string,
    oneOff: Boolean(row[5]),
    nextRun,
    // Equal text, equal value: skip parsing it twice (the common case for both pairs).
    nextSched,
    anchor: fromDbTime(row[8]) ?? nextSched,
    pausedRun: fromDbTime(row[9]),
    triggeredAt: fromDbTime(row[10]),
    attempts: row[11] as number,
    failingSince: fromDbTime(row[12]),
    lastRun: fromDbTime(row[13]),
    lastStatus: row[14] as number | null,
    lastError: strings.share(LAST_ERROR, row[15] as string | null),
    createdAt,
    updatedAt: updatedText === createdText ? createdAt : (fromDbTime(updatedText) as number),
  };
}

/** The part of mysql2's (callback API) connection the load uses; TypeORM hands it out untyped. */
interface RawMysqlConnection {
  query(options: { sql: string; rowsAsArray: boolean; dateStrings: boolean }): RawMysqlQuery;
}

interface RawMysqlQuery {
  on(event: 'result', listener: (row: unknown[]) => void): RawMysqlQuery;
  on(event: 'error', listener: (error: Error) => void): RawMysqlQuery;
  on(event: 'end', listener: () => void): RawMysqlQuery;
}

/** Column names in the order of columnValues(). */
const JOB_COLUMNS = [
  'path', 'body', 'interval', 'cron', 'location', 'one_off', 'next_run', 'next_sched', 'anchor', 'paused_run', 'triggered_at',
  'attempts', 'failing_since', 'last_run', 'last_status', 'last_error', 'created_at', 'updated_at',
] as const;

const SELECT_COLUMNS = JOB_COLUMNS.map((column) => `\`${column}\``).join(', ');

/** `(?, ?), (?, ?)` for a multi-row VALUES list. */
function placeholders(rows: number, columns: number): string {
  const row = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
  return Array.from({ length: rows }, () => row).join(', ');
}

/** A WHERE condition matching exactly these keys; an OR of key equalities is a range scan of the primary key on both databases. */
function keyCondition(keys: readonly JobKeyParts[]): { where: string; parameters: unknown[] } {
  return {
    where: keys.map(() => '(path = ? AND body = ?)').join(' OR '),
    parameters: keys.flatMap((key) => [key.path, key.body]),
  };
}

/**
 * Indexes of the items in key order. Concurrent multi-row statements that lock their rows in one
 * order rarely deadlock each other.
 */
function byKeyOrder(keys: readonly JobKeyParts[]): number[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return keys.map((_, i) => i).sort((i, j) => compare(keys[i].path, keys[j].path) || compare(keys[i].body, keys[j].body));
}

function byKey<T extends JobKeyParts>(items: readonly T[]): T[] {
  return byKeyOrder(items).map((i) => items[i]);
}

/**
 * Database access for jobs, through TypeORM: load all, upsert, delete, write back a run's outcome,
 * create the table. Every failure surfaces as StoreUnavailableError; nothing here touches memory.
 */
export class JobStore {
  private readonly repository: Repository<JobRow>;
  private readonly queryTimeoutMs: number;
  private readonly loadPageSize: number;
  private readonly onStatement: ((timing: StatementTiming) => void) | undefined;

  private constructor(
    readonly dataSource: DataSource,
    readonly settings: DatabaseSettings,
    options: JobStoreOptions,
  ) {
    this.repository = dataSource.getRepository<JobRow>(dataSource.entityMetadatas[0].target);
    this.queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
    this.loadPageSize = options.loadPageSize ?? 5_000;
    this.onStatement = options.onStatement;
  }

  static async open(settings: DatabaseSettings, options: JobStoreOptions = {}): Promise<JobStore> {
    const dataSource = new DataSource(dataSourceOptions(settings));
    try {
      await dataSource.initialize();
    } catch (error) {
      throw new StoreUnavailableError(`cannot connect to ${describe(settings)}: ${errorText(error)}`);
    }
    return new JobStore(dataSource, settings, options);
  }

  get dialect(): Dialect {
    return this.settings.kind;
  }

  get table(): string {
    return this.settings.table;
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  async tableExists(): Promise<boolean> {
    return this.run('table_exists', async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        return await runner.hasTable(this.table);
      } finally {
        await runner.release();
      }
    });
  }

  /**
   * Creates the table and its indexes if missing; returns whether it created it. On MySQL the key
   * columns get a binary no-pad collation where the server has one, so keys compare like the Map.
   */
  async createTable(): Promise<boolean> {
    if (await this.tableExists()) {
      await this.upgradeTable();
      return false;
    }
    const collation = this.dialect === 'mysql' ? await this.binaryCollation() : undefined;
    const schemaSource = new DataSource(dataSourceOptions(this.settings, collation));
    await this.run('create_table', async () => {
      await schemaSource.initialize();
      try {
        await schemaSource.synchronize();
      } finally {
        await schemaSource.destroy();
      }
    });
    return true;
  }

  /**
   * Adds the columns the entity has and a table created by an older Dalga lacks (nullable ones
   * only: anchor, paused_run). Returns their names.
   */
  async upgradeTable(): Promise<string[]> {
    return this.run('create_table', async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        const table = await runner.getTable(this.table);
        if (!table) throw new Error(`table ${this.table} does not exist`);
        const missing = this.repository.metadata.columns.filter((column) => !table.findColumnByName(column.databaseName));
        for (const column of missing) {
          if (!column.isNullable) throw new Error(`cannot add the non-null column ${column.databaseName} to an existing table`);
          await runner.addColumn(table, new TableColumn(TableUtils.createTableColumnOptions(column, this.dataSource.driver)));
        }
        return missing.map((column) => column.databaseName);
      } finally {
        await runner.release();
      }
    });
  }

  private async binaryCollation(): Promise<string> {
    const rows = (await this.run('collation', () =>
      this.dataSource.query(
        "SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')",
      ),
    )) as { name: string }[];
    const names = rows.map((row) => row.name);
    return names.find((name) => name === 'utf8mb4_0900_bin') ?? names[0] ?? 'utf8mb4_bin';
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.dataSource.query('SELECT 1'));
  }

  async count(): Promise<number> {
    return this.run('count', () => this.repository.count());
  }

  /**
   * Calls onJob for every row, without holding all rows at once: MySQL streams, SQLite pages by key.
   * Returns the number of rows.
   */
  async loadAll(onJob: (job: Job) => void): Promise<number> {
    try {
      return this.dialect === 'mysql' ? await this.streamAll(onJob) : await this.pageAll(onJob);
    } catch (error) {
      throw new StoreUnavailableError(`loading jobs failed: ${errorText(error)}`);
    }
  }

  /**
   * One plain query on mysql2's own connection, row by row from its 'result' events: no Readable,
   * no async iterator, no per-row promise. Rows come as arrays with times as text (dateStrings),
   * parsed by hand. The event loop still turns between socket reads (progress, /status, /readyz).
   */
  private async streamAll(onJob: (job: Job) => void): Promise<number> {
    const runner = this.dataSource.createQueryRunner('slave');
    try {
      const connection = (await runner.connect()) as RawMysqlConnection;
      const strings = new LoadStrings();
      return await new Promise<number>((resolve, reject) => {
        let count = 0;
        let failure: unknown = null;
        connection
          .query({ sql: `SELECT ${SELECT_COLUMNS} FROM \`${this.table}\``, rowsAsArray: true, dateStrings: true })
          .on('result', (row) => {
            if (failure !== null) return; // drain the rest of the result set, then report
            try {
              onJob(fromLoadRow(row, strings));
              count++;
            } catch (error) {
              failure = error;
            }
          })
          // A lost connection may end the query with 'error' alone: settle at once (later calls are no-ops).
          .on('error', (error) => reject(failure ?? error))
          .on('end', () => (failure === null ? resolve(count) : reject(failure)));
      });
    } finally {
      await runner.release();
    }
  }

  private async pageAll(onJob: (job: Job) => void): Promise<number> {
    let count = 0;
    let after: { path: string; body: string } | null = null;
    const strings = new LoadStrings();
    for (;;) {
      const page = await this.page({ after, limit: this.loadPageSize });
      for (const job of page.jobs) onJob(shareStrings(job, strings));
      // better-sqlite3 answers synchronously: give timers and requests (/status, progress) a turn.
      await new Promise((resolve) => setImmediate(resolve));
      count += page.jobs.length;
      if (page.last === null) return count;
      after = page.last;
    }
  }

  /** Jobs ordered by (path, body), after the given key, optionally only paths starting with `prefix`. */
  async page(query: { prefix?: string; after: { path: string; body: string } | null; limit: number }): Promise<JobPage> {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    if (query.prefix) {
      // A byte-wise range instead of LIKE: no wildcards to escape, and SQLite's LIKE ignores case.
      conditions.push('path >= ? AND path < ?');
      parameters.push(query.prefix, `${query.prefix}\u{10FFFF}`);
    }
    if (query.after) {
      conditions.push('(path > ? OR (path = ? AND body > ?))');
      parameters.push(query.after.path, query.after.path, query.after.body);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    // One row more than asked tells whether there is a next page.
    const sql = `SELECT ${SELECT_COLUMNS} FROM \`${this.table}\` ${where} ORDER BY path, body LIMIT ${Math.trunc(query.limit) + 1}`;
    const rows = (await this.run('page', () => this.dataSource.query(sql, parameters))) as Record<string, unknown>[];
    const jobs = rows.slice(0, query.limit).map((row) => fromRawRow(row));
    const lastJob = jobs.at(-1);
    return { jobs, last: rows.length > query.limit && lastJob ? { path: lastJob.path, body: lastJob.body } : null };
  }

  /** One job's row as the database has it now, or null. */
  async get(path: string, body: string): Promise<Job | null> {
    const sql = `SELECT ${SELECT_COLUMNS} FROM \`${this.table}\` WHERE path = ? AND body = ?`;
    const rows = (await this.run('get', () => this.dataSource.query(sql, [path, body]))) as Record<string, unknown>[];
    return rows.length > 0 ? fromRawRow(rows[0]) : null;
  }

  /**
   * Inserts or replaces whole rows (created_at of an existing row is kept): one multi-row
   * statement, committed as one. Keys must be distinct. Raw SQL: TypeORM's Repository.upsert
   * follows its INSERT with a SELECT of the defaulted columns.
   */
  async upsertMany(fence: WriteFence, jobs: readonly Job[]): Promise<void> {
    if (jobs.length === 0) return;
    const changed = JOB_COLUMNS.filter((column) => column !== 'path' && column !== 'body' && column !== 'created_at');
    const sorted = byKey(jobs);
    const values = sorted.flatMap(columnValues);
    if (this.dialect === 'mysql') {
      // INSERT ... SELECT, so that the fence's condition can hold the rows back.
      const update = `ON DUPLICATE KEY UPDATE ${changed.map((c) => `\`${c}\` = VALUES(\`${c}\`)`).join(', ')}`;
      await this.write('upsert', fence, (condition) => ({
        sql: `INSERT INTO \`${this.table}\` (${SELECT_COLUMNS}) SELECT * FROM (${derivedRows(JOB_COLUMNS, sorted.length)}) AS v WHERE ${condition} ${update}`,
        parameters: values,
      }));
      return;
    }
    const update = `ON CONFLICT (path, body) DO UPDATE SET ${changed.map((c) => `\`${c}\` = excluded.\`${c}\``).join(', ')}`;
    await this.write('upsert', fence, () => ({
      sql: `INSERT INTO \`${this.table}\` (${SELECT_COLUMNS}) VALUES ${placeholders(sorted.length, JOB_COLUMNS.length)} ${update}`,
      parameters: values,
    }));
  }

  /** Deletes rows by key (missing ones are no error): one statement. */
  async deleteMany(fence: WriteFence, keys: readonly JobKeyParts[]): Promise<void> {
    if (keys.length === 0) return;
    const { where, parameters } = keyCondition(byKey(keys));
    await this.write('delete', fence, (condition) => ({ sql: `DELETE FROM \`${this.table}\` WHERE ${condition} AND (${where})`, parameters }));
  }

  /**
   * Writes runs' outcomes (every column but the key and created_at) over existing rows, in one
   * statement; a row that is gone stays gone. Returns, per job, whether its row existed.
   */
  async updateMany(fence: WriteFence, jobs: readonly Job[]): Promise<boolean[]> {
    if (jobs.length === 0) return [];
    const createdAt = JOB_COLUMNS.indexOf('created_at');
    const columns = JOB_COLUMNS.filter((_, i) => i !== createdAt);
    const rows = jobs.map((job) => columnValues(job).filter((_, i) => i !== createdAt));
    return this.updateFromValues('update', fence, columns, jobs, rows);
  }

  /** For outcomes overtaken by an API change: only the last_* columns of rows that still exist. */
  async recordLastRunMany(fence: WriteFence, records: readonly LastRunRecord[]): Promise<void> {
    if (records.length === 0) return;
    const columns = ['path', 'body', 'last_run', 'last_status', 'last_error'];
    const rows = records.map((r) => [r.path, r.body, dbTime(r.lastRun), r.lastStatus, errorColumn(r.lastError)]);
    await this.updateFromValues('record_last_run', fence, columns, records, rows);
  }

  /**
   * UPDATE of existing rows only, from a list of rows whose first two columns are the key: a
   * join with a derived table on MySQL, UPDATE ... FROM on SQLite (an upsert could bring back a
   * row deleted meanwhile). Returns, per row, whether it existed; only when fewer rows matched than
   * were given does it ask which (a row deleted outside this server).
   */
  private async updateFromValues(
    name: StoreOperation,
    fence: WriteFence,
    columns: readonly string[],
    keys: readonly JobKeyParts[],
    rows: readonly unknown[][],
  ): Promise<boolean[]> {
    const order = byKeyOrder(keys);
    const parameters = order.flatMap((i) => rows[i]);
    const set = columns.slice(2);
    // mysql2 connects with CLIENT_FOUND_ROWS: affected counts matched rows, changed or not.
    const matched = await this.write(name, fence, (condition) =>
      this.dialect === 'mysql'
        ? {
            sql:
              `UPDATE \`${this.table}\` AS t JOIN (${derivedRows(columns, order.length)}) AS v ON t.path = v.path AND t.body = v.body ` +
              `SET ${set.map((c) => `t.\`${c}\` = v.\`${c}\``).join(', ')} WHERE ${condition}`,
            parameters,
          }
        : {
            sql:
              `WITH v(${columns.map((c) => `\`${c}\``).join(', ')}) AS (VALUES ${placeholders(order.length, columns.length)}) ` +
              `UPDATE \`${this.table}\` SET ${set.map((c) => `\`${c}\` = v.\`${c}\``).join(', ')} ` +
              `FROM v WHERE \`${this.table}\`.path = v.path AND \`${this.table}\`.body = v.body`,
            parameters,
          },
    );
    if (matched >= keys.length) return keys.map(() => true);
    const existing = await this.existingKeys(keys);
    return keys.map((key) => existing.has(jobKey(key.path, key.body)));
  }

  /** Which of the given keys have a row. */
  private async existingKeys(keys: readonly JobKeyParts[]): Promise<Set<string>> {
    const { where, parameters } = keyCondition(keys);
    const sql = `SELECT path, body FROM \`${this.table}\` WHERE ${where}`;
    const rows = (await this.run('existing', () => this.dataSource.query(sql, parameters))) as JobKeyParts[];
    return new Set(rows.map((row) => jobKey(row.path, row.body)));
  }

  /**
   * Runs one statement that changes the jobs table, fenced (see WriteFence); returns the rows it
   * affected. `statement` is given the SQL condition under which it may change rows.
   *
   * MySQL: one transaction sent as one multi-statement query, so that no transaction stays open
   * between round trips (a server paused in the middle would otherwise hold the lease row's lock
   * and keep a standby from taking over). The claim statement comes first: it locks the lease
   * row, so fenced writes never deadlock one another. A deadlock or a Galera certification
   * conflict rolled the transaction back whole: it is run again, a few times at most.
   *
   * What the caller may assume when it fails: a refusal or error from the database (the
   * transaction is rolled back) or a connection that could not be had changed nothing
   * (StoreUnavailableError); the fence found moved changed nothing (FencedError); anything after
   * the statement may have reached the database (a lost connection, a timeout) may or may not have
   * been applied (StoreUncertainError).
   */
  private write(
    name: StoreOperation,
    fence: WriteFence,
    statement: (condition: string) => { sql: string; parameters: unknown[] },
  ): Promise<number> {
    return this.run(name, async () => {
      if (this.dialect === 'sqlite' || fence.kind === 'process-lock') {
        if (this.dialect !== 'sqlite' || fence.kind !== 'process-lock') throw new Error(`a ${fence.kind} fence does not guard ${this.dialect}`);
        const { sql, parameters } = statement('1');
        const runner = this.dataSource.createQueryRunner();
        try {
          return (await runner.query(sql, parameters, true)).affected ?? 0;
        } finally {
          await runner.release();
        }
      }
      const claim = leaseClaim(fence);
      const { sql, parameters } = statement(claim.condition);
      const transaction = `START TRANSACTION;\n${claim.before};\n${sql};\nCOMMIT`;
      for (let attempt = 1; ; attempt++) {
        const runner = this.dataSource.createQueryRunner();
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
              throw new StoreUncertainError(`database connection lost during a write, which may or may not have been applied: ${errorText(driverError)}`);
            }
            // The server refused a statement: the transaction is left open on this connection.
            await runner.query('ROLLBACK').catch(() => {});
            if (attempt < DEADLOCK_ATTEMPTS && (driverError as { code?: unknown }).code === 'ER_LOCK_DEADLOCK') continue;
            throw new StoreUnavailableError(`database error: ${errorText(driverError)}`);
          }
          // START TRANSACTION, claim, SET, the write, COMMIT.
          const affected = (index: number) => ((results as { affectedRows?: number }[])[index]?.affectedRows ?? 0);
          if (affected(1) !== 1) {
            throw new FencedError(`another Dalga server took over the jobs table (lease token ${fence.token} is no longer current); nothing was written`);
          }
          return affected(3);
        } finally {
          await runner.release();
        }
      }
    });
  }

  /** A failing observer must not turn a committed statement into an error. */
  private report(timing: StatementTiming): void {
    try {
      this.onStatement?.(timing);
    } catch {
      // metrics only
    }
  }

  private async run<T>(name: StoreOperation, operation: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let ok = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const message = `database did not answer within ${this.queryTimeoutMs} ms`;
        // A write still on its way or executing may land later.
        reject(WRITES.has(name) ? new StoreUncertainError(`${message}; the write may still be applied`) : new StoreUnavailableError(message));
      }, this.queryTimeoutMs);
    });
    try {
      const result = await Promise.race([operation(), timeout]);
      ok = true;
      return result;
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`database error: ${errorText(error)}`);
    } finally {
      clearTimeout(timer);
      this.report({ operation: name, write: WRITES.has(name), ms: performance.now() - started, ok });
    }
  }
}

export function describe(settings: DatabaseSettings): string {
  return settings.kind === 'mysql'
    ? `mysql://${settings.user}@${settings.host}:${settings.port}/${settings.db} table ${settings.table}`
    : `sqlite ${settings.file} table ${settings.table}`;
}

/**
 * An error the database server sent back for a statement (it has an error number and left the
 * connection usable): the statement was not applied. Anything else (connection lost, reset,
 * closed) leaves it unknown.
 */
function isServerRefusal(error: unknown): boolean {
  const { errno, fatal } = error as { errno?: unknown; fatal?: unknown };
  return typeof errno === 'number' && fatal !== true;
}

/** `SELECT ? AS a, ? AS b UNION ALL SELECT ?, ?`: rows of parameters as a derived table with named columns. */
function derivedRows(columns: readonly string[], rows: number): string {
  const first = `SELECT ${columns.map((c) => `? AS \`${c}\``).join(', ')}`;
  return first + ` UNION ALL SELECT ${columns.map(() => '?').join(', ')}`.repeat(rows - 1);
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
