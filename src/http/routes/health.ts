import type Router from '@koa/router';
import { unavailableReason, type LoadProgress } from '../../load-progress.js';

export interface HealthDeps {
  progress: LoadProgress;
  /** Resolves when the database answers; rejects with the reason otherwise. */
  pingDatabase: () => Promise<void>;
}

/**
 * /healthz: the process answers (a standby too). /readyz: this server is the active one, every
 * job is loaded, and the database answers.
 */
export function healthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    let reason = unavailableReason(deps.progress);
    if (reason === null) {
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
