import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs } from './clock.js';
import { Samples } from './stats.js';

/** One callback as the endpoint saw it (only when `keep` is set). */
export interface Arrival {
  path: string;
  /** Dalga-Sched, ms. */
  sched: number;
  attempt: number;
  /** Dalga-Instance: the server that fired it. */
  instance: string;
  /** Arrival (request headers received), ms since the epoch, sub-millisecond. */
  at: number;
}

/**
 * The callback endpoint: answers 200 at once and records every arrival with a sub-millisecond
 * timestamp (test/helpers/endpoint-server.ts records Date.now(), which floors to the millisecond
 * and keeps every header object: too coarse for a 2 ms lag target and too heavy for 100k calls).
 */
export class BenchEndpoint {
  count = 0;
  firstAt = NaN;
  lastAt = NaN;
  /** arrival - Dalga-Sched of every callback that had the header, ms. */
  readonly lags = new Samples();
  /** Arrivals in order when `keep` is true. */
  readonly arrivals: Arrival[] = [];
  keep = false;
  /** Called for every arrival (after recording). */
  onArrival: ((arrival: Arrival) => void) | null = null;
  private readonly server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor() {
    this.server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      const at = nowMs();
      this.count++;
      if (this.count === 1) this.firstAt = at;
      this.lastAt = at;
      const schedHeader = req.headers['dalga-sched'];
      const sched = typeof schedHeader === 'string' ? Date.parse(schedHeader) : NaN;
      if (!Number.isNaN(sched)) this.lags.push(at - sched);
      if (this.keep || this.onArrival) {
        const arrival: Arrival = {
          path: req.url ?? '',
          sched,
          attempt: Number(req.headers['dalga-attempt'] ?? 0),
          instance: String(req.headers['dalga-instance'] ?? ''),
          at,
        };
        if (this.keep) this.arrivals.push(arrival);
        this.onArrival?.(arrival);
      }
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
      });
      req.resume();
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(): Promise<BenchEndpoint> {
    const endpoint = new BenchEndpoint();
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  reset(): void {
    this.count = 0;
    this.firstAt = NaN;
    this.lastAt = NaN;
    this.lags.clear();
    this.arrivals.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
