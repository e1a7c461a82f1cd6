import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';

/**
 * Paths that answer without a token: a load balancer's liveness probe has none, and a browser
 * cannot send one when it opens a page. The pages (the console, /debug) and the console's
 * scripts carry no data: they ask for the token and send it on every API call they make.
 */
const OPEN_PATHS = new Set(['/healthz', '/', '/debug']);
const OPEN_PREFIX = '/console/';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * With a token configured, every route but /healthz needs `Authorization: Bearer <token>`.
 * Digests of equal length are compared in constant time, so the answer time says nothing about
 * how much of a guess was right.
 */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    if (OPEN_PATHS.has(ctx.path) || (ctx.method === 'GET' && ctx.path.startsWith(OPEN_PREFIX))) return next();
    const match = /^Bearer (.+)$/.exec(ctx.get('authorization'));
    if (!match || !timingSafeEqual(digest(match[1]), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer');
      ctx.body = { error: 'authorization: missing or wrong bearer token' };
      return;
    }
    await next();
  };
}
