import http from 'node:http';
import got from 'got';
import type { Context, Next } from 'koa';
import { ShardNotHereError } from '../jobs/job-service.js';
import type { ShardState } from '../jobs/shard-states.js';
import { HttpError } from './http-error.js';

/** Marks a request one server forwarded to another: it is never forwarded again (no loops between two views of the cluster). */
export const FORWARDED_BY = 'dalga-forwarded-by';
/** Names the server that answered a job request (the shard's owner). */
export const ANSWERED_BY = 'dalga-instance';

/** Request headers the owner needs to answer as if asked directly. */
const REQUEST_HEADERS = ['authorization', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'accept'];
/** Response headers passed back. */
const RESPONSE_HEADERS = ['content-type', 'retry-after', ANSWERED_BY];

/** How long an idle connection to another server is kept: under the 5 s after which Node's server closes it. */
const IDLE_SOCKET_MS = 4_000;

/** `/jobs/<path>/<body>` and what hangs below it (`/runs`, `/slots`): the routes of one job. */
const JOB_ROUTE = /^\/jobs\/([^/]+)\/([^/]+)(?:\/(?:runs|slots))?$/;

export interface ForwardingDeps {
  instanceId: string;
  /** This server's state for the job's shard, or null while jobs are not served at all (loading, suspended: the routes say why). */
  shardOf: (path: string, body: string) => { shard: number; state: ShardState } | null;
  /** The owner of a shard by the last round, and the address it advertises; null between owners. */
  ownerOf: (shard: number) => { id: string; address: string } | null;
  /** How long an owner may take to answer. */
  timeoutMs: number;
  onForward?: (outcome: 'answered' | 'unreachable') => void;
}

/**
 * Sends a job's request to the server that owns its shard, and answers as the owner answered (the
 * owner serializes each key). Runs before the body is read, so the body travels as it came.
 * Requests for shards served here, and everything that is not one job's, go on to the routes.
 */
export function requestForwarding(deps: ForwardingDeps) {
  // An idle socket is closed here before the owner's server closes it (Node's keep-alive timeout:
  // 5 s): reused as the owner closes it, a request fails with ECONNRESET, a needless 503. Node 20's
  // agent follows the owner's Keep-Alive hint only when given a timeout of its own; it never ends
  // a request in flight.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_SOCKET_MS });
  return async (ctx: Context, next: Next): Promise<void> => {
    ctx.set(ANSWERED_BY, deps.instanceId);
    const match = JOB_ROUTE.exec(ctx.path);
    const key = match && decoded(match[1], match[2]);
    const here = key && deps.shardOf(key.path, key.body);
    if (!here || here.state === 'ready') return next();
    if (here.state !== 'absent') throw new ShardNotHereError(here.shard, here.state);
    const owner = deps.ownerOf(here.shard);
    if (!owner || owner.id === deps.instanceId || ctx.get(FORWARDED_BY) !== '') {
      throw new HttpError(503, `shard ${here.shard} is between owners; try again`);
    }
    const headers: Record<string, string> = { [FORWARDED_BY]: deps.instanceId };
    for (const name of REQUEST_HEADERS) if (ctx.get(name) !== '') headers[name] = ctx.get(name);
    const hasBody = headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined;
    let response: { statusCode: number; headers: http.IncomingHttpHeaders; rawBody: Buffer };
    try {
      response = await got(`http://${owner.address}${ctx.originalUrl}`, {
        method: ctx.method as 'GET',
        headers,
        body: hasBody ? ctx.req : undefined,
        allowGetBody: true,
        throwHttpErrors: false,
        followRedirect: false,
        decompress: false,
        retry: { limit: 0 },
        timeout: { request: deps.timeoutMs },
        agent: { http: agent },
      });
    } catch (error) {
      deps.onForward?.('unreachable');
      // Sent or not, the owner may have applied a write: a 503 says nothing more (as for an unknown database outcome).
      throw new HttpError(503, `shard ${here.shard}'s owner ${owner.id} (${owner.address}) did not answer: ${(error as Error).message}`);
    }
    deps.onForward?.('answered');
    ctx.status = response.statusCode;
    for (const name of RESPONSE_HEADERS) {
      const value = response.headers[name];
      if (typeof value === 'string') ctx.set(name, value);
    }
    ctx.body = response.rawBody.length > 0 ? response.rawBody : null;
    if (response.rawBody.length === 0) ctx.status = response.statusCode; // setting a null body resets a 200 to 204
  };
}

/** The key, or null for segments the routes refuse (they say why). */
function decoded(path: string, body: string): { path: string; body: string } | null {
  try {
    return { path: decodeURIComponent(path), body: decodeURIComponent(body) };
  } catch {
    return null;
  }
}
