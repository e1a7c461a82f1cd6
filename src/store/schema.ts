import { MigrationExecutor, type DataSource, type QueryRunner } from 'typeorm';
import type { DalgaMigration } from './migrations/index.js';

/** Where a database's jobs table stands against the migrations this release has. */
export type SchemaState =
  | { kind: 'missing' }
  | { kind: 'current' }
  /** Made by an older Dalga: these steps are missing, and with `history` false so is the record of the others. */
  | { kind: 'outdated'; pending: string[]; history: boolean };

/**
 * The migration history of the jobs table (TypeORM's MigrationExecutor), plus what TypeORM lacks:
 * a table made before Dalga kept a history gets one, with every step it already has recorded as
 * applied (DalgaMigration.alreadyApplied), so that only the missing steps run.
 */
class JobMigrations extends MigrationExecutor {
  constructor(
    dataSource: DataSource,
    private readonly runner: QueryRunner,
    private readonly table: string,
  ) {
    super(dataSource, runner);
  }

  async state(): Promise<SchemaState> {
    if (!(await this.runner.hasTable(this.table))) return { kind: 'missing' };
    const history = await this.runner.hasTable(this.dataSource.options.migrationsTableName ?? 'migrations');
    if (!history) {
      const pending: string[] = [];
      for (const migration of this.getMigrations()) {
        if (!(await (migration.instance as DalgaMigration).alreadyApplied(this.runner))) pending.push(migration.name);
      }
      return { kind: 'outdated', pending, history };
    }
    const pending = (await this.getPendingMigrations()).map((migration) => migration.name);
    return pending.length === 0 ? { kind: 'current' } : { kind: 'outdated', pending, history };
  }

  /** Runs what is pending; returns the steps run (recorded steps of an old table not included). */
  async upgrade(): Promise<string[]> {
    if ((await this.runner.hasTable(this.table)) && (await this.getExecutedMigrations()).length === 0) {
      await this.createMigrationsTableIfNotExist(this.runner);
      for (const migration of this.getMigrations()) {
        if (await (migration.instance as DalgaMigration).alreadyApplied(this.runner)) {
          await this.insertExecutedMigration(this.runner, migration);
        }
      }
    }
    // One transaction per step: MySQL commits each DDL statement anyway.
    this.transaction = 'each';
    return (await this.executePendingMigrations()).map((migration) => migration.name);
  }
}

export async function schemaState(dataSource: DataSource, table: string): Promise<SchemaState> {
  const runner = dataSource.createQueryRunner();
  try {
    return await new JobMigrations(dataSource, runner, table).state();
  } finally {
    await runner.release();
  }
}

/** Creates the jobs table or brings it up to date; returns the migrations it ran. */
export async function upgradeSchema(dataSource: DataSource, table: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  try {
    return await new JobMigrations(dataSource, runner, table).upgrade();
  } finally {
    await runner.release();
  }
}
