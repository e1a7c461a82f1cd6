import type Router from '@koa/router';
import type { Clock } from '../../clock.js';
import type { Dispatcher } from '../../dispatch/dispatcher.js';
import { lagSeconds } from '../../dispatch/lag.js';
import type { JobService } from '../../jobs/job-service.js';
import type { LoadProgress } from '../../load-progress.js';

export interface StatusDeps {
  /** The jobs in memory, or null on a standby. */
  scheduler: () => { service: JobService; dispatcher: Dispatcher } | null;
  /** Instance id of the server holding the table's lease (null when nobody does). */
  activeInstance: () => Promise<string | null>;
  clock: Clock;
  instanceId: string;
  version: string;
  database: 'mysql' | 'sqlite';
  /** Monotonic time at start (for uptime). */
  startedAt: number;
  progress: LoadProgress;
}

const NO_JOBS = { total: 0, disabled: 0, failing: 0, writeBacksPending: 0 };
const NO_DISPATCH = { running: 0, waiting: 0, oldestWaitingDue: null };

/** GET /status: the counts an operator looks at first, and this server's role. */
export function statusRoutes(router: Router, deps: StatusDeps): void {
  router.get('/status', async (ctx) => {
    const now = deps.clock.now();
    const scheduler = deps.scheduler();
    const counts = scheduler?.service.counts() ?? NO_JOBS;
    const dispatch = scheduler?.dispatcher.stats() ?? NO_DISPATCH;
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
      role: state === 'standby' ? 'standby' : 'active',
      // Who fires the jobs: this server when active, another one when this is a standby.
      active_instance: await deps.activeInstance().catch(() => null),
      // While loading, every job in memory came from the table (the API refuses changes until ready).
      loaded_jobs: state === 'loading' ? counts.total : deps.progress.loaded,
      // Rows counted when loading began: with loaded_jobs, how far boot has come.
      expected_jobs: expected,
      write_backs_pending: counts.writeBacksPending,
      uptime: (deps.clock.monotonic() - deps.startedAt) / 1000,
    };
  });
}
