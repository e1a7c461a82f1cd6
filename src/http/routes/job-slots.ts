import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../../clock.js';
import { validateBody, validatePath } from '../../jobs/job-key.js';
import { upcomingSlots } from '../../jobs/job-slots.js';
import { formatTime } from '../../jobs/job.js';
import type { JobService } from '../../jobs/job-service.js';
import { unavailableReason, type LoadProgress } from '../../load-progress.js';
import { HttpError } from '../http-error.js';
import { requestParams } from '../request-params.js';

export interface JobSlotsDeps {
  /** Read per request, as for the job routes (a new term brings a new JobService). */
  readonly service: JobService;
  progress: LoadProgress;
  clock: Clock;
  /** [jobs] fixed_intervals: the rule the scheduler computes the following slots by. */
  fixedIntervals: boolean;
}

const DEFAULT_COUNT = 5;
const MAX_COUNT = 100;

/** `/jobs/<path>/<body>/slots`: the two raw segments, each percent-decoded exactly once (as jobs.ts does). */
function jobIdentity(ctx: Context): { path: string; body: string } {
  const segments = ctx.path.slice('/jobs/'.length).split('/');
  const [path, body] = segments.slice(0, 2).map((segment, index) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `${index === 0 ? 'path' : 'body'}: invalid percent-encoding or UTF-8`);
    }
  });
  validatePath(path);
  validateBody(body);
  return { path, body };
}

function slotCount(text: string | undefined): number {
  if (text === undefined) return DEFAULT_COUNT;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_COUNT) {
    throw new HttpError(400, `count: must be a whole number from 1 to ${MAX_COUNT}`);
  }
  return Number(text);
}

/** GET /jobs/<path>/<body>/slots?count=5: the next regular slots of a job in memory (see job-slots.ts). */
export function jobSlotsRoutes(router: Router, deps: JobSlotsDeps): void {
  router.get('/jobs/:path/:body/slots', async (ctx) => {
    const reason = unavailableReason(deps.progress);
    if (reason !== null) throw new HttpError(503, reason);
    const { path, body } = jobIdentity(ctx);
    const count = slotCount(requestParams(ctx, ['count'] as const).count);
    const job = deps.service.get(path, body);
    if (!job) throw new HttpError(404, 'job not found');
    ctx.body = { slots: upcomingSlots(job, count, deps.clock.now(), deps.fixedIntervals).map(formatTime) };
  });
}
