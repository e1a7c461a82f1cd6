import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The jobs table, the same on MySQL and SQLite. Every column names its type: the project also
 * runs under esbuild (tsx), which emits no decorator metadata.
 *
 * Times are DATETIME(3) in UTC. Key columns compare byte for byte (a binary no-pad collation on
 * MySQL, SQLite's default BINARY), exactly like the in-memory Map, so "a" and "A " are two jobs.
 */
export interface JobRow {
  path: string;
  body: string;
  interval: string | null;
  cron: string | null;
  location: string;
  oneOff: boolean;
  nextRun: Date | null;
  nextSched: Date;
  anchor: Date | null;
  pausedRun: Date | null;
  triggeredAt: Date | null;
  attempts: number;
  failingSince: Date | null;
  lastRun: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type JobEntityClass = new () => JobRow;

/**
 * The table name comes from the config, so the entity class is made per table.
 * `keyCollation` is used where the table is created on MySQL (see JobStore.createTable).
 */
export function jobEntity(table: string, keyCollation?: string): JobEntityClass {
  const key = keyCollation ? { charset: 'utf8mb4', collation: keyCollation } : {};

  @Entity({ name: table })
  class Job implements JobRow {
    @PrimaryColumn({ type: 'varchar', length: 255, ...key })
    path!: string;

    @PrimaryColumn({ type: 'varchar', length: 255, ...key })
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

    /** NULL only in rows written before the column existed: their next slot is taken as the anchor. */
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

    @Column({ name: 'last_error', type: 'varchar', length: 1024, nullable: true })
    lastError!: string | null;

    @Column({ name: 'created_at', type: 'datetime', precision: 3 })
    createdAt!: Date;

    @Column({ name: 'updated_at', type: 'datetime', precision: 3 })
    updatedAt!: Date;
  }
  return Job;
}
