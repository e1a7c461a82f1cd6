import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { liveChildren } from './child.js';
import { monotonicUs, sleep } from './clock.js';
import { mysqlIni } from './mysql-connection.js';
import { cpuMsOf, memoryOf } from './proc.js';
import { nodeCommand, ROOT, type Runtime } from './runtime.js';

export interface DalgaServerOptions {
  runtime: Runtime;
  /** Directory for the config file, the log and a CPU profile. */
  dir: string;
  table: string;
  /** Run on this SQLite file (a [sqlite] section) instead of the shared MariaDB. */
  sqliteFile?: string | null;
  endpointBaseUrl: string;
  /** Seconds. Default 10. */
  endpointTimeout?: number;
  maxRunning?: number;
  /** Write a V8 CPU profile (--cpu-prof) into dir; read it with cpuProfile() after stop(). */
  cpuProfile?: boolean;
  readyTimeoutMs?: number;
  /** Names this server's config and log files (several servers of a cluster share a table); default the table. */
  name?: string;
}

/** How long a server loading `jobs` rows may take to be ready: 5 min, more for tables past 5 M rows (10 M on today's code may take minutes). */
export function readyTimeoutFor(jobs: number): number {
  return Math.max(300_000, jobs * 0.06);
}

/** A port the OS considers free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One GET with a fresh connection (probes), resolving with status and body text. */
export function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

/**
 * A real Dalga server in its own process, started the way a user runs it (`dalga -config file`,
 * no -debug), logging to a file. Readiness is polled on /readyz.
 */
export class DalgaServer {
  /** Spawn to the first 200 from /readyz, ms. */
  readyMs = NaN;
  /** CLOCK_MONOTONIC µs at spawn. */
  readonly spawnedAtUs: number;
  private readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly logFile: string,
    private readonly dir: string,
    /** performance.now() at spawn. */
    private readonly startedAt: number,
  ) {
    this.spawnedAtUs = monotonicUs();
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static async start(options: DalgaServerOptions): Promise<DalgaServer> {
    const server = await DalgaServer.spawn(options);
    await server.waitReady(options.readyTimeoutMs ?? 300_000);
    return server;
  }

  /** Starts the process and returns at once (readyMs stays NaN until waitReady). */
  static async spawn(options: DalgaServerOptions): Promise<DalgaServer> {
    const port = await freePort();
    const name = options.name ?? options.table;
    const config = join(options.dir, `dalga-${name}.ini`);
    writeFileSync(
      config,
      `${options.sqliteFile ? `[sqlite]\nfile = ${options.sqliteFile}\ntable = ${options.table}\n` : mysqlIni(options.table)}\n[listen]\nhost = 127.0.0.1\nport = ${port}\n\n` +
        `[endpoint]\nbaseurl = ${options.endpointBaseUrl}\ntimeout = ${options.endpointTimeout ?? 10}\n\n` +
        `[jobs]\nmax_running = ${options.maxRunning ?? 100}\n`,
    );
    const logFile = join(options.dir, `dalga-${name}.log`);
    const log = openSync(logFile, 'a');
    const flags = options.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${options.dir}`] : [];
    const { command, args, env } = nodeCommand(options.runtime, 'src/cli.ts', ['-config', config], flags);
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', log, log] });
    closeSync(log);
    liveChildren.add(child);
    return new DalgaServer(child, `http://127.0.0.1:${port}`, logFile, options.dir, started);
  }

  /** Polls /readyz every 20 ms until 200; sets readyMs (spawn to ready). */
  async waitReady(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    for (;;) {
      const ready = await httpGet(`${this.url}/readyz`, 2_000).catch(() => null);
      if (ready?.status === 200) break;
      if (exitCode !== undefined) throw new Error(`dalga exited with ${exitCode} before it was ready:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`dalga not ready after ${timeoutMs} ms:\n${this.logTail()}`);
      await sleep(20);
    }
    this.readyMs = performance.now() - this.startedAt;
  }

  /** CPU time (user + system) of the process so far, ms (NaN once it has exited). */
  cpuMs(): number {
    return cpuMsOf(this.pid) ?? NaN;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  memory(): { rss: number; peak: number } | null {
    return memoryOf(this.pid);
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Log lines at warn level or worse (pino: 40+). */
  problems(): string[] {
    try {
      return readFileSync(this.logFile, 'utf8')
        .split('\n')
        .filter((line) => /"level":(4|5|6)\d/.test(line));
    } catch {
      return [];
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: scenarios read the fields they report
  async status(): Promise<any> {
    const response = await httpGet(`${this.url}/status`);
    if (response.status !== 200) throw new Error(`/status answered ${response.status}: ${response.text}`);
    return JSON.parse(response.text);
  }

  /** Run-outcome write-back statements so far, and the outcomes they carried (from /metrics). */
  async writeBacks(): Promise<{ statements: number; outcomes: number }> {
    const response = await httpGet(`${this.url}/metrics`);
    if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${response.text}`);
    const value = (name: string) =>
      Number(/^(\S+) (\S+)$/m.exec(response.text.split('\n').find((line) => line.startsWith(`${name} `)) ?? '')?.[2] ?? NaN);
    return { statements: value('dalga_write_back_batch_size_count'), outcomes: value('dalga_write_back_batch_size_sum') };
  }

  /** SIGTERM (graceful: drains callbacks) and the exit code; SIGKILL after timeoutMs. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    liveChildren.delete(this.child);
    return code;
  }

  /** The --cpu-prof file written at exit (after stop()). */
  cpuProfileFile(): string | null {
    const file = readdirSync(this.dir).find((name) => name.endsWith('.cpuprofile') && name.includes(`.${this.pid}.`));
    return file ? join(this.dir, file) : null;
  }
}
