import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { sleep } from './eventually.js';

/**
 * One `mariadbd` a test owns, in a child process: started on a datadir of its own, crashed with
 * SIGKILL, waited for until it answers SQL, and never left running after the test process ends.
 * PrivateMariaDb and GaleraCluster are built on it. The shared MariaDB on 127.0.0.1:3306 is never
 * one of these: nothing here stops or reconfigures it.
 *
 * Orphans: each server runs as `setpriv --pdeathsig KILL mariadbd ...`, so the kernel kills it
 * when the test process dies in any way (kill -9, a runner timeout); a process 'exit' hook also
 * kills every server still running, for machines without setpriv. The child is unref'd, so a test
 * that forgets destroy() ends (and the hook cleans up) instead of hanging on a live server.
 */

export const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const SETPRIV = '/usr/bin/setpriv';
export const LOOPBACK = '127.0.0.1';

/** Root over TCP with an empty password, as `--auth-root-authentication-method=normal` sets it up. */
export const ROOT_USER = { user: 'root', password: '' } as const;

/**
 * InnoDB sized for a handful of test rows: a small buffer pool and redo log start in a fraction of
 * a second. Also given to mariadb-install-db, so the redo log is created at this size instead of
 * being resized on the first start.
 */
export const SMALL_INNODB = ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=8M'];

const run = promisify(execFile);

/** Servers that may still be running; the 'exit' hook kills them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous by necessity: nothing asynchronous runs after 'exit'.
  process.on('exit', () => {
    for (const server of live) killGroup(server);
  });
}

/** The server and whatever it started (SST scripts, an rsync daemon): it leads its own process group. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Creates the system tables in an empty datadir (about half a second); root gets an empty password. */
export async function installDatadir(datadir: string, logFile: string, serverArgs: string[] = SMALL_INNODB): Promise<void> {
  const args = ['--no-defaults', `--datadir=${datadir}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db', ...serverArgs];
  try {
    const { stdout, stderr } = await run(INSTALL_DB, args, { maxBuffer: 16 * 1024 * 1024 });
    appendFileSync(logFile, stdout + stderr);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    appendFileSync(logFile, stdout + stderr);
    throw new Error(`mariadb-install-db failed for ${datadir}: ${(error as Error).message}\n${lastLines(stdout + stderr, 30)}`);
  }
}

/** One statement on a fresh connection, closed afterwards: rows for a SELECT, a result header otherwise. */
export async function queryOnce(port: number, database: string | undefined, sql: string, params: unknown[] = []): Promise<unknown> {
  const connection = await mysql.createConnection({ host: LOOPBACK, port, ...ROOT_USER, database, connectTimeout: 5_000 });
  try {
    const [rows] = await connection.query(sql, params);
    return rows;
  } finally {
    // end() politely; a server that died meanwhile leaves only destroy().
    await connection.end().catch(() => connection.destroy());
  }
}

/** Waits until every port can be bound on 127.0.0.1 again (a killed server's sockets are closed). */
export async function waitPortsFree(ports: number[], what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    while (!(await canBind(port))) {
      if (Date.now() > deadline) throw new Error(`${what}: port ${port} still in use after ${timeoutMs} ms`);
      await sleep(50);
    }
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

function lastLines(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface MariadbdSpawnOptions {
  /** Names the server in messages, e.g. "Galera node 1 (127.0.0.1:40123)". */
  label: string;
  /** The file `--log-error` / `log_error` points at: its tail goes into every failure message. */
  errorLog: string;
  /** Gets the child's own stdout and stderr: what it says before the error log is open (bad options). */
  consoleLog: string;
}

/** A running (or exited) mariadbd child. Start a new one with spawn() to restart. */
export class MariadbdProcess {
  private readonly exited: Promise<void>;
  private exitedWith: string | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: MariadbdSpawnOptions,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedWith = signal ? `signal ${signal}` : `code ${code}`;
        resolve();
      });
      // A binary that cannot be started says so here, maybe without an 'exit'.
      child.once('error', (error) => {
        this.exitedWith ??= `could not start: ${error.message}`;
        resolve();
      });
    });
  }

  /** Starts `mariadbd <args>` (arguments only, not the binary) and returns at once. */
  static spawn(args: string[], options: MariadbdSpawnOptions): MariadbdProcess {
    const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', MARIADBD, ...args]] : [MARIADBD, args];
    const consoleFd = openSync(options.consoleLog, 'a');
    let child: ChildProcess;
    try {
      // detached: its own process group, so a kill takes the SST scripts and rsync daemon with it.
      child = spawn(command, argv, { detached: true, stdio: ['ignore', consoleFd, consoleFd] });
    } finally {
      closeSync(consoleFd); // the child has its own copy
    }
    child.unref();
    track(child);
    return new MariadbdProcess(child, options);
  }

  get label(): string {
    return this.options.label;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitedWith === null;
  }

  /** How it ended ("code 0", "signal SIGKILL"); null while it runs. */
  get exitStatus(): string | null {
    return this.exitedWith;
  }

  /** SIGKILL (a crash, no shutdown), then waits for the exit. */
  async kill(): Promise<void> {
    // Only while it runs: an exited server's process group id may belong to someone else by now.
    if (this.running) killGroup(this.child);
    await this.waitExit();
  }

  /** Resolves when the process has exited. */
  async waitExit(): Promise<void> {
    // Unref'd, the child alone would not keep the test process alive while we wait for it.
    const keepAlive = setInterval(() => {}, 1_000);
    try {
      await this.exited;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * Polls `probe` until it returns a value other than null: connection errors count as "not
   * yet". Fails at once, with the error log's tail, if the server exits; and after timeoutMs.
   */
  async waitUntil<T>(probe: () => Promise<T | null>, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'no answer yet';
    for (;;) {
      if (!this.running) throw this.failure(`exited (${this.exitStatus}) while waiting for ${what}`);
      try {
        const value = await probe();
        if (value !== null) return value;
        lastProblem = 'not yet';
      } catch (error) {
        lastProblem = (error as Error).message;
      }
      if (Date.now() > deadline) throw this.failure(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${lastProblem})`);
      await sleep(100);
    }
  }

  /** An Error naming the server, with the tail of its logs. */
  failure(message: string): Error {
    return new Error(`${this.options.label}: ${message}\n${this.logTail()}`);
  }

  /** The last lines of the error log (and of the console output, when there is any). */
  logTail(lines = 40): string {
    const parts: string[] = [];
    for (const [name, file] of [
      ['error log', this.options.errorLog],
      ['console', this.options.consoleLog],
    ] as const) {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (text.trim() !== '') parts.push(`--- ${name} ${file} (last ${lines} lines) ---\n${lastLines(text, lines)}`);
    }
    return parts.length > 0 ? parts.join('\n') : `(no log output in ${this.options.errorLog})`;
  }
}
