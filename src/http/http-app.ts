import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import { bearerAuth } from './bearer-auth.js';
import { errorMiddleware, HttpError } from './http-error.js';

/** Largest form body accepted; the parameters of one job are far smaller. */
const FORM_LIMIT = '64kb';

/**
 * The form body parser. Its own errors carry a status (413, 415, 400), but a body that claims a
 * Content-Encoding it does not decode with surfaces as a bare zlib error: that is the client's
 * fault too.
 */
function formBody() {
  const parse = bodyParser({ enableTypes: ['form'], formLimit: FORM_LIMIT });
  return async (ctx: Koa.Context, next: Koa.Next) => {
    // The parser runs with a stand-in `next`, so that only its own errors are caught here (not
    // those of the routes, which run after it).
    let parsed = false;
    try {
      await parse(ctx, async () => {
        parsed = true;
      });
    } catch (error) {
      if (typeof (error as { status?: unknown }).status === 'number') throw error;
      throw new HttpError(400, `body: cannot be read as ${ctx.get('content-encoding') || 'sent'}: ${(error as Error).message}`);
    }
    if (parsed) await next();
  };
}

/** One answered request, for the metrics hook. */
export interface RequestRecord {
  method: string;
  /** The matched route pattern (`/jobs/:path/:body`), or "unmatched". */
  route: string;
  status: number;
  seconds: number;
}

export interface HttpAppHooks {
  /** Called once per request after it is answered (metrics). */
  onRequest?: (request: RequestRecord) => void;
  /** When set, every route but /healthz needs `Authorization: Bearer <token>`. */
  token?: string;
}

/** What @koa/router leaves on the context: the matched pattern and the decoded parameters. */
interface RoutedContext {
  _matchedRoute?: string | RegExp;
  params?: Record<string, string>;
}

/** The Koa application: error shape, request log, form parsing, then the routers. */
export function createHttpApp(log: Logger, addRoutes: (router: Router) => void, hooks: HttpAppHooks = {}): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true; // errors are answered and logged by errorMiddleware
  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      const routed = ctx as unknown as RoutedContext;
      const route = typeof routed._matchedRoute === 'string' ? routed._matchedRoute : 'unmatched';
      const params = routed.params;
      // The job key where there is one, decoded, so a job's requests can be found by its key.
      const job = params?.path !== undefined && params.body !== undefined ? { path: params.path, body: params.body } : undefined;
      log.info(
        { method: ctx.method, path: ctx.path, route, job, status: ctx.status, ms: Math.round(seconds * 10_000) / 10 },
        'request',
      );
      hooks.onRequest?.({ method: ctx.method, route, status: ctx.status, seconds });
    }
  });
  app.use(errorMiddleware(log));
  if (hooks.token) app.use(bearerAuth(hooks.token));
  app.use(formBody());
  const router = new Router();
  addRoutes(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
