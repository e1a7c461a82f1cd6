import type { Context, Next } from 'koa';
import { ScheduleError } from '../schedule/schedule-error.js';
import { InvalidKeyError } from '../jobs/job-key.js';
import { JobConflictError, JobNotFoundError } from '../jobs/job-service.js';
import { StoreUnavailableError } from '../store/job-store.js';
import type { Logger } from '../log/logger.js';

/** An error the client should see, with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof ScheduleError || error instanceof InvalidKeyError) return 400;
  if (error instanceof JobNotFoundError) return 404;
  if (error instanceof JobConflictError) return 409;
  if (error instanceof StoreUnavailableError) return 503;
  // Errors thrown by Koa, the router and the body parser carry an HTTP status (400, 405, 413, 415).
  // The router's 501 for a method no route knows is a 405 here: a client error, not the server's.
  const status = (error as { status?: unknown })?.status;
  if (status === 501) return 405;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}

/**
 * Every error becomes `{"error": "..."}` with its status. Client errors say what is wrong;
 * a 500 says nothing about internals (the log has the details).
 */
export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, `no such resource: ${ctx.method} ${ctx.path}`);
      }
    } catch (error) {
      const status = statusOf(error);
      // A 503 is an answer by design (a shard between servers, the database away): one line, no stack.
      if (status === 503) log.warn({ err: (error as Error).message, method: ctx.method, path: ctx.path }, 'request not served now');
      else if (status >= 500) log.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = status;
      ctx.body = { error: status === 500 ? 'internal error' : (error as Error).message };
      if ((error as { status?: unknown })?.status === 501) ctx.body = { error: `method ${ctx.method} is not supported` };
      if (status === 503) ctx.set('Retry-After', '1');
    }
  };
}
