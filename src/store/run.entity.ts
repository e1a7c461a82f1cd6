import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { runsTableName } from './table-names.js';

/**
 * The run history of a jobs table (`<table>_runs`): one row per callback attempt, newest last by
 * id. Property names are RunRecord's field names; the store derives its statements from this
 * entity's metadata, and the RunsTable migration creates it. Rows of a job are found by
 * (path, body, id): the history page and the pruning of old runs read that index backwards.
 */
export function runEntity(table: string) {
  const name = runsTableName(table);
  @Entity({ name })
  @Index(`${name}_job`, ['path', 'body', 'id'])
  class RunEntity {
    @PrimaryGeneratedColumn({ type: 'bigint' })
    id!: string;

    @Column({ type: 'varchar', length: 255 })
    path!: string;

    @Column({ type: 'varchar', length: 255 })
    body!: string;

    @Column({ type: 'datetime', precision: 3 })
    sched!: Date;

    @Column({ type: 'int' })
    attempt!: number;

    @Column({ type: 'varchar', length: 64 })
    instance!: string;

    @Column({ name: 'started_at', type: 'datetime', precision: 3 })
    startedAt!: Date;

    @Column({ name: 'finished_at', type: 'datetime', precision: 3 })
    finishedAt!: Date;

    @Column({ type: 'int', nullable: true })
    status!: number | null;

    @Column({ type: 'varchar', length: 1024, nullable: true })
    error!: string | null;
  }
  return RunEntity;
}
