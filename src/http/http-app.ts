import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from '../log/logger.js';
import { errorMiddleware } from './http-error.js';

/** Largest form body accepted; the parameters of one job are far smaller. */
const FORM_LIMIT = '64kb';

/** The Koa application: error shape, request log, form parsing, then the routers. */
export function createHttpApp(log: Logger, addRoutes: (router: Router) => void): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true; // errors are answered and logged by errorMiddleware
  app.use(async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      log.info(
        { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10 },
        'request',
      );
    }
  });
  app.use(errorMiddleware(log));
  app.use(bodyParser({ enableTypes: ['form'], formLimit: FORM_LIMIT }));
  const router = new Router();
  addRoutes(router);
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
