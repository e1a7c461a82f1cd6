import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';

/** Paths that answer without a token: a load balancer's liveness probe has none. */
const OPEN_PATHS = new Set(['/healthz']);

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
    if (OPEN_PATHS.has(ctx.path)) return next();
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
