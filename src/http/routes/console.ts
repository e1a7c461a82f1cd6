import { sendPage } from '../page-response.js';
import type Router from '@koa/router';
import { CONSOLE_MODULES } from '../console/assets.js';
import { consolePage } from '../console/page.js';
import { HttpError } from '../http-error.js';

/**
 * GET /: the operator's console, and GET /console/<module>.js, its scripts. Everything is served
 * from here (no external assets, no build step): the page and its CSS are one HTML answer, the
 * scripts ES modules that import each other. Neither carries data, so both answer without the
 * API token (bearer-auth.ts); the scripts ask for it and send it on their API calls.
 *
 * The CSP is /debug's: a fresh nonce per page for its one script and its style (the modules the
 * script imports inherit the nonce), fetches to this origin only, and user data only ever put in
 * the page through textContent.
 */
export function consoleRoutes(router: Router, deps: { debugPage: boolean }): void {
  router.get('/', (ctx) => {
    sendPage(ctx, (nonce) => consolePage(nonce, deps.debugPage));
  });

  router.get('/console/:module', (ctx) => {
    const source = CONSOLE_MODULES.get(ctx.params.module ?? '');
    if (source === undefined) throw new HttpError(404, `no console module ${ctx.params.module ?? ''}`);
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = source;
  });
}
