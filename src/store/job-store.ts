import 'reflect-metadata';
import { Brackets, DataSource, type EntityMetadata, type ObjectLiteral, type Repository } from 'typeorm';
import type { DatabaseSettings } from '../config/config.js';
import { jobKey } from '../jobs/job-key.js';
import type { Job } from '../jobs/job.js';
import type { RunRecord } from '../jobs/run-record.js';
import { dataSourceOptions } from './data-source-options.js';
import { quoted, type Dialect, type SqlStatement } from './dialect.js';
import { JobColumns, type JobColumn, type LastRunRecord } from './job-columns.js';
import type { JobRow } from './job.entity.js';
import { mysqlDialect } from './mysql-dialect.js';
import { addressText } from './mysql-hosts.js';
import { RunHistory } from './run-history.js';
import { schemaState, upgradeSchema, type SchemaState } from './schema.js';
import { sqliteDialect } from './sqlite-dialect.js';
import { errorText, StoreUncertainError, StoreUnavailableError } from './store-errors.js';
import { runsTableName, shardsTableName } from './table-names.js';
import { DEFAULT_SHARDS, ShardMap } from '../cluster/shard-map.js';
import type { WriteFence } from './write-fence.js';

export type { LastRunRecord } from './job-columns.js';
export { FencedError, StoreUncertainError, StoreUnavailableError, TableMissingError, TableOutdatedError } from './store-errors.js';
export type { SchemaState } from './schema.js';

export interface JobStoreOptions {
  /** The shard count a table this store creates gets (`[cluster] shards`). Default 256. */
  shards?: number;
  /** A statement taking longer than this fails (a write with StoreUncertainError: it may still land). Default 10 s. */
  queryTimeoutMs?: number;
  /** Told about every statement once it has ended (for metrics). */
  onStatement?: (timing: StatementTiming) => void;
}

/** The statements JobStore runs, by name. */
export type StoreOperation =
  | 'schema'
  | 'upgrade'
  | 'ping'
  | 'count'
  | 'page'
  | 'get'
  | 'upsert'
  | 'delete'
  | 'update'
  | 'record_last_run'
  | 'prune_runs'
  | 'runs'
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

const WRITES: ReadonlySet<StoreOperation> = new Set(['upsert', 'delete', 'update', 'record_last_run', 'prune_runs']);

export interface JobKeyParts {
  path: string;
  body: string;
}

export interface JobPage {
  jobs: Job[];
  /** Key of the last job returned, when there may be more. */
  last: JobKeyParts | null;
}

export interface JobPageQuery {
  /** Only jobs whose path starts with this. */
  prefix?: string;
  /** Only failing jobs (their last attempt failed: attempts > 0), or only disabled ones. */
  status?: 'failing' | 'disabled';
  /** Only jobs of these shards. */
  shards?: readonly number[] | null;
  /** Key of the last job of the previous page. */
  after: JobKeyParts | null;
  limit: number;
}

/** The query builder's alias for the jobs table. */
const ALIAS = 'j';

/**
 * Database access for jobs, through TypeORM: the entity defines the table and JobColumns derives
 * every statement's columns from its metadata; the migrations create and upgrade it. Reads that
 * are not on a hot path (one row, a page, the count) go through the query builder; the boot load
 * and the group-committed writes use SQL generated once per shape by the dialect (see the README,
 * "The data layer", for why). Here: timeouts, metrics and error mapping. Every failure surfaces as
 * StoreUnavailableError; nothing here touches memory.
 */
export class JobStore {
  private readonly repository: Repository<JobRow>;
  private readonly runs: Repository<ObjectLiteral>;
  private readonly history: RunHistory;
  private readonly columns: JobColumns;
  /** The table's shards, known once its schema is (schemaState, upgradeSchema). */
  private shardMap: ShardMap | null = null;
  private readonly dialectSql: Dialect;
  private readonly queryTimeoutMs: number;
  private readonly newTableShards: number;
  private readonly onStatement: ((timing: StatementTiming) => void) | undefined;

  private constructor(
    /** For tests that change the table behind the store's back. */
    readonly dataSource: DataSource,
    readonly settings: DatabaseSettings,
    options: JobStoreOptions,
  ) {
    this.repository = dataSource.getRepository<JobRow>(metadataOf(dataSource, settings.table).target);
    const runs = metadataOf(dataSource, runsTableName(settings.table));
    this.runs = dataSource.getRepository(runs.target);
    this.history = new RunHistory(runs.tableName, runs);
    this.columns = new JobColumns(this.repository.metadata, (path, body) => this.shards.of(path, body));
    this.dialectSql = settings.kind === 'mysql' ? mysqlDialect : sqliteDialect;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
    this.newTableShards = options.shards ?? DEFAULT_SHARDS;
    this.onStatement = options.onStatement;
  }

  static async open(settings: DatabaseSettings, options: JobStoreOptions = {}): Promise<JobStore> {
    const dataSource = new DataSource(dataSourceOptions(settings, options.shards ?? DEFAULT_SHARDS));
    try {
      await dataSource.initialize();
    } catch (error) {
      throw new StoreUnavailableError(`cannot connect to ${describe(settings)}: ${errorText(error)}`);
    }
    return new JobStore(dataSource, settings, options);
  }

  private get table(): string {
    return this.settings.table;
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /** The table's shards (its shard count is stored with it). */
  get shards(): ShardMap {
    if (!this.shardMap) throw new Error('the shard count is read with the schema: call schemaState() first');
    return this.shardMap;
  }

  /** Whether the table exists and has every migration of this release (then its shard count is known). */
  async schemaState(): Promise<SchemaState> {
    const state = await this.run('schema', () => schemaState(this.dataSource, this.table));
    if (state.kind === 'current') await this.readShardCount();
    if (state.kind === 'missing') this.shardMap = new ShardMap(this.newTableShards); // what -create-table will make
    return state;
  }

  private async readShardCount(): Promise<void> {
    const [row] = (await this.run('schema', () => this.dataSource.query(`SELECT COUNT(*) AS n FROM \`${shardsTableName(this.table)}\``))) as {
      n: number | string;
    }[];
    this.shardMap = new ShardMap(Number(row.n));
  }

  /**
   * Creates the table (and on MySQL its lease table) or brings one made by an older Dalga up to
   * date, by the migrations; returns whether it created the table and the migrations it ran.
   */
  async upgradeSchema(): Promise<{ created: boolean; migrations: string[] }> {
    const created = (await this.schemaState()).kind === 'missing';
    // Not under the statement timeout: an ALTER TABLE of a big table takes what it takes.
    try {
      const migrations = await upgradeSchema(this.dataSource, this.table);
      await this.readShardCount();
      return { created, migrations };
    } catch (error) {
      throw new StoreUnavailableError(`upgrading ${describe(this.settings)} failed: ${errorText(error)}`);
    }
  }

  async ping(): Promise<void> {
    await this.run('ping', () => this.dataSource.query('SELECT 1'));
  }

  async count(): Promise<number> {
    return this.run('count', () => this.repository.count());
  }

  /**
   * Calls onJob for every row of these shards (null: every row), without holding all rows at once:
   * MySQL streams, SQLite pages by key. Returns the number of rows.
   */
  async loadShards(shards: readonly number[] | null, onJob: (job: Job) => void): Promise<number> {
    try {
      const readPage = (after: JobKeyParts | null, limit: number) => this.rawPage({ after, limit, shards });
      return await this.dialectSql.loadAll(this.dataSource, this.table, this.columns, shards, readPage, onJob);
    } catch (error) {
      throw new StoreUnavailableError(`loading jobs failed: ${errorText(error)}`);
    }
  }

  /** Jobs ordered by key, after the given key, optionally only paths starting with `prefix`. */
  async page(query: JobPageQuery): Promise<JobPage> {
    // One row more than asked tells whether there is a next page.
    const rows = await this.rawPage({ ...query, limit: Math.trunc(query.limit) + 1 });
    const jobs = rows.slice(0, query.limit).map((row) => this.columns.fromRecord(row));
    const lastJob = jobs.at(-1);
    return { jobs, last: rows.length > query.limit && lastJob ? { path: lastJob.path, body: lastJob.body } : null };
  }

  /** One job's row as the database has it now, or null. */
  async get(path: string, body: string): Promise<Job | null> {
    const row = await this.run('get', () => this.select().where(`${ALIAS}.path = :path AND ${ALIAS}.body = :body`, { path, body }).getRawOne());
    return row ? this.columns.fromRecord(row as Record<string, unknown>) : null;
  }

  /**
   * Inserts or replaces whole rows (insert-only columns of an existing row are kept): one statement.
   * Keys must be distinct. Not Repository.upsert: it cannot carry the fence's condition, and it
   * took 33.9 ms per 64 rows where the generated fenced statement takes 14.2 ms (bench/measure-store.ts,
   * 200 rounds on MariaDB).
   */
  async upsertMany(fence: WriteFence, jobs: readonly Job[]): Promise<void> {
    if (jobs.length === 0) return;
    const sorted = byKey(jobs);
    const parameters = sorted.flatMap((job) => this.columns.values(job, this.columns.inserted));
    await this.write('upsert', fence, (condition) => ({
      sql: this.dialectSql.upsert(this.table, this.columns, sorted.length, condition),
      parameters,
    }));
  }

  /** Deletes rows by key (missing ones are no error), with their run history: one transaction. */
  async deleteMany(fence: WriteFence, keys: readonly JobKeyParts[]): Promise<void> {
    if (keys.length === 0) return;
    const sorted = byKey(keys);
    const { where, parameters } = this.keyCondition(sorted);
    await this.write('delete', fence, (condition) => [
      { sql: `DELETE FROM \`${this.table}\` WHERE ${condition} AND (${where})`, parameters },
      this.history.deleteOf(sorted, condition),
    ]);
  }

  /**
   * Writes runs' outcomes (every column an upsert replaces) over existing rows, in one statement;
   * a row that is gone stays gone. Returns, per job, whether its row existed.
   */
  async updateMany(fence: WriteFence, jobs: readonly Job[], runs: readonly RunRecord[] = []): Promise<boolean[]> {
    if (jobs.length === 0) return [];
    return this.updateFromValues('update', fence, this.columns.outcome, jobs, runs);
  }

  /** For outcomes overtaken by an API change: only the last_* columns of rows that still exist. */
  async recordLastRunMany(fence: WriteFence, records: readonly LastRunRecord[], runs: readonly RunRecord[] = []): Promise<void> {
    if (records.length === 0) return;
    await this.updateFromValues('record_last_run', fence, this.columns.lastRun, records, runs);
  }

  /** Keeps each job's newest `keep` runs (one transaction for the batch). */
  async pruneRuns(fence: WriteFence, keys: readonly JobKeyParts[], keep: number): Promise<void> {
    if (keys.length === 0) return;
    await this.write('prune_runs', fence, (condition) => this.history.prune(byKey(keys), keep, condition));
  }

  /** A job's runs, newest first, by pages (`before`: the cursor of the previous page). */
  async runsOf(path: string, body: string, page: { before: string | null; limit: number }): Promise<{ runs: RunRecord[]; next: string | null }> {
    let select = this.runs.createQueryBuilder('r').where('r.path = :path AND r.body = :body', { path, body });
    if (page.before !== null) select = select.andWhere('r.id < :before', { before: page.before });
    const rows = (await this.run('runs', () =>
      select
        .orderBy('r.id', 'DESC')
        .limit(page.limit + 1)
        .getRawMany(),
    )) as Record<string, unknown>[];
    const runs = rows.slice(0, page.limit);
    const last = runs.at(-1);
    return {
      runs: runs.map((row) => this.history.fromRecord(stripAlias(row, 'r_'))),
      next: rows.length > page.limit && last ? String(last.r_id) : null,
    };
  }

  /** The query builder's SELECT of every column, each under its database name. */
  private select() {
    let query = this.repository.createQueryBuilder(ALIAS).select([]);
    for (const column of this.columns.all) query = query.addSelect(`${ALIAS}.${column.field}`, column.name);
    return query;
  }

  private async rawPage(query: JobPageQuery): Promise<Record<string, unknown>[]> {
    let select = this.select();
    if (query.status === 'failing') select = select.andWhere(`${ALIAS}.attempts > 0`);
    if (query.status === 'disabled') select = select.andWhere(`${ALIAS}.nextRun IS NULL`);
    if (query.shards) select = select.andWhere(`${ALIAS}.shard IN (:...shards)`, { shards: query.shards.length > 0 ? query.shards : [-1] });
    if (query.prefix) {
      // A byte-wise range instead of LIKE: no wildcards to escape, and SQLite's LIKE ignores case.
      select = select.andWhere(`${ALIAS}.path >= :low AND ${ALIAS}.path < :high`, { low: query.prefix, high: `${query.prefix}\u{10FFFF}` });
    }
    const after = query.after;
    if (after) {
      select = select.andWhere(
        new Brackets((q) => q.where(`${ALIAS}.path > :afterPath`).orWhere(`${ALIAS}.path = :afterPath AND ${ALIAS}.body > :afterBody`)),
        { afterPath: after.path, afterBody: after.body },
      );
    }
    const rows = await this.run('page', () => select.orderBy(`${ALIAS}.path`).addOrderBy(`${ALIAS}.body`).limit(query.limit).getRawMany());
    return rows as Record<string, unknown>[];
  }

  /**
   * UPDATE of existing rows only, from a list of rows whose first two columns are the key (an
   * upsert could bring back a row deleted meanwhile). Returns, per row, whether it existed; only
   * when fewer rows matched than were given does it ask which (a row deleted outside this server).
   */
  private async updateFromValues<T extends JobKeyParts & Partial<Job>>(
    name: StoreOperation,
    fence: WriteFence,
    columns: readonly JobColumn[],
    records: readonly T[],
    runs: readonly RunRecord[],
  ): Promise<boolean[]> {
    const sorted = byKey(records);
    const parameters = sorted.flatMap((record) => this.columns.values(record, columns));
    // mysql2 connects with CLIENT_FOUND_ROWS: affected counts matched rows, changed or not.
    const matched = await this.write(name, fence, (condition) => [
      { sql: this.dialectSql.updateFrom(this.table, columns, sorted.length, condition), parameters },
      ...(runs.length > 0 ? [this.history.insert(runs, condition)] : []),
    ]);
    if (matched >= records.length) return records.map(() => true);
    const existing = await this.existingKeys(records);
    return records.map((key) => existing.has(jobKey(key.path, key.body)));
  }

  /** Which of the given keys have a row. */
  private async existingKeys(keys: readonly JobKeyParts[]): Promise<Set<string>> {
    const { where, parameters } = this.keyCondition(keys);
    const sql = `SELECT ${quoted(this.columns.keys)} FROM \`${this.table}\` WHERE ${where}`;
    const rows = (await this.run('existing', () => this.dataSource.query(sql, parameters))) as JobKeyParts[];
    return new Set(rows.map((row) => jobKey(row.path, row.body)));
  }

  /** A WHERE condition matching exactly these keys; an OR of key equalities is a range scan of the primary key on both databases. */
  private keyCondition(keys: readonly JobKeyParts[]): { where: string; parameters: unknown[] } {
    const [path, body] = this.columns.keys;
    const one = `(\`${path.name}\` = ? AND \`${body.name}\` = ?)`;
    return { where: keys.map(() => one).join(' OR '), parameters: keys.flatMap((key) => [key.path, key.body]) };
  }

  /** One statement that changes the jobs table, fenced (see WriteFence and the dialects); returns the rows it affected. */
  private write(name: StoreOperation, fence: WriteFence, statements: (condition: string) => SqlStatement | readonly SqlStatement[]): Promise<number> {
    return this.run(name, () => this.dialectSql.write(this.dataSource, fence, (condition) => [statements(condition)].flat()));
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
    ? `mysql://${settings.user}@${settings.hosts.map(addressText).join(',')}/${settings.db} table ${settings.table}`
    : `sqlite ${settings.file} table ${settings.table}`;
}

/** Items in key order: concurrent multi-row statements that lock their rows in one order rarely deadlock each other. */
function byKey<T extends JobKeyParts>(items: readonly T[]): T[] {
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...items].sort((a, b) => compare(a.path, b.path) || compare(a.body, b.body));
}

function metadataOf(dataSource: DataSource, table: string): EntityMetadata {
  const metadata = dataSource.entityMetadatas.find((entity) => entity.tableName === table);
  if (!metadata) throw new Error(`no entity for table ${table}`);
  return metadata;
}

/** The query builder's raw rows name columns `<alias><column>`. */
function stripAlias(row: Record<string, unknown>, prefix: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([name, value]) => [name.startsWith(prefix) ? name.slice(prefix.length) : name, value]));
}
