import type Router from '@koa/router';
import type { Context } from 'koa';
import { parseJobSpec, PUT_PARAMETERS, parseBoolean } from '../../jobs/job-spec.js';
import { validateBody, validatePath } from '../../jobs/job-key.js';
import { jobJson } from '../../jobs/job.js';
import { runJson } from '../../jobs/run-record.js';
import type { JobService } from '../../jobs/job-service.js';
import type { JobStore } from '../../store/job-store.js';
import { unavailableReason, type LoadProgress } from '../../load-progress.js';
import { HttpError } from '../http-error.js';
import { requestParams } from '../request-params.js';

export interface JobsRouteDeps {
  /** Read per request: a new term as the active server brings a new JobService. */
  readonly service: JobService;
  store: JobStore;
  /** Job routes answer 503 unless the state is ready (standby, loading, suspended, stopping). */
  progress: LoadProgress;
}

const DEFAULT_PAGE = 100;
const DEFAULT_RUNS = 20;
const MAX_PAGE = 1000;

/** `/jobs/<path>/<body>[/<what>]`: exactly two raw segments, each percent-decoded exactly once. */
function jobIdentity(ctx: Context, what = ''): { path: string; body: string } {
  const segments = ctx.path.slice('/jobs/'.length, what ? -what.length - 1 : undefined).split('/');
  if (segments.length !== 2) throw new HttpError(404, `expected /jobs/<path>/<body>${what ? `/${what}` : ''} (encode "/" inside them as %2F)`);
  const [path, body] = segments.map((segment, index) => {
    const name = index === 0 ? 'path' : 'body';
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `${name}: invalid percent-encoding or UTF-8`);
    }
  });
  validatePath(path);
  validateBody(body);
  return { path, body };
}

function encodeCursor(last: { path: string; body: string }): string {
  return Buffer.from(JSON.stringify([last.path, last.body])).toString('base64url');
}

function decodeCursor(cursor: string): { path: string; body: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string')) {
      return { path: value[0] as string, body: value[1] as string };
    }
  } catch {
    // fall through
  }
  throw new HttpError(400, 'cursor: not a cursor returned by GET /jobs');
}

function listStatus(text: string | undefined): 'failing' | 'disabled' | undefined {
  if (text === undefined || text === 'failing' || text === 'disabled') return text;
  throw new HttpError(400, 'status: must be failing or disabled');
}

function decodeRunCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,20}$/.test(id)) throw new HttpError(400, 'cursor: not a cursor returned by GET /jobs/<path>/<body>/runs');
  return id;
}

function pageLimit(text: string | undefined, fallback = DEFAULT_PAGE): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE) {
    throw new HttpError(400, `limit: must be a whole number from 1 to ${MAX_PAGE}`);
  }
  return Number(text);
}

export function jobsRoutes(router: Router, deps: JobsRouteDeps): void {
  const { store } = deps;

  const whenLoaded = async (_ctx: Context, next: () => Promise<unknown>) => {
    const reason = unavailableReason(deps.progress);
    if (reason !== null) throw new HttpError(503, reason);
    await next();
  };

  router.get('/jobs', whenLoaded, async (ctx) => {
    const params = requestParams(ctx, ['path', 'limit', 'cursor', 'status'] as const);
    const limit = pageLimit(params.limit);
    const after = params.cursor ? decodeCursor(params.cursor) : null;
    const page = await store.page({ prefix: params.path, status: listStatus(params.status), after, limit });
    ctx.body = { jobs: page.jobs.map(jobJson), next_cursor: page.last ? encodeCursor(page.last) : null };
  });

  router.put('/jobs/:path/:body', whenLoaded, async (ctx) => {
    const { path, body } = jobIdentity(ctx);
    const spec = parseJobSpec(requestParams(ctx, PUT_PARAMETERS));
    ctx.status = 201;
    ctx.body = jobJson(await deps.service.schedule(path, body, spec));
  });

  router.get('/jobs/:path/:body', whenLoaded, (ctx) => {
    const { path, body } = jobIdentity(ctx);
    const job = deps.service.get(path, body);
    if (!job) throw new HttpError(404, 'job not found');
    ctx.body = jobJson(job);
  });

  // The run history, newest first, paged like the listing (the cursor is opaque).
  router.get('/jobs/:path/:body/runs', whenLoaded, async (ctx) => {
    const { path, body } = jobIdentity(ctx, 'runs');
    const params = requestParams(ctx, ['limit', 'cursor'] as const);
    const limit = pageLimit(params.limit, DEFAULT_RUNS);
    const before = params.cursor === undefined ? null : decodeRunCursor(params.cursor);
    if (!deps.service.get(path, body)) throw new HttpError(404, 'job not found');
    const page = await store.runsOf(path, body, { before, limit });
    ctx.body = { runs: page.runs.map(runJson), next_cursor: page.next === null ? null : Buffer.from(page.next).toString('base64url') };
  });

  router.delete('/jobs/:path/:body', whenLoaded, async (ctx) => {
    const { path, body } = jobIdentity(ctx);
    await deps.service.remove(path, body);
    ctx.status = 204;
  });

  // Trigger. Parameters are ignored: the original README's example sends ?interval=60 along.
  router.post('/jobs/:path/:body', whenLoaded, async (ctx) => {
    const { path, body } = jobIdentity(ctx);
    ctx.body = jobJson(await deps.service.trigger(path, body));
  });

  router.patch('/jobs/:path/:body', whenLoaded, async (ctx) => {
    const { path, body } = jobIdentity(ctx);
    const params = requestParams(ctx, ['disable', 'enable'] as const);
    if ((params.disable === undefined) === (params.enable === undefined)) {
      throw new HttpError(400, 'give exactly one of disable=true or enable=true');
    }
    const enabled = params.enable !== undefined ? parseBoolean('enable', params.enable) : !parseBoolean('disable', params.disable as string);
    ctx.body = jobJson(await deps.service.setEnabled(path, body, enabled));
  });
}
