import type { EntityMetadata } from 'typeorm';
import type { Job } from '../jobs/job.js';
import { dbTime, fromDbTime } from './db-time.js';
import { LoadStrings } from './load-strings.js';

/** How a column's values travel between a Job field and the database, by the column's type. */
export const Kind = { Text: 0, Time: 1, Boolean: 2, Int: 3 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KINDS: Readonly<Record<string, Kind>> = {
  varchar: Kind.Text,
  text: Kind.Text,
  char: Kind.Text,
  datetime: Kind.Time,
  timestamp: Kind.Time,
  boolean: Kind.Boolean,
  bool: Kind.Boolean,
  int: Kind.Int,
  integer: Kind.Int,
  bigint: Kind.Int,
  smallint: Kind.Int,
  tinyint: Kind.Int,
};

/**
 * Columns whose values repeat across many jobs (one shared string each while loading, see
 * LoadStrings). By name: a new column is simply not shared until it is listed here.
 */
const SHARED_AT_LOAD: ReadonlySet<string> = new Set(['path', 'interval', 'cron', 'location', 'last_error']);

/** The fields an outcome overtaken by an API change still writes (JobStore.recordLastRunMany). */
export const LAST_RUN_FIELDS = ['path', 'body', 'lastRun', 'lastStatus', 'lastError'] as const satisfies readonly (keyof Job)[];

export type LastRunRecord = Pick<Job, (typeof LAST_RUN_FIELDS)[number]>;

/** A column of an entity whose property names are the fields of T. */
export interface EntityColumn<T> {
  /** The database's name for it. */
  readonly name: string;
  /** The field (the entity's property name). */
  readonly field: keyof T;
  readonly primary: boolean;
  /** False for a column written only when its row is inserted (created_at). */
  readonly updated: boolean;
  readonly kind: Kind;
  /** Longest text a non-key text column holds; longer values are cut. */
  readonly maxChars: number | null;
  readonly shared: boolean;
  /** Set by the database (an auto-increment id). */
  readonly generated: boolean;
}

export type JobColumn = EntityColumn<Job>;

/** A job's shard, for the derived `shard` column. */
export type ShardOf = (path: string, body: string) => number;

/** An entity's columns as the store codes them, from its TypeORM metadata. */
export function entityColumns<T>(metadata: EntityMetadata): EntityColumn<T>[] {
  return metadata.columns.map((column) => {
    const type = typeof column.type === 'string' ? column.type : column.type.name.toLowerCase();
    const kind = KINDS[type];
    if (kind === undefined) throw new Error(`column ${column.databaseName}: no codec for type ${type}`);
    const length = Number(column.length);
    return {
      name: column.databaseName,
      field: column.propertyName as keyof T,
      primary: column.isPrimary,
      updated: column.isUpdate,
      kind,
      maxChars: kind === Kind.Text && !column.isPrimary && length > 0 ? length : null,
      shared: kind === Kind.Text && SHARED_AT_LOAD.has(column.databaseName),
      generated: column.isGenerated,
    };
  });
}

/**
 * Everything the store knows about the jobs table's columns, derived once from the entity's
 * TypeORM metadata: the column order of every statement, how a Job becomes parameters, and how a
 * row becomes a Job (by column, through one decoder per column).
 */
export class JobColumns {
  /** Every Job column, in the entity's order: the order of the select list and of array rows. */
  readonly all: readonly JobColumn[];
  /** What an insert writes: every Job column, then the shard (derived from the key, never read back into a Job). */
  readonly inserted: readonly JobColumn[];
  private readonly shard: JobColumn;
  readonly keys: readonly JobColumn[];
  /** What an upsert of an existing row replaces: every non-key column but the insert-only ones. */
  readonly replaced: readonly JobColumn[];
  /** An outcome's UPDATE: the key, then what it sets (the same columns an upsert replaces). */
  readonly outcome: readonly JobColumn[];
  /** recordLastRunMany's UPDATE: the key, then the last_* columns. */
  readonly lastRun: readonly JobColumn[];

  constructor(
    metadata: EntityMetadata,
    private readonly shardOf: ShardOf,
  ) {
    const columns = entityColumns<Job>(metadata);
    const shard = columns.find((column) => column.name === 'shard');
    if (!shard) throw new Error('the jobs entity has no shard column');
    this.shard = shard;
    this.all = columns.filter((column) => column !== shard);
    this.inserted = [...this.all, shard];
    this.keys = this.all.filter((column) => column.primary);
    if (this.keys.map((c) => c.field).join() !== 'path,body') throw new Error('the jobs table must be keyed by (path, body)');
    this.replaced = this.all.filter((column) => !column.primary && column.updated);
    this.outcome = [...this.keys, ...this.replaced];
    this.lastRun = LAST_RUN_FIELDS.map((field) => this.byField(field));
  }

  private byField(field: keyof Job): JobColumn {
    const column = this.all.find((c) => c.field === field);
    if (!column) throw new Error(`the jobs entity has no column for ${field}`);
    return column;
  }

  /** Parameters for `columns` (a subset of `all`) of a job, in that order. */
  values<T extends Partial<Job> & Pick<Job, 'path' | 'body'>>(record: T, columns: readonly JobColumn[]): unknown[] {
    return columns.map((column) => (column === this.shard ? this.shardOf(record.path, record.body) : encode(column, record[column.field])));
  }

  /** A row keyed by column name (TypeORM's raw results, Date or text times) to a Job. */
  fromRecord(row: Readonly<Record<string, unknown>>): Job {
    const job: Record<string, unknown> = {};
    for (const column of this.all) job[column.field] = decode(column, row[column.name]);
    return completeOldRow(job as unknown as Job);
  }

  /** A decoder for one load, whose rows come as arrays ordered like `all`. */
  loader(): RowLoader {
    return new RowLoader(this.all);
  }
}

type RowBuilder = (row: readonly unknown[]) => Job;

/**
 * Array rows to Jobs during a load, with its fast paths: repeated strings shared (by column), and
 * a time equal as text to the time column before it (next_sched after next_run, updated_at after
 * created_at: the common case) taken over instead of parsed again.
 */
export class RowLoader {
  readonly load: RowBuilder;

  constructor(columns: readonly JobColumn[]) {
    const build = rowBuilder(columns, new LoadStrings());
    this.load = (row) => completeOldRow(build(row));
  }
}

/**
 * The load's row decoder, generated once from the column list (as mysql2 generates its row
 * parsers): straight-line code per column by its kind, and the Job as one object literal. Loading
 * 200,000 MariaDB rows through JobStore.loadAll, best of 4 with the previous release's store in the
 * same process: a loop over per-column decoder closures filling `{}` field by field took 1.88 s
 * against the previous hand-written decoder's 1.37 s (a keyed store per field, and each Job 24 bytes
 * bigger); this takes 0.78 s against its 0.79 s, and 0.91 s against 0.98 s in a second run. Field
 * names come from the entity, and are checked as identifiers anyway.
 */
function rowBuilder(columns: readonly JobColumn[], strings: LoadStrings): RowBuilder {
  const lines: string[] = ['let text = null, time = null;']; // the last time column's text and value
  const fields: string[] = [];
  columns.forEach((column, i) => {
    if (!/^[A-Za-z_$][\w$]*$/.test(column.field)) throw new Error(`column ${column.name}: field ${column.field} is not an identifier`);
    const v = `v${i}`;
    lines.push(`const ${v} = row[${i}];`);
    const missing = `${v} === null || ${v} === undefined`;
    let value: string;
    switch (column.kind) {
      case Kind.Time:
        lines.push(`if (${v} !== text) { text = ${v}; time = ${missing} ? null : parseTime(${v}); }`, `const t${i} = time;`);
        value = `t${i}`;
        break;
      case Kind.Text:
        value = column.shared ? `strings.share(${i}, ${v} ?? null)` : `${v} ?? null`;
        break;
      case Kind.Int:
        value = `${missing} ? null : Number(${v})`;
        break;
      case Kind.Boolean:
        value = `${missing} ? null : Boolean(Number(${v}))`;
        break;
    }
    fields.push(`${column.field}: ${value}`);
  });
  const body = `return function buildJob(row) {\n${lines.join('\n')}\nreturn { ${fields.join(', ')} };\n};`;
  const factory = new Function('parseTime', 'strings', body) as (parseTime: typeof fromDbTime, strings: LoadStrings) => RowBuilder;
  return factory(fromDbTime, strings);
}

/** A row written before the anchor column existed takes its next slot as the anchor (see the entity). */
function completeOldRow(job: Job): Job {
  if (job.anchor === null) job.anchor = job.nextSched;
  return job;
}

export function decode<T>(column: EntityColumn<T>, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  switch (column.kind) {
    case Kind.Time:
      return fromDbTime(raw);
    case Kind.Boolean:
      return Boolean(Number(raw));
    case Kind.Int:
      return Number(raw);
    case Kind.Text:
      return raw;
  }
}

export function encode<T>(column: EntityColumn<T>, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case Kind.Time:
      return dbTime(value as number);
    case Kind.Boolean:
      // better-sqlite3 binds no booleans; MySQL's BOOLEAN is TINYINT(1).
      return value ? 1 : 0;
    case Kind.Int:
      return value;
    case Kind.Text: {
      const text = value as string;
      const max = column.maxChars;
      return max === null || text.length <= max ? text : `${text.slice(0, max - 1)}…`;
    }
  }
}
