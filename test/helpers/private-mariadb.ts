import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { installDatadir, LOOPBACK, MariadbdProcess, queryOnce, ROOT_USER, SMALL_INNODB, waitPortsFree } from './mariadbd-process.js';

export interface PrivateMariaDbOptions {
  /** SQL port on 127.0.0.1. Default: a free one from freePort(). */
  port?: number;
  /** How long start() and restart() wait for the server to answer (crash recovery included). Default 30 s. */
  timeoutMs?: number;
  /** More mariadbd options, e.g. `['--max-connections=20']`. Default: none. */
  serverArgs?: string[];
}

/**
 * A MariaDB server of the test's own, for tests that crash the database under a running Dalga:
 * `kill()` is a SIGKILL (no shutdown, no flush beyond what InnoDB already made durable) and
 * `restart()` brings it back on the same datadir and port, running InnoDB crash recovery. The
 * shared MariaDB on 127.0.0.1:3306 must never be stopped, so tests that kill one use this.
 *
 * It runs `mariadbd --no-defaults` (the system my.cnf does not apply) as root, on a datadir in a
 * fresh temp folder that also holds its socket, pid file and error log. Kept fast for CI (no
 * binlog, a small buffer pool and redo log, no name resolution): measured on a 2-core machine
 * with other work running, start() takes 0.75-1.2 s (0.6 s of it mariadb-install-db), kill()
 * 10-20 ms, restart() with crash recovery 0.1-0.2 s.
 *
 * Log in as root with an empty password; the database `test` exists.
 */
export class PrivateMariaDb {
  readonly host = LOOPBACK;
  readonly database = 'test';
  readonly user = ROOT_USER.user;
  readonly password = ROOT_USER.password;
  private server: MariadbdProcess | null = null;
  private destroyed = false;

  private constructor(
    /** The temp folder: datadir, socket, pid file, logs. Removed by destroy(). */
    readonly dir: string,
    readonly port: number,
    private readonly timeoutMs: number,
    private readonly serverArgs: string[],
  ) {}

  /** Initialises a datadir, starts the server and resolves once it answers, with `test` created. */
  static async start(options: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
    const dir = mkdtempSync(join(tmpdir(), 'dalga-mariadb-'));
    const db = new PrivateMariaDb(dir, options.port ?? (await freePort()), options.timeoutMs ?? 30_000, options.serverArgs ?? []);
    try {
      mkdirSync(db.datadir);
      await installDatadir(db.datadir, join(dir, 'install.log'));
      await db.launch();
      await queryOnce(db.port, undefined, `CREATE DATABASE IF NOT EXISTS \`${db.database}\``);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return db;
  }

  get running(): boolean {
    return this.server?.running ?? false;
  }

  /** The mariadbd process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.server?.pid : undefined;
  }

  /** Crashes the server with SIGKILL; resolves once it has exited and its port is free again. */
  async kill(): Promise<void> {
    if (this.server === null) return;
    await this.server.kill();
    await waitPortsFree([this.port], this.server.label);
  }

  /** Starts the server again on the same datadir and port; resolves once crash recovery is done and it answers. */
  async restart(): Promise<void> {
    if (this.destroyed) throw new Error(`${this.label}: restart() after destroy()`);
    if (this.running) throw new Error(`${this.label}: restart() while it runs; kill() it first`);
    await this.launch();
  }

  /** One statement on a fresh connection (to read or write behind the server under test's back). */
  query(sql: string, params: unknown[] = []): Promise<unknown> {
    return queryOnce(this.port, this.database, sql, params);
  }

  /** The tail of the server's error log, for assertion messages. */
  logTail(lines?: number): string {
    return this.server?.logTail(lines) ?? '(never started)';
  }

  /** Kills the server if it runs and removes the temp folder. Safe to call twice (after() hooks). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.server?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get datadir(): string {
    return join(this.dir, 'data');
  }

  private get label(): string {
    return `private MariaDB on ${this.host}:${this.port}`;
  }

  private async launch(): Promise<void> {
    const args = [
      '--no-defaults',
      `--datadir=${this.datadir}`,
      `--port=${this.port}`,
      `--bind-address=${this.host}`,
      `--socket=${join(this.dir, 'mariadbd.sock')}`,
      `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
      `--log-error=${join(this.dir, 'error.log')}`,
      '--user=root',
      '--skip-log-bin',
      '--skip-name-resolve',
      // A port another process grabbed for a moment (a client's ephemeral port) is waited for, not fatal.
      '--port-open-timeout=10',
      ...SMALL_INNODB,
      ...this.serverArgs,
    ];
    const server = MariadbdProcess.spawn(args, {
      label: this.label,
      errorLog: join(this.dir, 'error.log'),
      consoleLog: join(this.dir, 'console.log'),
    });
    this.server = server;
    try {
      // Before start() created it, `test` does not exist yet: probe without a database.
      await server.waitUntil(() => queryOnce(this.port, undefined, 'SELECT 1'), 'SELECT 1 to answer', this.timeoutMs);
    } catch (error) {
      await server.kill(); // not half up behind the test's back
      throw error;
    }
  }
}
