/**
 * API reads baseline: a bare node:http server answering GET /jobs/<path>/<body> with the same
 * JSON as Dalga (fetched from Dalga beforehand, one object per line in `file`), from a Map,
 * serialized per request like Koa does. Prints {"port": N} once listening.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const { file } = JSON.parse(process.argv[2]) as { file: string };
const jobs = new Map<string, unknown>();
for (const line of readFileSync(file, 'utf8').split('\n')) {
  if (!line) continue;
  const job = JSON.parse(line) as { path: string; body: string };
  jobs.set(`${job.path}\u0000${job.body}`, job);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const segments = (query === -1 ? url : url.slice(0, query)).split('/');
  let status = 404;
  let body = '{"error":"not found"}';
  if (req.method === 'GET' && segments.length === 4 && segments[1] === 'jobs') {
    const job = jobs.get(`${decodeURIComponent(segments[2])}\u0000${decodeURIComponent(segments[3])}`);
    if (job) {
      status = 200;
      body = JSON.stringify(job);
    }
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, jobs: jobs.size })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
