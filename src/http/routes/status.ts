import type Router from '@koa/router';
import type { Clock } from '../../clock.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { lagSeconds } from '../../dispatch/lag.js';
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
    ctx.body = {
      total_jobs: counts.total,
      pending_jobs: dispatch.waiting,
      running_jobs: dispatch.running,
      disabled_jobs: counts.disabled,
      lag: lagSeconds(dispatch.oldestWaitingDue, now),
      instance_id: deps.instanceId,
      version: deps.version,
      database: deps.database,
      state: deps.loading.state,
      // While loading, every job in memory came from the table (the API refuses changes until ready).
      loaded_jobs: deps.loading.state === 'loading' ? counts.total : deps.loading.loaded,
      // Rows counted when loading began: with loaded_jobs, how far boot has come.
      expected_jobs: deps.loading.expected,
      write_backs_pending: counts.writeBacksPending,
      uptime: (now - deps.startedAt) / 1000,
    };
  });
}
