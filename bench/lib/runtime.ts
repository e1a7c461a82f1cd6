import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/dist\/$/, '/');

/**
 * How child processes (the server and the baseline workers) run: the compiled `dist/` (what a user
 * deploys), or the TypeScript source through tsx when the build is not usable. Both sides of a
 * comparison always run the same way.
 */
export type RuntimeKind = 'dist' | 'tsx';

export interface Runtime {
  kind: RuntimeKind;
  /** Why this runtime was chosen (printed with the results). */
  note: string;
}

export interface NodeCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** `node [flags] <script> [args]` for a TypeScript file of the repository (e.g. src/cli.ts). */
export function nodeCommand(runtime: Runtime, script: string, args: string[] = [], nodeFlags: string[] = []): NodeCommand {
  if (runtime.kind === 'dist') {
    const compiled = join(ROOT, 'dist', script.replace(/\.ts$/, '.js'));
    return { command: process.execPath, args: [...nodeFlags, compiled, ...args], env: { ...process.env } };
  }
  return {
    command: process.execPath,
    args: [...nodeFlags, '--import', TSX_LOADER, join(ROOT, script), ...args],
    // tsx must read our tsconfig (legacy decorators for TypeORM) whatever the working directory.
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') },
  };
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/**
 * auto: compile with `tsc` (the `npm run build` step) and use dist/ when the compiled CLI and the
 * benchmark workers are at least as new as the build start; fall back to tsx otherwise.
 */
export async function prepareRuntime(choice: 'auto' | RuntimeKind, log: (line: string) => void): Promise<Runtime> {
  if (choice === 'tsx') return { kind: 'tsx', note: 'tsx (--server=tsx)' };
  const needed = ['dist/src/cli.js', 'dist/bench/workers/raw-select.js', 'dist/bench/workers/wheel-worker.js'];
  if (choice === 'dist') {
    const missing = needed.filter((file) => !existsSync(join(ROOT, file)));
    if (missing.length) throw new Error(`--server=dist: ${missing.join(', ')} missing; run npm run build`);
    return { kind: 'dist', note: 'dist (--server=dist, not rebuilt)' };
  }
  const newest = newestSource();
  const built = needed.every((file) => existsSync(join(ROOT, file)) && statSync(join(ROOT, file)).mtimeMs >= newest);
  if (built) return { kind: 'dist', note: 'dist (up to date)' };
  const started = Date.now();
  log('building dist/ with tsc (npm run build) ...');
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  const fresh = needed.every((file) => existsSync(join(ROOT, file)) && statSync(join(ROOT, file)).mtimeMs >= started - 2_000);
  if (result.code === 0) return { kind: 'dist', note: `dist (built in ${((Date.now() - started) / 1000).toFixed(1)} s)` };
  const firstErrors = result.output.split('\n').filter(Boolean).slice(0, 5).join('\n  ');
  if (fresh) {
    log(`tsc reported errors but emitted dist/; using it:\n  ${firstErrors}`);
    return { kind: 'dist', note: 'dist (tsc emitted with type errors in the working tree)' };
  }
  log(`tsc failed; running through tsx instead:\n  ${firstErrors}`);
  return { kind: 'tsx', note: 'tsx (build failed)' };
}

/** mtime of the newest .ts file under src/ and bench/. */
function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'results') walk(path);
      } else if (entry.name.endsWith('.ts')) {
        newest = Math.max(newest, statSync(path).mtimeMs);
      }
    }
  };
  walk(join(ROOT, 'src'));
  walk(join(ROOT, 'bench'));
  return newest;
}
