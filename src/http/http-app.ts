import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import { bearerAuth } from './bearer-auth.js';
import { errorMiddleware, HttpError } from './http-error.js';
import { setRequestBody, type RequestBody } from './request-params.js';

/** Largest body accepted (form or JSON); the parameters of one job are far smaller. */
const BODY_LIMIT = '64kb';

/** Methods whose body may carry parameters (GET /jobs takes them too). Other bodies are not read. */
const BODY_METHODS = ['GET', 'POST', 'PUT', 'PATCH'];

/** Whether the request has a body to read: a positive Content-Length, or a chunked one. */
function hasBody(ctx: Koa.Context): boolean {
  if (ctx.get('transfer-encoding') !== '') return true;
  const length = ctx.get('content-length');
  return length !== '' && Number(length) > 0;
}

/** co-body's own parse failures carry the text they could not parse; stream errors (size, encoding) do not. */
function isParseFailure(error: unknown): error is Error {
  return error instanceof Error && typeof (error as { body?: unknown }).body === 'string';
}

/**
 * The body middleware: reads a form or JSON body (@koa/bodyparser) and leaves what it found for
 * requestParams, which judges it on the routes that read parameters (see request-params.ts). A
 * body of another type is not read. Errors of reading itself stop the request here, whatever the
 * route: the parser's carry a status (413 too large, 415 unknown encoding or charset, 400), and a
 * body that claims a Content-Encoding it does not decode with surfaces as a bare zlib error,
 * the client's fault too (400). JSON that does not parse is left to requestParams, so that it is
 * a 400 where parameters are read and ignored where they are not.
 */
function requestBody() {
  const parsers = {
    form: bodyParser({ enableTypes: ['form'], formLimit: BODY_LIMIT, parsedMethods: BODY_METHODS }),
    // Not strict: any JSON value parses, so that requestParams can say "not an object" rather than "invalid".
    json: bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT, jsonStrict: false, parsedMethods: BODY_METHODS }),
  };
  return async (ctx: Koa.Context, next: Koa.Next) => {
    if (!BODY_METHODS.includes(ctx.method) || !hasBody(ctx)) {
      setRequestBody(ctx, { kind: 'none' });
      return next();
    }
    const type = ctx.request.type.trim().toLowerCase();
    const kind = type === 'application/json' ? 'json' : type === 'application/x-www-form-urlencoded' ? 'form' : null;
    const unsupported: RequestBody = { kind: 'unsupported', contentType: ctx.get('content-type') || null };
    if (kind === null) {
      setRequestBody(ctx, unsupported);
      return next();
    }
    // The parser runs with a stand-in `next`, so that only its own errors are caught here (not
    // those of the routes, which run after it).
    let parsed = false;
    let body: RequestBody;
    try {
      await parsers[kind](ctx, async () => {
        parsed = true;
      });
      const raw = ctx.request.rawBody as string | undefined;
      // No raw body: the parser did not take the type for its own after all.
      body =
        raw === undefined
          ? unsupported
          : raw === ''
            ? { kind: 'none' }
            : kind === 'json'
              ? { kind: 'json', value: ctx.request.body }
              : { kind: 'form', fields: (ctx.request.body ?? {}) as Record<string, unknown> };
    } catch (error) {
      if (kind === 'json' && isParseFailure(error)) {
        parsed = true;
        body = { kind: 'invalid-json', reason: error.message };
      } else if (typeof (error as { status?: unknown }).status === 'number') {
        throw error;
      } else {
        throw new HttpError(400, `body: cannot be read as ${ctx.get('content-encoding') || 'sent'}: ${(error as Error).message}`);
      }
    }
    if (!parsed) return; // the parser answered itself (a request already closed)
    setRequestBody(ctx, body);
    await next();
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
  /** Runs before the body is read (request forwarding to another server, which sends the body on as it came). */
  beforeBody?: Koa.Middleware;
}

/** What @koa/router leaves on the context: the matched pattern and the decoded parameters. */
interface RoutedContext {
  _matchedRoute?: string | RegExp;
  params?: Record<string, string>;
}

/** The Koa application: error shape, request log, body parsing, then the routers. */
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
      log.info({ method: ctx.method, path: ctx.path, route, job, status: ctx.status, ms: Math.round(seconds * 10_000) / 10 }, 'request');
      hooks.onRequest?.({ method: ctx.method, route, status: ctx.status, seconds });
    }
  });
  app.use(errorMiddleware(log));
  if (hooks.token) app.use(bearerAuth(hooks.token));
  if (hooks.beforeBody) app.use(hooks.beforeBody);
  app.use(requestBody());
  const router = new Router();
  addRoutes(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
