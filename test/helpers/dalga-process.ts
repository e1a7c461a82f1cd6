import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestDatabase } from './databases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src/cli.ts');
/** tsx reads tsconfig.json from the working directory; the server needs ours (legacy decorators for TypeORM). */
const TSX_ENV = { TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') };
/** By URL, so that the server also starts from another working directory. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node <args>`, or `<wrapper...> node <args>` (a wrapper such as `unshare --pid --fork`). */
function spawnNode(args: string[], wrapper: string[], options: Parameters<typeof spawn>[2]): ChildProcess {
  return wrapper.length === 0 ? spawn(process.execPath, args, options) : spawn(wrapper[0], [...wrapper.slice(1), process.execPath, ...args], options);
}

/** Runs the CLI to completion (for -create-table, -version, config errors); `wrapper` runs it inside another command. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT, wrapper: string[] = []): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawnNode(['--import', TSX, CLI, ...args], wrapper, { cwd, env: { ...process.env, ...TSX_ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Writes a config file: the database section, a listen port chosen by the OS, and extra sections. */
export function writeConfig(db: TestDatabase, extra: string, name = 'dalga.ini'): string {
  const file = join(db.dir, name);
  writeFileSync(file, `${db.ini}\n[listen]\nhost = 127.0.0.1\nport = 0\n\n${extra}\n`);
  return file;
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read any field of any answer; typing each would be noise
  json: any;
}

/** A Dalga server in a child process, as a user runs it. */
export class DalgaProcess {
  private exited: Promise<number | null>;
  output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `dalga -config <file>` and resolves once it answers /readyz with 200. */
  static async start(
    configFile: string,
    options: {
      env?: NodeJS.ProcessEnv;
      timeoutMs?: number;
      cwd?: string;
      /** Headers for the /readyz probe (a server with an API token needs them). */
      readyHeaders?: Record<string, string>;
      /** Default true: wait for /readyz 200. False: resolve once it listens (to watch it while it is loading). */
      waitReady?: boolean;
      /** Modules to preload before the server (`node --import`), such as clock-shim.mjs. */
      preload?: string[];
      /** A command the server runs inside, such as `unshare --pid --fork --kill-child` (signals go to the wrapper). */
      wrapper?: string[];
    } = {},
  ): Promise<DalgaProcess> {
    const preload = (options.preload ?? []).flatMap((module) => ['--import', pathToFileURL(module).href]);
    const child = spawnNode([...preload, '--import', TSX, CLI, '-config', configFile, '-debug'], options.wrapper ?? [], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...TSX_ENV, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dalga did not start:\n${output}`)), options.timeoutMs ?? 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /"address":"(http:\/\/[^"]+)"/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dalga exited with ${code} before listening:\n${output}`));
      });
    });
    const dalga = new DalgaProcess(child, url);
    dalga.output = output;
    child.stdout!.on('data', (chunk: Buffer) => (dalga.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (dalga.output += chunk.toString()));
    if (options.waitReady ?? true) await dalga.waitReady(options.timeoutMs ?? 20_000, options.readyHeaders);
    return dalga;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async waitReady(timeoutMs: number, headers: Record<string, string> = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.request('GET', '/readyz', { headers }).catch(() => null);
      if (response?.status === 200) return;
      if (Date.now() > deadline) throw new Error(`dalga not ready:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async request(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}): Promise<JsonResponse> {
    const response = await fetch(`${this.url}${path}`, { method, body: init.body, headers: init.headers });
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** kill -STOP: the process stops dead, its sockets stay open (a VM paused, a stop-the-world pause). */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  /** kill -CONT. */
  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** kill -9. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  waitExit(): Promise<number | null> {
    return this.exited;
  }
}
