import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A schema step of the jobs table. Migrations are history: each spells out what it changes as that
 * release had it, and is never edited afterwards; a new column is a new migration (and the entity).
 */
export interface DalgaMigration extends MigrationInterface {
  /** Class name style, ending in a 13-digit timestamp (TypeORM orders by it). */
  readonly name: string;
  /**
   * Whether a table made before Dalga kept a migration history (by `-create-table` or a server of an
   * older release) already has this step, so that it is recorded instead of run (see schema.ts).
   */
  alreadyApplied(runner: QueryRunner): Promise<boolean>;
}

/** A migration class for one jobs table (the table name comes from the config). */
export type DalgaMigrationClass = new () => DalgaMigration;

export function isMysql(runner: QueryRunner): boolean {
  return runner.connection.options.type === 'mysql';
}
