/**
 * Burst baseline: a bare node:http keep-alive client POSTing K callback-like requests (same path,
 * body size and headers as Dalga's) to the endpoint with `concurrency` in flight, in its own
 * process like the server. Prints {k, ms, perSecond, errors}.
 */
import http from 'node:http';

interface Input {
  baseUrl: string;
  path: string;
  k: number;
  concurrency: number;
}

const input = JSON.parse(process.argv[2]) as Input;
const url = new URL(input.path, input.baseUrl);
const agent = new http.Agent({ keepAlive: true, maxSockets: input.concurrency, maxFreeSockets: input.concurrency });
const sched = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
let next = 0;
let errors = 0;

function post(i: number): Promise<void> {
  const body = `k${String(i).padStart(7, '0')}`;
  return new Promise((resolve) => {
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
          'content-length': Buffer.byteLength(body),
          'dalga-sched': sched,
          'dalga-instance': 'bench-baseline',
          'dalga-attempt': '1',
        },
      },
      (res) => {
        if (res.statusCode !== 200) errors++;
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
}

const started = performance.now();
await Promise.all(
  Array.from({ length: input.concurrency }, async () => {
    while (next < input.k) await post(next++);
  }),
);
const elapsed = performance.now() - started;
agent.destroy();
process.stdout.write(`${JSON.stringify({ k: input.k, ms: elapsed, perSecond: (input.k / elapsed) * 1000, errors })}\n`);
process.exit(0);
