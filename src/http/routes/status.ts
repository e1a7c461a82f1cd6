import type Router from '@koa/router';
import type { Clock } from '../../clock.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { lagSeconds } from '../../dispatch/lag.js';
import type { JobService } from '../../jobs/job-service.js';
import type { LoadProgress } from '../../load-progress.js';
import type { ClusterStatus } from '../../app.js';

export interface StatusDeps {
  /** The jobs in memory (those of this server's shards). */
  scheduler: () => { service: JobService; dispatcher: Dispatcher };
  /** This server's shards and the live servers, by the last ownership round. */
  cluster: () => ClusterStatus;
  clock: Clock;
  instanceId: string;
  version: string;
  database: 'mysql' | 'sqlite';
  /** Monotonic time at start (for uptime). */
  startedAt: number;
  progress: LoadProgress;
}

/** GET /status: the counts an operator looks at first, and this server's place in the cluster. */
export function statusRoutes(router: Router, deps: StatusDeps): void {
  router.get('/status', (ctx) => {
    const now = deps.clock.now();
    const scheduler = deps.scheduler();
    const counts = scheduler.service.counts();
    const dispatch = scheduler.dispatcher.stats();
    const { state, expected } = deps.progress;
    ctx.body = {
      total_jobs: counts.total,
      pending_jobs: dispatch.waiting,
      running_jobs: dispatch.running,
      disabled_jobs: counts.disabled,
      // Jobs whose last attempt failed (waiting to retry, or disabled by retry_stop_after).
      failing_jobs: counts.failing,
      lag: lagSeconds(dispatch.oldestWaitingDue, now),
      instance_id: deps.instanceId,
      version: deps.version,
      database: deps.database,
      state,
      // While loading, every job in memory came from the table (the API refuses changes until ready).
      loaded_jobs: state === 'loading' ? counts.total : deps.progress.loaded,
      // Rows counted when loading began: with loaded_jobs, how far boot has come.
      expected_jobs: expected,
      write_backs_pending: counts.writeBacksPending,
      uptime: (deps.clock.monotonic() - deps.startedAt) / 1000,
      // The jobs above are this server's shards'; the others' are on their servers.
      ...deps.cluster(),
    };
  });
}
