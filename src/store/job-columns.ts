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

export interface JobColumn {
  /** The database's name for it. */
  readonly name: string;
  /** The Job field (the entity's property name). */
  readonly field: keyof Job;
  readonly primary: boolean;
  /** False for a column written only when its row is inserted (created_at). */
  readonly updated: boolean;
  readonly kind: Kind;
  readonly nullable: boolean;
  /** Longest text a non-key text column holds; longer values are cut. */
  readonly maxChars: number | null;
  readonly shared: boolean;
}

/**
 * Everything the store knows about the jobs table's columns, derived once from the entity's
 * TypeORM metadata: the column order of every statement, how a Job becomes parameters, and how a
 * row becomes a Job (by column, through one decoder per column).
 */
export class JobColumns {
  /** Every column, in the entity's order: the order of the select list and of array rows. */
  readonly all: readonly JobColumn[];
  readonly keys: readonly JobColumn[];
  /** What an upsert of an existing row replaces: every non-key column but the insert-only ones. */
  readonly replaced: readonly JobColumn[];
  /** An outcome's UPDATE: the key, then what it sets (the same columns an upsert replaces). */
  readonly outcome: readonly JobColumn[];
  /** recordLastRunMany's UPDATE: the key, then the last_* columns. */
  readonly lastRun: readonly JobColumn[];

  constructor(metadata: EntityMetadata) {
    this.all = metadata.columns.map((column) => {
      const type = typeof column.type === 'string' ? column.type : column.type.name.toLowerCase();
      const kind = KINDS[type];
      if (kind === undefined) throw new Error(`column ${column.databaseName}: no codec for type ${type}`);
      const length = Number(column.length);
      return {
        name: column.databaseName,
        field: column.propertyName as keyof Job,
        primary: column.isPrimary,
        updated: column.isUpdate,
        kind,
        nullable: column.isNullable,
        maxChars: kind === Kind.Text && !column.isPrimary && length > 0 ? length : null,
        shared: kind === Kind.Text && SHARED_AT_LOAD.has(column.databaseName),
      };
    });
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
  values<T extends Partial<Job>>(record: T, columns: readonly JobColumn[]): unknown[] {
    return columns.map((column) => encode(column, record[column.field]));
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

type ColumnDecoder = (raw: unknown) => unknown;
type RowBuilder = (row: readonly unknown[]) => Job;

/**
 * Array rows to Jobs during a load: one decoder per column, with the load's fast paths: repeated
 * strings shared (by column), and a time equal as text to the time column before it (next_sched
 * after next_run, updated_at after created_at: the common case) taken over instead of parsed again.
 */
export class RowLoader {
  readonly load: RowBuilder;

  constructor(columns: readonly JobColumn[]) {
    const strings = new LoadStrings();
    let lastTimeText: unknown = null;
    let lastTime: number | null = null;
    const decoders = columns.map((column, index): ColumnDecoder => {
      if (column.kind === Kind.Time) {
        return (raw) => {
          if (raw !== lastTimeText || raw === null) {
            lastTime = fromDbTime(raw);
            lastTimeText = raw;
          }
          return lastTime;
        };
      }
      if (column.shared) return (raw) => strings.share(index, (raw as string | null) ?? null);
      return (raw) => decode(column, raw);
    });
    const build = rowBuilder(columns, decoders);
    this.load = (row) => completeOldRow(build(row));
  }
}

/**
 * A function that builds the Job as one object literal, generated once from the column list (as
 * mysql2 generates its row parsers): a literal gets its shape at once with every field in the
 * object, where adding fields one by one in a loop (a keyed store per field) made a 1M-row decode
 * ~2.5 times slower and each Job 24 bytes bigger (measured with 18 fields: 0.8 s against 2.1 s,
 * 192 MB against 216 MB). Field names come from the entity, and are checked as identifiers anyway.
 */
function rowBuilder(columns: readonly JobColumn[], decoders: readonly ColumnDecoder[]): RowBuilder {
  for (const column of columns) {
    if (!/^[A-Za-z_$][\w$]*$/.test(column.field)) throw new Error(`column ${column.name}: field ${column.field} is not an identifier`);
  }
  const parameters = decoders.map((_, i) => `d${i}`);
  const fields = columns.map((column, i) => `${column.field}: d${i}(row[${i}])`).join(', ');
  const factory = new Function(...parameters, `return function buildJob(row) { return { ${fields} }; };`) as (...d: ColumnDecoder[]) => RowBuilder;
  return factory(...decoders);
}

/** A row written before the anchor column existed takes its next slot as the anchor (see the entity). */
function completeOldRow(job: Job): Job {
  if (job.anchor === null) job.anchor = job.nextSched;
  return job;
}

function decode(column: JobColumn, raw: unknown): unknown {
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

function encode(column: JobColumn, value: unknown): unknown {
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
