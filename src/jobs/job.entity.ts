import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The jobs table, the same on MySQL and SQLite. Every column names its type: the project also
 * runs under esbuild (tsx), which emits no decorator metadata.
 *
 * Times are DATETIME(3) in UTC. Key columns compare byte for byte (binary, no-pad collation on
 * MySQL; SQLite's default BINARY), exactly like the in-memory Map, so "a" and "A " are different jobs.
 */
abstract class JobColumns {

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

  @Column({ name: 'triggered_at', type: 'datetime', precision: 3, nullable: true })
  triggeredAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'last_run', type: 'datetime', precision: 3, nullable: true })
  lastRun!: Date | null;

  @Column({ name: 'last_status', type: 'int', nullable: true })
  lastStatus!: number | null;

  @Column({ name: 'last_error', type: 'varchar', length: 1024, nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
  updatedAt!: Date;
}

/** A row as TypeORM hydrates it. */
export type JobRow = JobColumns & { path: string; body: string };
export type JobEntityClass = new () => JobRow;

/** Column names in table order, for raw statements that must match the entity. */
export const JOB_COLUMNS = [
  'path', 'body', 'interval', 'cron', 'location', 'one_off', 'next_run', 'next_sched', 'triggered_at',
  'attempts', 'last_run', 'last_status', 'last_error', 'created_at', 'updated_at',
] as const;

/**
 * The table name comes from the config, so the entity class is made per table.
 * `keyCollation` applies where the table is created on MySQL (see JobStore.createTable).
 */
export function jobEntity(table: string, keyCollation?: string): JobEntityClass {
  const key = keyCollation ? { charset: 'utf8mb4', collation: keyCollation } : {};

  @Entity({ name: table })
  class Job extends JobColumns {
    @PrimaryColumn({ type: 'varchar', length: 255, ...key })
    path!: string;

    @PrimaryColumn({ type: 'varchar', length: 255, ...key })
    body!: string;
  }
  return Job;
}
