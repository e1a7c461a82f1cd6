/**
 * Micro-benchmark for the callback client (issue 6): N small callback-like POSTs with `concurrency`
 * in flight to a node:http server in its own process (answers 200 at once), through
 *   - http:       a raw node:http keep-alive client (the burst baseline's client),
 *   - got-before: got as CallbackClient used it before (got.extend defaults, stream per call,
 *                 string body), kept here as the reference,
 *   - got-before-empty-cache-options: the same with the one change that matters most (cacheOptions
 *                 emptied; see /work/notes/callback-profile.md),
 *   - got-after:  the current CallbackClient (src/dispatch/callback.ts).
 * Variants take turns over `rounds` so the shared machine's drift hits each alike. Prints one JSON
 * line: req/s per variant and round, the median, and the median's ratio to http.
 *
 *   npx tsx bench/workers/got-vs-http.ts '{"n":20000,"rounds":3}'
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/workers/got-vs-http.ts '{"only":["got-before"],"rounds":1}'
 * (the server child is started without --cpu-prof, so the profile is the client's alone).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import got, { type Got } from 'got';
import { CallbackClient } from '../../src/dispatch/callback.js';

interface Input {
  n?: number;
  concurrency?: number;
  rounds?: number;
  only?: string[];
  serve?: boolean;
}

interface Variant {
  post(i: number): Promise<void>;
  close(): void;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const SCHED = Date.UTC(2026, 0, 1);
const SCHED_TEXT = '2026-01-01T00:00:00Z';

function serve(): void {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`));
  process.on('SIGTERM', () => process.exit(0));
}

function body(i: number): string {
  return `k${String(i).padStart(7, '0')}`;
}

function failed(what: string): Error {
  return new Error(`${what}: the request did not get a 200`);
}

function rawHttp(baseUrl: string, concurrency: number): Variant {
  const url = new URL('/burst000', baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  return {
    post: (i) =>
      new Promise((resolve, reject) => {
        const text = body(i);
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            agent,
            headers: {
              'user-agent': 'dalga',
              'content-type': 'text/plain; charset=utf-8',
              'content-length': Buffer.byteLength(text),
              'dalga-sched': SCHED_TEXT,
              'dalga-instance': 'bench',
              'dalga-attempt': '1',
            },
          },
          (res) => {
            if (res.statusCode !== 200) reject(failed('http'));
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(text);
      }),
    close: () => agent.destroy(),
  };
}

/** CallbackClient.post as it was before issue 6, byte for byte in what it sends. */
function gotBefore(baseUrl: string, concurrency: number, emptyCacheOptions = false): Variant {
  const agentOptions = { keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency };
  const agent = new http.Agent(agentOptions);
  const client: Got = got.extend({
    agent: { http: agent },
    timeout: { request: 10_000 },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    decompress: false,
    headers: { 'user-agent': 'dalga' },
    mutableDefaults: emptyCacheOptions,
  });
  if (emptyCacheOptions) client.defaults.options.cacheOptions = {};
  const url = new URL('/burst000', baseUrl);
  return {
    post: (i) =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string> = {
          'content-type': 'text/plain; charset=utf-8',
          'dalga-sched': SCHED_TEXT,
          'dalga-instance': 'bench',
          'dalga-attempt': '1',
        };
        const stream = client.stream.post(url, { body: body(i), headers });
        stream.on('response', (response: http.IncomingMessage) => {
          if (response.statusCode !== 200) reject(failed('got-before'));
          else resolve();
          stream.resume();
        });
        stream.on('error', reject);
      }),
    close: () => agent.destroy(),
  };
}

function gotAfter(baseUrl: string, concurrency: number): Variant {
  const client = new CallbackClient({ baseUrl: `${baseUrl}/`, timeoutMs: 10_000, instanceId: 'bench', maxSockets: concurrency });
  return {
    post: async (i) => {
      const result = await client.post({ path: 'burst000', body: body(i), sched: SCHED, attempt: 1 });
      if (result.status !== 200) throw new Error(`got-after: ${result.status} ${result.error}`);
    },
    close: () => client.close(),
  };
}

const VARIANTS: Record<string, (baseUrl: string, concurrency: number) => Variant> = {
  http: rawHttp,
  'got-before': (baseUrl, concurrency) => gotBefore(baseUrl, concurrency),
  'got-before-empty-cache-options': (baseUrl, concurrency) => gotBefore(baseUrl, concurrency, true),
  'got-after': gotAfter,
};

/** req/s, and this process's CPU µs per request (steadier than req/s on a shared machine). */
async function run(variant: Variant, n: number, concurrency: number): Promise<{ perSecond: number; cpuUs: number }> {
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await variant.post(next++);
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  return { perSecond: (n / (performance.now() - started)) * 1000, cpuUs: (cpu.user + cpu.system) / n };
}

function startServer(): Promise<{ baseUrl: string; stop: () => void }> {
  // Without --cpu-prof: a profile of this process must be the client's alone.
  const execArgv = process.execArgv.filter((flag) => !flag.startsWith('--cpu-prof'));
  const child = spawn(process.execPath, [...execArgv, process.argv[1], JSON.stringify({ serve: true })], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) => {
      const { port } = JSON.parse(chunk.toString()) as { port: number };
      resolve({ baseUrl: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') });
    });
  });
}

async function main(): Promise<void> {
  const n = input.n ?? 20_000;
  const concurrency = input.concurrency ?? 100;
  const rounds = input.rounds ?? 3;
  const names = input.only ?? Object.keys(VARIANTS);
  const server = await startServer();
  const perSecond: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const cpuUsPerRequest: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        const variant = VARIANTS[name](server.baseUrl, concurrency);
        await run(variant, Math.min(n, 2_000), concurrency); // warm-up: JIT and the sockets
        const result = await run(variant, n, concurrency);
        perSecond[name].push(Math.round(result.perSecond));
        cpuUsPerRequest[name].push(Math.round(result.cpuUs));
        variant.close();
      }
    }
  } finally {
    server.stop();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const ratioToHttp = (values: Record<string, number[]>, invert: boolean) =>
    Object.fromEntries(
      names.map((name) => {
        const ratio = median(values[name]) / median(values.http ?? [NaN]);
        return [name, Math.round((invert ? 1 / ratio : ratio) * 100) / 100];
      }),
    );
  process.stdout.write(
    `${JSON.stringify({ n, concurrency, rounds, perSecond, cpuUsPerRequest, perSecondRatioToHttp: ratioToHttp(perSecond, false), cpuRatioToHttp: ratioToHttp(cpuUsPerRequest, true) })}\n`,
  );
  process.exit(0);
}

if (input.serve) serve();
else await main();
