import type Router from '@koa/router';
import type { Clock } from '../../clock.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import type { JobService } from '../../jobs/job-service.js';
import type { LoadProgress } from '../../load-progress.js';

export interface StatusDeps {
  service: JobService;
  dispatcher: Dispatcher;
  clock: Clock;
  instanceId: string;
  version: string;
  database: 'mysql' | 'sqlite';
  startedAt: number;
  loading: LoadProgress;
}

/** GET /status: the counts an operator looks at first. */
export function statusRoutes(router: Router, deps: StatusDeps): void {
  router.get('/status', (ctx) => {
    const now = deps.clock.now();
    const counts = deps.service.counts();
    const dispatch = deps.dispatcher.stats();
    const oldestDue = dispatch.oldestWaitingDue;
    ctx.body = {
      total_jobs: counts.total,
      pending_jobs: dispatch.waiting,
      running_jobs: dispatch.running,
      disabled_jobs: counts.disabled,
      lag: oldestDue === null ? 0 : Math.max(0, (now - oldestDue) / 1000),
      instance_id: deps.instanceId,
      version: deps.version,
      database: deps.database,
      state: deps.loading.state,
      loaded_jobs: deps.loading.loaded,
      write_backs_pending: counts.writeBacksPending,
      uptime: (now - deps.startedAt) / 1000,
    };
  });
}
