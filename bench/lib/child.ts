import { spawn, type ChildProcess } from 'node:child_process';
import { nodeCommand, ROOT, type Runtime } from './runtime.js';

export interface WorkerResult<T> {
  /** The JSON the worker printed as its last stdout line. */
  value: T;
  /** Spawn to exit, ms. */
  wallMs: number;
  pid: number;
}

/** Every child still running, so that an interrupted run leaves nothing behind. */
export const liveChildren = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

/**
 * Runs a worker script (bench/workers/*.ts) to completion in a fresh process; its last stdout
 * line is JSON. Rejects on a non-zero exit or a timeout.
 */
export function runWorker<T>(
  runtime: Runtime,
  script: string,
  input: unknown,
  options: { nodeFlags?: string[]; timeoutMs?: number } = {},
): Promise<WorkerResult<T>> {
  const { command, args, env } = nodeCommand(runtime, script, [JSON.stringify(input)], options.nodeFlags ?? []);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('exit', (code, signal) => {
      const wallMs = performance.now() - started;
      clearTimeout(timer);
      liveChildren.delete(child);
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code ?? signal}: ${stderr.trim().slice(-2000) || stdout.trim().slice(-2000)}`));
        return;
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ value: JSON.parse(last) as T, wallMs, pid: child.pid as number });
      } catch {
        reject(new Error(`${script} printed no JSON result: ${stdout.slice(-500)} ${stderr.slice(-500)}`));
      }
    });
  });
}

/** A long-running worker (a baseline server): resolves with its first stdout JSON line once it prints one. */
export async function startWorker<T>(
  runtime: Runtime,
  script: string,
  input: unknown,
): Promise<{ child: ChildProcess; hello: T; stop: () => Promise<void> }> {
  const { command, args, env } = nodeCommand(runtime, script, [JSON.stringify(input)]);
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const hello = await new Promise<T>((resolve, reject) => {
    let stdout = '';
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      try {
        resolve(JSON.parse(stdout.slice(0, newline)) as T);
      } catch (error) {
        reject(error);
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code} before starting: ${stderr.slice(-2000)}`)));
  });
  return {
    child,
    hello,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      liveChildren.delete(child);
    },
  };
}
