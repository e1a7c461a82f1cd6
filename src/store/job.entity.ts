import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Job } from '../jobs/job.js';

/**
 * The jobs table, the same on MySQL and SQLite, and the one place its columns are declared: the
 * store derives its statements and row decoding from this entity's metadata (job-columns.ts); the
 * migrations (migrations/) bring a database to it. Every column names its type: the project also
 * runs under esbuild (tsx), which emits no decorator metadata.
 *
 * Property names are the Job's field names. Times are DATETIME(3) in UTC. Key columns compare byte
 * for byte (a binary no-pad collation on MySQL, SQLite's default BINARY), exactly like the
 * in-memory Map, so "a" and "A " are two jobs.
 *
 * The table name comes from the config, so the entity class is made per table.
 */
export function jobEntity(table: string) {
  @Entity({ name: table })
  class JobEntity {
    @PrimaryColumn({ type: 'varchar', length: 255 })
    path!: string;

    @PrimaryColumn({ type: 'varchar', length: 255 })
    body!: string;

    @Column({ type: 'varchar', length: 64, nullable: true })
    interval!: string | null;

    @Column({ type: 'varchar', length: 255, nullable: true })
    cron!: string | null;

    @Column({ type: 'varchar', length: 64, default: 'UTC' })
    location!: string;

    @Column({ name: 'one_off', type: 'boolean', default: false })
    oneOff!: boolean;

    @Index()
    @Column({ name: 'next_run', type: 'datetime', precision: 3, nullable: true })
    nextRun!: Date | null;

    @Column({ name: 'next_sched', type: 'datetime', precision: 3 })
    nextSched!: Date;

    /** NULL only in rows written before the column existed: their next slot is taken as the anchor (job-columns.ts). */
    @Column({ name: 'anchor', type: 'datetime', precision: 3, nullable: true })
    anchor!: Date | null;

    @Column({ name: 'paused_run', type: 'datetime', precision: 3, nullable: true })
    pausedRun!: Date | null;

    @Column({ name: 'triggered_at', type: 'datetime', precision: 3, nullable: true })
    triggeredAt!: Date | null;

    @Column({ type: 'int', default: 0 })
    attempts!: number;

    @Column({ name: 'failing_since', type: 'datetime', precision: 3, nullable: true })
    failingSince!: Date | null;

    @Column({ name: 'last_run', type: 'datetime', precision: 3, nullable: true })
    lastRun!: Date | null;

    @Column({ name: 'last_status', type: 'int', nullable: true })
    lastStatus!: number | null;

    /** Longer error texts are cut to the column's length (job-columns.ts). */
    @Column({ name: 'last_error', type: 'varchar', length: 1024, nullable: true })
    lastError!: string | null;

    /** Written when the row is inserted, kept by every later write (`update: false`). */
    @Column({ name: 'created_at', type: 'datetime', precision: 3, update: false })
    createdAt!: Date;

    @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
    updatedAt!: Date;

    /** The job's shard, derived from its key (ShardMap), so a server loads and fences only its own. Not a Job field. */
    @Index()
    @Column({ type: 'int', default: 0 })
    shard!: number;
  }
  return JobEntity;
}

/** A row as TypeORM hydrates it. */
export type JobRow = InstanceType<ReturnType<typeof jobEntity>>;

export type JobEntityClass = ReturnType<typeof jobEntity>;

/** The columns that are not Job fields: derived from the key when a row is written. */
export type DerivedColumns = 'shard';

/** The store maps columns to Job fields by property name: a column without its Job field (or the reverse) does not compile. */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
export const ENTITY_MATCHES_JOB: SameKeys<Omit<JobRow, DerivedColumns>, Job> = true;
