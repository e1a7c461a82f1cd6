import http from 'node:http';
import { nowMs } from './clock.js';
import { Samples, summarize, type Summary } from './stats.js';

/**
 * The HTTP load generator both sides of an API comparison share: node:http with one keep-alive
 * agent, `concurrency` requests in flight (closed loop) or a fixed arrival rate (open loop).
 */
export interface LoadRequest {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  errors: number;
  errorSamples: string[];
  durationMs: number;
  perSecond: number;
  latencyMs: Summary;
  statuses: Record<string, number>;
}

export interface Sent {
  status: number;
  /** Request start and answer end, ms since the epoch. */
  startedAt: number;
  endedAt: number;
  error: string | null;
}

export class LoadClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(baseUrl: string, maxSockets: number) {
    this.url = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Requests resent once after a kept-alive socket was closed by the server as it was reused. */
  resent = 0;

  /**
   * Sends one request. A request that fails with "socket hang up"/ECONNRESET before any answer is
   * sent again once on a new socket: the keep-alive race (the server closes an idle socket just
   * as the agent reuses it) is the client's to handle, as every HTTP client library does.
   */
  async send(request: LoadRequest): Promise<Sent> {
    const sent = await this.sendOnce(request);
    if (sent.status === 0 && sent.error !== null && /socket hang up|ECONNRESET/.test(sent.error)) {
      this.resent++;
      const again = await this.sendOnce(request);
      return { ...again, startedAt: sent.startedAt };
    }
    return sent;
  }

  private sendOnce(request: LoadRequest): Promise<Sent> {
    const startedAt = nowMs();
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = { ...request.headers };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, method: request.method, path: request.path, agent: this.agent, headers },
        (res) => {
          // Keep the body of an error answer only (for the report).
          let text = '';
          const keep = (res.statusCode ?? 0) >= 300;
          res.on('data', (chunk: Buffer) => {
            if (keep && text.length < 500) text += chunk.toString();
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, startedAt, endedAt: nowMs(), error: keep ? `status ${res.statusCode}: ${text}` : null }),
          );
          res.on('error', (error) => resolve({ status: 0, startedAt, endedAt: nowMs(), error: error.message }));
        },
      );
      req.on('error', (error) => resolve({ status: 0, startedAt, endedAt: nowMs(), error: error.message }));
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function tally(statuses: Record<string, number>, sent: Sent): void {
  const key = sent.error ? 'error' : String(sent.status);
  statuses[key] = (statuses[key] ?? 0) + 1;
}

/** `concurrency` loops each sending its next request when the previous one is answered, for durationMs. */
export async function closedLoop(options: {
  baseUrl: string;
  concurrency: number;
  durationMs: number;
  next: (i: number) => LoadRequest;
  expectStatus: number;
}): Promise<LoadResult> {
  const client = new LoadClient(options.baseUrl, options.concurrency);
  const latencies = new Samples();
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let issued = 0;
  const started = nowMs();
  const deadline = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (nowMs() < deadline) {
        const sent = await client.send(options.next(issued++));
        tally(statuses, sent);
        if (sent.status !== options.expectStatus) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(sent.error ?? `status ${sent.status}`);
        } else {
          latencies.push(sent.endedAt - sent.startedAt);
        }
      }
    }),
  );
  const durationMs = nowMs() - started;
  client.close();
  return {
    requests: latencies.length,
    errors,
    errorSamples,
    durationMs,
    perSecond: (latencies.length / durationMs) * 1000,
    latencyMs: summarize(latencies.values()),
    statuses,
  };
}

/**
 * Open loop: requests start at a fixed rate whatever the answers do (so a slow server shows up as
 * latency, not as a lower offered load). onDone sees every answer.
 */
export async function openLoop(options: {
  baseUrl: string;
  ratePerSecond: number;
  durationMs: number;
  maxInFlight?: number;
  next: (i: number) => LoadRequest;
  onDone: (sent: Sent, request: LoadRequest) => void;
}): Promise<{ issued: number; skipped: number; resent: number }> {
  const maxInFlight = options.maxInFlight ?? 256;
  const client = new LoadClient(options.baseUrl, maxInFlight);
  const started = nowMs();
  const interval = 1000 / options.ratePerSecond;
  const pending = new Set<Promise<void>>();
  let issued = 0;
  let skipped = 0;
  for (;;) {
    const now = nowMs();
    if (now - started >= options.durationMs) break;
    const due = Math.floor((now - started) / interval) + 1;
    while (issued < due) {
      if (pending.size >= maxInFlight) {
        skipped += due - issued;
        issued = due;
        break;
      }
      const request = options.next(issued++);
      const done: Promise<void> = client.send(request).then((sent) => {
        pending.delete(done);
        options.onDone(sent, request);
      });
      pending.add(done);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(10, interval))));
  }
  await Promise.all(pending);
  client.close();
  return { issued, skipped, resent: client.resent };
}

/** Sends requests 0..total-1 with `concurrency` in flight; returns every answer by index. */
export async function sendAll(options: { baseUrl: string; concurrency: number; total: number; next: (i: number) => LoadRequest }): Promise<Sent[]> {
  const client = new LoadClient(options.baseUrl, options.concurrency);
  const answers: Sent[] = new Array(options.total);
  let index = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.total) }, async () => {
      while (index < options.total) {
        const i = index++;
        answers[i] = await client.send(options.next(i));
      }
    }),
  );
  client.close();
  return answers;
}
