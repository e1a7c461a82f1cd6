#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Dalga, ListenError } from './app.js';
import { ConfigError } from './config/config.js';
import { loadConfigWithIgnored } from './config/load-config.js';
import { InstanceLockError } from './cluster/sqlite-process-lock.js';
import { describe, JobStore, StoreUnavailableError, TableMissingError, TableOutdatedError } from './store/job-store.js';
import { createLogger } from './log/logger.js';
import { packageVersion } from './version.js';

const USAGE = `usage: dalga [-config dalga.ini] [-create-table] [-debug] [-version]

  -config FILE     INI config file (default: none; the embedded SQLite file dalga.sqlite)
  -create-table    create the jobs table and its indexes, then exit (safe to run twice)
  -debug           verbose logs
  -version         print the version and exit

Environment variables DALGA_<SECTION>_<KEY> override the file (DALGA_MYSQL_HOST=...).`;

/** Both spellings work: -config and --config. */
function normalize(argv: string[]): string[] {
  return argv.map((arg) => (/^-[a-z][a-z-]*(=.*)?$/.test(arg) ? `-${arg}` : arg));
}

function fail(message: string, code = 2): never {
  process.stderr.write(`dalga: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      args: normalize(process.argv.slice(2)),
      options: {
        config: { type: 'string' },
        'create-table': { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.version) {
    process.stdout.write(`dalga ${packageVersion()}\n`);
    return;
  }

  let loaded;
  try {
    loaded = loadConfigWithIgnored(args.config);
  } catch (error) {
    if (error instanceof ConfigError) fail(`config: ${error.message}`);
    throw error;
  }
  const { config, ignoredEnvironment } = loaded;
  const log = createLogger({ debug: args.debug });
  if (ignoredEnvironment.length > 0) {
    log.debug({ variables: ignoredEnvironment }, 'ignored DALGA_* environment variables that name no config section');
  }

  if (args['create-table']) {
    const store = await JobStore.open(config.database, { shards: config.cluster.shards });
    try {
      const { created, migrations } = await store.upgradeSchema();
      const done = created ? 'created' : migrations.length > 0 ? `upgraded (${migrations.join(', ')}):` : 'already exists:';
      process.stdout.write(`${done} ${describe(config.database)}\n`);
    } finally {
      await store.close();
    }
    return;
  }

  // A bug in one request or callback must not take the scheduler down: log it and keep serving.
  // (The database is the truth, so even a crash would lose nothing acknowledged.)
  process.on('unhandledRejection', (reason: unknown) => log.error({ err: reason }, 'unhandled rejection'));

  const dalga = await Dalga.start({ config, log });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    dalga.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  if (
    error instanceof TableMissingError ||
    error instanceof TableOutdatedError ||
    error instanceof InstanceLockError ||
    error instanceof StoreUnavailableError ||
    error instanceof ListenError
  ) {
    fail(error.message, 1);
  }
  process.stderr.write(`dalga: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
