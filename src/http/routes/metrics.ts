import type Router from '@koa/router';
import type { Metrics } from '../../metrics/metrics.js';

/** GET /metrics: the Prometheus text exposition of this server's registry. */
export function metricsRoutes(router: Router, deps: { metrics: Metrics }): void {
  router.get('/metrics', async (ctx) => {
    const text = await deps.metrics.text();
    ctx.type = deps.metrics.contentType;
    ctx.body = text;
  });
}
