import { STATUS_CODES } from 'node:http';
import net from 'node:net';
import { ArrivalSignal } from './arrival-signal.js';

/**
 * How the endpoint treats one request. It speaks HTTP/1.1 by hand over raw TCP, so it can also
 * misbehave in ways an HTTP server library never would.
 *
 * - status:          a well-formed answer, optionally after holdMs.
 * - hang:            reads the request and never answers.
 * - cut:             writes `partial` (e.g. half a status line), then resets (RST) or closes (FIN) the connection.
 * - trickle-headers: the status line, then one header byte every everyMs, never finishing the headers.
 * - trickle-body:    complete headers promising a large body, then one body byte every everyMs.
 * - huge-body:       complete headers, then `bytes` of body as fast as the client reads them.
 */
export type Fault =
  | { kind: 'status'; status: number; holdMs?: number }
  | { kind: 'hang' }
  | { kind: 'cut'; partial: string; how: 'reset' | 'close' }
  | { kind: 'trickle-headers'; everyMs: number }
  | { kind: 'trickle-body'; status: number; everyMs: number }
  | { kind: 'huge-body'; status: number; bytes: number };

/** How an exchange ended, seen from the endpoint. */
export type ExchangeEnd = 'answered' | 'client-closed' | 'endpoint-cut';

/** One request as the endpoint saw it, and what became of it. */
export interface FaultRequest {
  path: string;
  /** The request body (a job's body). */
  body: string;
  /** Dalga-Attempt as a number (NaN if missing). */
  attempt: number;
  /** Dalga-Sched as sent. */
  sched: string;
  /** Arrival (the request fully read), ms since the epoch. */
  at: number;
  /** When the exchange ended (response fully written, or the connection closed); null while open. */
  endedAt: number | null;
  end: ExchangeEnd | null;
  /** Response bytes handed to the socket (status line, headers and body). */
  bytesSent: number;
}

export type FaultPicker = (request: FaultRequest, index: number) => Fault;

/** 64 KiB of body, reused for every chunk of a huge body. */
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/**
 * A callback endpoint on 127.0.0.1 that answers each request with the fault a test picks, and
 * records every request with its arrival, how it ended and how many were open at once (requests
 * received whose exchange has not ended: what max_running must bound).
 */
export class FaultEndpoint {
  readonly requests: FaultRequest[] = [];
  pick: FaultPicker = () => ({ kind: 'status', status: 200 });
  /** Requests open right now, and the most ever open at once. */
  open = 0;
  maxOpen = 0;
  connections = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly arrivals = new ArrivalSignal('fault endpoint');

  private constructor() {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(): Promise<FaultEndpoint> {
    const endpoint = new FaultEndpoint();
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}/`;
  }

  matching(path: string): FaultRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves with the requests for `path` once there are at least `count`; rejects after timeoutMs. */
  async waitFor(path: string, count: number, timeoutMs = 10_000): Promise<FaultRequest[]> {
    return this.waitUntil(
      () => {
        const found = this.matching(path);
        return found.length >= count ? found : null;
      },
      `${count} requests to ${path}`,
      timeoutMs,
    );
  }

  /** Resolves once `probe` returns non-null, re-checked on every arrival and every exchange end. */
  waitUntil<T>(probe: () => T | null, what: string, timeoutMs = 10_000): Promise<T> {
    return this.arrivals.until(probe, what, timeoutMs);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    let buffered = Buffer.alloc(0);
    /** The request being served on this connection (HTTP/1.1 without pipelining: one at a time). */
    let current: FaultRequest | null = null;
    let stopFault: (() => void) | null = null;

    const finish = (request: FaultRequest, end: ExchangeEnd) => {
      if (request.end !== null) return;
      request.end = end;
      request.endedAt = Date.now();
      this.open--;
      if (current === request) current = null;
      stopFault?.();
      stopFault = null;
      this.arrivals.wake();
      // A keep-alive client may already have sent its next request.
      if (end === 'answered') setImmediate(parse);
    };

    const send = (request: FaultRequest, data: string | Buffer, done?: () => void): boolean => {
      request.bytesSent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return socket.write(data, done ? (error) => (error ? undefined : done()) : undefined);
    };

    const serve = (request: FaultRequest, fault: Fault) => {
      switch (fault.kind) {
        case 'status': {
          const answer = () => {
            const body = fault.status === 204 || fault.status === 304 ? '' : 'ok';
            send(request, `${statusLine(fault.status)}Content-Length: ${body.length}\r\n\r\n${body}`);
            finish(request, 'answered');
          };
          if (!fault.holdMs) return answer();
          const timer = setTimeout(answer, fault.holdMs);
          stopFault = () => clearTimeout(timer);
          return;
        }
        case 'hang':
          return;
        case 'cut':
          send(request, fault.partial, () => {
            finish(request, 'endpoint-cut');
            if (fault.how === 'reset') socket.resetAndDestroy();
            else socket.destroy();
          });
          return;
        case 'trickle-headers': {
          send(request, `${statusLine(200)}X-Trickle: `);
          const timer = setInterval(() => send(request, 'a'), fault.everyMs);
          stopFault = () => clearInterval(timer);
          return;
        }
        case 'trickle-body': {
          send(request, `${statusLine(fault.status)}Content-Length: 1000000\r\n\r\n`);
          const timer = setInterval(() => send(request, 'b'), fault.everyMs);
          stopFault = () => clearInterval(timer);
          return;
        }
        case 'huge-body': {
          send(request, `${statusLine(fault.status)}Content-Length: ${fault.bytes}\r\n\r\n`);
          let left = fault.bytes;
          let stopped = false;
          stopFault = () => {
            stopped = true;
          };
          // Write with backpressure: memory on this side stays at one chunk however slowly the client reads.
          const pump = () => {
            while (!stopped && left > 0) {
              const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
              left -= chunk.length;
              const last = left === 0;
              const more = send(request, chunk, last ? () => finish(request, 'answered') : undefined);
              if (!more && !last) {
                socket.once('drain', pump);
                return;
              }
            }
          };
          pump();
          return;
        }
      }
    };

    const parse = () => {
      if (current !== null || socket.destroyed) return;
      const headerEnd = buffered.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const head = buffered.subarray(0, headerEnd).toString('latin1').split('\r\n');
      const [, target = ''] = (head[0] ?? '').split(' ');
      const headers = new Map<string, string>();
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(headers.get('content-length') ?? 0);
      if (buffered.length < headerEnd + 4 + length) return;
      const body = buffered.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8');
      buffered = buffered.subarray(headerEnd + 4 + length);
      const request: FaultRequest = {
        path: target,
        body,
        attempt: Number(headers.get('dalga-attempt')),
        sched: headers.get('dalga-sched') ?? '',
        at: Date.now(),
        endedAt: null,
        end: null,
        bytesSent: 0,
      };
      const index = this.requests.push(request) - 1;
      current = request;
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      this.arrivals.wake();
      serve(request, this.pick(request, index));
    };

    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      parse();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (current !== null) finish(current, 'client-closed');
    });
  }
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}
