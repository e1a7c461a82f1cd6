/**
 * `npm start` as a user (or a container's entrypoint) runs it: npm runs the compiled server, and a
 * SIGTERM or SIGINT sent to npm stops the server cleanly. npm forwards the signal to its child, so
 * the child must be the server itself: the script `exec`s node (a shell in between would die of the
 * signal and leave the server running, orphaned).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/src/cli.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function parentOf(pid: number): number {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Resolves when something can listen on the port again: nothing holds it. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | null> | T | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`runs the compiled server; ${signal} to npm stops it cleanly`, async (t) => {
      if (!existsSync(CLI)) {
        if (process.env.CI) assert.fail(`${CLI} is missing: the build (npm ci runs prepare) did not produce it`);
        t.skip('dist/ not built: run npm run build');
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'dalga-npm-start-'));
      const port = await freePort();
      const config = join(dir, 'dalga.ini');
      writeFileSync(config, `[sqlite]\nfile = ${join(dir, 'dalga.sqlite')}\n\n[listen]\nhost = 127.0.0.1\nport = ${port}\n`);
      const npm = spawn('npm', ['start', '--', '-config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        npm.on('exit', (code, exitSignal) => resolve({ code, signal: exitSignal })),
      );
      let serverPid = 0;
      try {
        await waitFor('/readyz', async () => {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
          return response?.status === 200 ? true : null;
        });
        // The server's JSON log lines carry its pid.
        serverPid = await waitFor('the listening log line', () => {
          const line = output.split('\n').find((text) => text.startsWith('{') && text.includes('"msg":"listening"'));
          return line ? (JSON.parse(line) as { pid: number }).pid : null;
        });
        assert.notEqual(serverPid, npm.pid, "the server is npm's child, not npm itself");
        assert.equal(parentOf(serverPid), npm.pid, "the server is npm's child (no shell between them to swallow the signal)");
        assert.doesNotMatch(output, /tsx/, 'npm start runs dist/, not the source through tsx');

        npm.kill(signal);
        const exit = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))]);
        assert.ok(exit, `npm did not exit within 20 s of ${signal}:\n${output}`);
        assert.deepEqual(exit, { code: 0, signal: null }, output);
        await waitFor('the server to exit', () => (alive(serverPid) ? null : true), 5_000).catch(() =>
          assert.fail(`the server (pid ${serverPid}) outlived npm:\n${output}`),
        );
        assert.ok(await portFree(port), `port ${port} is still held`);
        assert.match(output, new RegExp(`"signal":"${signal}","msg":"stopping"`));
        assert.match(output, /"msg":"stopped"/);
      } finally {
        if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
        if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
