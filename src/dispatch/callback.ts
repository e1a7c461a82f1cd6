import http from 'node:http';
import https from 'node:https';
import got, { Options, type Request, RequestError } from 'got';
import { formatTime } from '../jobs/job.js';
import { callbackSignature } from './callback-signature.js';
import { callbackUrl } from './callback-url.js';
import { leanNativeRequest } from './lean-native-request.js';

/** A response body longer than this is not read: the socket is closed instead. */
const MAX_DRAINED_BYTES = 64 * 1024;
/** A response body still arriving this long after the status closes its socket. */
const DRAIN_MS = 100;

export interface CallbackOptions {
  /** Endpoint base URL; the job path is appended under it. */
  baseUrl: string;
  /** Whole-request timeout in ms. */
  timeoutMs: number;
  /** Sent as Dalga-Instance. */
  instanceId: string;
  /** Sockets kept per endpoint host; match max_running so a burst needs no new connections. */
  maxSockets: number;
  /** When non-empty, every callback carries Dalga-Signature. */
  secret?: string;
  /** For the signature's timestamp. Default Date.now. */
  now?: () => number;
}

export interface CallbackRequest {
  path: string;
  body: string;
  /** The slot served (Dalga-Sched). */
  sched: number;
  /** 1 for the first try of a slot (Dalga-Attempt). */
  attempt: number;
}

/** status: the HTTP status, or null when no answer came; error: why it counts as a failure. */
export interface CallbackResponse {
  status: number | null;
  error: string | null;
}

/**
 * POSTs a job's body to its endpoint through got, over one keep-alive agent. The answer is its
 * status line: the response body is never buffered (a short one is drained, a long or slow one
 * closes its socket), so a huge, endless or trickling body costs neither memory nor a socket.
 *
 * Per-callback CPU bounds a burst (issue 6; bench/workers/got-vs-http.ts measures it): the fixed
 * options are one got `Options` built once, each callback only merges its URL, headers and body
 * into a copy of it, and no got.extend chain, hook or handler runs.
 */
export class CallbackClient {
  private readonly defaults: Options;
  private readonly baseUrl: URL;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: CallbackOptions) {
    this.baseUrl = new URL(options.baseUrl);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
    this.agents = { http: new http.Agent(agentOptions), https: new https.Agent(agentOptions) };
    this.defaults = new Options(undefined, {
      method: 'POST',
      isStream: true,
      agent: this.agents,
      request: leanNativeRequest(this.agents),
      timeout: { request: options.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      decompress: false,
      headers: { 'user-agent': 'dalga' },
    });
    // got spreads cacheOptions (four keys, all undefined: there is no cache) into the native
    // options of every request, and on Node 20's V8 a spread followed by ~30 more keys costs
    // 50-150 µs, more than all the rest of got's work. An empty object spreads for free.
    this.defaults.cacheOptions = {};
  }

  post(request: CallbackRequest): Promise<CallbackResponse> {
    let url: URL;
    try {
      url = callbackUrl(this.baseUrl, request.path);
    } catch (error) {
      return Promise.resolve({ status: null, error: (error as Error).message });
    }
    return new Promise((resolve) => {
      // got adds content-length; node then sends headers and body in one write either way.
      const headers: Record<string, string> = {
        'content-type': 'text/plain; charset=utf-8',
        'dalga-sched': formatTime(request.sched),
        'dalga-instance': this.options.instanceId,
        'dalga-attempt': String(request.attempt),
      };
      if (this.options.secret) {
        const unixSeconds = Math.floor((this.options.now ?? Date.now)() / 1000);
        headers['dalga-signature'] = callbackSignature(this.options.secret, request.body, unixSeconds);
      }
      let stream: Request;
      try {
        stream = got(undefined, undefined, new Options(url, { body: request.body, headers }, this.defaults)) as Request;
      } catch (error) {
        resolve({ status: null, error: describeError(error as Error, this.options.timeoutMs) });
        return;
      }
      let answered = false;
      stream.on('response', (response: http.IncomingMessage) => {
        answered = true;
        const status = response.statusCode ?? null;
        resolve({ status, error: status === 200 || status === 204 ? null : `endpoint answered ${status}` });
        this.discardBody(stream, response);
      });
      stream.on('error', (error: Error) => {
        if (!answered) resolve({ status: null, error: describeError(error, this.options.timeoutMs) });
      });
    });
  }

  /**
   * The status is the answer; the body only has to get out of the way. A short body is drained so
   * the keep-alive socket can be reused. A large one, or one still arriving after DRAIN_MS, closes
   * the socket instead: the pool has max_running sockets, and a socket held by a trickling body
   * would make the next callbacks queue for it, eating their own timeout before they are sent.
   */
  private discardBody(stream: Request, response: http.IncomingMessage): void {
    const length = Number(response.headers['content-length']);
    if (length > MAX_DRAINED_BYTES) {
      stream.destroy();
      return;
    }
    const timer = setTimeout(() => stream.destroy(), DRAIN_MS);
    stream.once('end', () => clearTimeout(timer));
    stream.once('close', () => clearTimeout(timer));
    stream.resume();
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function describeError(error: Error, timeoutMs: number): string {
  if (error instanceof RequestError) {
    if (error.code === 'ETIMEDOUT') return `timeout: no answer within ${timeoutMs} ms`;
    return `${error.code}: ${error.message}`;
  }
  return error.message;
}
