import type Router from '@koa/router';
import type { LoadProgress } from '../../load-progress.js';

export interface HealthDeps {
  loading: LoadProgress;
  /** Resolves when the database answers; rejects with the reason otherwise. */
  pingDatabase: () => Promise<void>;
}

/** /healthz: the process answers. /readyz: the database answers and every job is loaded. */
export function healthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    let reason: string | null = null;
    if (deps.loading.state !== 'ready') {
      reason = `${deps.loading.state}: ${deps.loading.loaded} jobs loaded`;
    } else {
      try {
        await deps.pingDatabase();
      } catch (error) {
        reason = `database unreachable: ${(error as Error).message}`;
      }
    }
    ctx.status = reason === null ? 200 : 503;
    ctx.body = reason === null ? { status: 'ready' } : { status: 'not ready', error: reason };
  });
}
