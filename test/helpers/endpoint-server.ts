import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArrivalSignal } from './arrival-signal.js';

/** One callback as the endpoint saw it. */
export interface ReceivedCallback {
  method: string;
  path: string;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** Arrival time, ms since the epoch. */
  at: number;
}

/** How to answer one callback: a status, optionally after a delay; `hang` never answers. */
export type EndpointReply = { status: number; delayMs?: number } | { hang: true };

export type Responder = (callback: ReceivedCallback, index: number) => EndpointReply;

/**
 * A real HTTP endpoint on 127.0.0.1 that records every callback Dalga makes and answers as the
 * test tells it. `waitFor` resolves once enough callbacks matching a predicate have arrived.
 */
export class EndpointServer {
  readonly received: ReceivedCallback[] = [];
  responder: Responder = () => ({ status: 200 });
  private readonly server: http.Server;
  private readonly arrivals = new ArrivalSignal('endpoint');

  private constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const callback: ReceivedCallback = {
          method: req.method ?? '',
          path: req.url ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
          headers: req.headers,
          at: Date.now(),
        };
        const index = this.received.push(callback) - 1;
        this.arrivals.wake();
        const reply = this.responder(callback, index);
        if ('hang' in reply) return;
        const answer = () => {
          res.statusCode = reply.status;
          res.end(reply.status === 204 ? undefined : 'ok');
        };
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
  }

  static async start(): Promise<EndpointServer> {
    const endpoint = new EndpointServer();
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  matching(predicate: (callback: ReceivedCallback) => boolean): ReceivedCallback[] {
    return this.received.filter(predicate);
  }

  /** Resolves with the matching callbacks once there are at least `count`; rejects after timeoutMs. */
  async waitFor(predicate: (callback: ReceivedCallback) => boolean, count = 1, timeoutMs = 10_000): Promise<ReceivedCallback[]> {
    return this.arrivals.until(
      () => {
        const found = this.matching(predicate);
        return found.length >= count ? found : null;
      },
      () => `${count} matching callbacks, got ${this.matching(predicate).length}`,
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
