/**
 * A typed client for Dalga's HTTP API, exported as `dalga/client`.
 *
 * Standalone on purpose: global fetch (Node >= 18, browsers, Deno, Bun) and no imports, so it
 * pulls none of the server's dependencies into an application that only schedules jobs.
 *
 *   const dalga = new DalgaClient({ baseUrl: 'http://127.0.0.1:34006' }); // token: '...' if [listen] token is set
 *   await dalga.schedule('check_feed', '1234', { interval: 60 });
 *   for await (const job of dalga.list({ path: 'check_' })) console.log(job.path, job.next_run);
 *
 * Errors: every non-2xx answer throws a DalgaError carrying the HTTP status and the server's
 * message; a network failure or a timeout throws a DalgaError with status 0. The one exception is
 * get(): an unknown job is an ordinary answer to "is it there?", so get() returns null on 404.
 */

/** A job as the API returns it (keys in the API's order). */
export interface DalgaJob {
  path: string;
  body: string;
  /** Seconds when given as whole seconds, else the ISO 8601 duration as given; 0 for one-off and cron jobs. */
  interval: number | string;
  /** RFC 3339 (UTC); null while disabled. */
  next_run: string | null;
  /** The body again, for clients of the original API. */
  job: string;
  cron: string | null;
  location: string;
  one_off: boolean;
  enabled: boolean;
  /** The regular slot the next run serves (Dalga-Sched). */
  next_sched: string;
  /** The job's first slot: an interval job's slots are anchor + k x interval. */
  anchor: string;
  attempts: number;
  last_run: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

/** GET /status. */
export interface DalgaStatus {
  total_jobs: number;
  pending_jobs: number;
  running_jobs: number;
  disabled_jobs: number;
  /** Jobs whose last callback attempt failed. */
  failing_jobs: number;
  /** Seconds since the oldest pending job was due; 0 if none. */
  lag: number;
  instance_id: string;
  version: string;
  database: 'mysql' | 'sqlite';
  /** loading: joining the cluster and loading its first shards; suspended: the shard leases cannot be renewed (database unreachable). */
  state: 'loading' | 'ready' | 'suspended' | 'stopping';
  loaded_jobs: number;
  expected_jobs: number | null;
  write_backs_pending: number;
  uptime: number;
  /** The table's shards and this server's; the job counts above are this server's shards'. */
  shards: { total: number; owned: number[]; loading: number[]; releasing: number[] };
  /** The live servers on the table (by heartbeat), with the shards each holds. */
  instances: { id: string; address: string; shards: number }[];
}

/** The body of a non-2xx answer from Dalga. */
interface DalgaErrorBody {
  error: string;
}

/** A time given as a Date or as RFC 3339 text. */
export type DalgaTime = Date | string;

interface ScheduleCommon {
  /** IANA time zone for calendar units and cron; default UTC. */
  location?: string;
}

/** A periodic job: exactly one of interval and cron. */
export type PeriodicSchedule = ScheduleCommon & {
  oneOff?: false;
  /** First run at this time (instead of one interval from now). */
  firstRun?: DalgaTime;
  /** Run at once, then on the schedule. */
  immediate?: boolean;
} & (
    | { /** Seconds, or an ISO 8601 duration ("PT1H30M", "P1D"). */ interval: number | string; cron?: undefined }
    | { /** 5 fields, or 6 with seconds first. */ cron: string; interval?: undefined }
  );

/** A one-off job: runs once, at exactly one of: after `interval`, at `firstRun`, or `immediate`ly. */
export type OneOffSchedule = ScheduleCommon & { oneOff: true; cron?: undefined } & (
    | { interval: number | string; firstRun?: undefined; immediate?: undefined }
    | { firstRun: DalgaTime; interval?: undefined; immediate?: undefined }
    | { immediate: true; interval?: undefined; firstRun?: undefined }
  );

export type ScheduleOptions = PeriodicSchedule | OneOffSchedule;

export interface ListOptions {
  /** Only jobs whose path starts with this prefix. */
  path?: string;
  /** Only failing jobs (their last attempt failed), or only disabled ones. */
  status?: 'failing' | 'disabled';
  /** Jobs per request (page size, 1..1000; the server's default is 100). The iterator still yields every job. */
  limit?: number;
}

export interface DalgaClientOptions {
  /** Where Dalga listens, e.g. http://127.0.0.1:34006 (a path prefix is kept). */
  baseUrl: string;
  /** Per-request timeout, ms. Default 10,000. */
  timeoutMs?: number;
  /** The server's [listen] token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A fetch to use instead of the global one (tests, instrumentation). */
  fetch?: typeof fetch;
}

/** A failed call: the HTTP status (0 when no answer came) and the server's error message. */
export class DalgaError extends Error {
  override name = 'DalgaError';

  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface JobPage {
  jobs: DalgaJob[];
  next_cursor: string | null;
}

/** One callback attempt, as the run history keeps it (times RFC 3339, UTC). */
export interface DalgaRun {
  /** The slot served (Dalga-Sched). */
  sched: string;
  /** Dalga-Attempt: 1 for the slot's first try. */
  attempt: number;
  /** The server that made the callback. */
  instance: string;
  started_at: string;
  finished_at: string;
  /** HTTP status; null when there was no answer. */
  status: number | null;
  error: string | null;
}

/** A page of a job's run history, newest first. */
export interface RunPage {
  runs: DalgaRun[];
  /** Pass as `cursor` for the next (older) page; null on the last. */
  next_cursor: string | null;
}

type Query = Record<string, string | undefined>;

export class DalgaClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(options: DalgaClientOptions) {
    const url = new URL(options.baseUrl); // throws early on a malformed base URL
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
  }

  /** PUT: creates the job or replaces the schedule of an existing (path, body). */
  schedule(path: string, body: string, options: ScheduleOptions): Promise<DalgaJob> {
    return this.call<DalgaJob>('PUT', jobPath(path, body), scheduleQuery(options));
  }

  /** The job, or null if there is none. */
  async get(path: string, body: string): Promise<DalgaJob | null> {
    try {
      return await this.call<DalgaJob>('GET', jobPath(path, body));
    } catch (error) {
      if (error instanceof DalgaError && error.status === 404) return null;
      throw error;
    }
  }

  /** DELETE: idempotent, also when there is no such job. */
  async cancel(path: string, body: string): Promise<void> {
    await this.call<void>('DELETE', jobPath(path, body));
  }

  /** Runs the job now; a periodic job then continues on its schedule. 404 and 409 throw. */
  trigger(path: string, body: string): Promise<DalgaJob> {
    return this.call<DalgaJob>('POST', jobPath(path, body));
  }

  disable(path: string, body: string): Promise<DalgaJob> {
    return this.call<DalgaJob>('PATCH', jobPath(path, body), { disable: 'true' });
  }

  enable(path: string, body: string): Promise<DalgaJob> {
    return this.call<DalgaJob>('PATCH', jobPath(path, body), { enable: 'true' });
  }

  /**
   * The job's next regular slots (RFC 3339), soonest first: `count` of them (1..100, default 5);
   * a one-off job has one. An unknown job throws a DalgaError with status 404.
   */
  async slots(path: string, body: string, count?: number): Promise<string[]> {
    const answer = await this.call<{ slots: string[] }>('GET', `${jobPath(path, body)}/slots`, {
      count: count === undefined ? undefined : String(count),
    });
    return answer.slots;
  }

  /** A page of the job's run history, newest first (`cursor`: the previous page's next_cursor). */
  runs(path: string, body: string, options: { limit?: number; cursor?: string } = {}): Promise<RunPage> {
    return this.call<RunPage>('GET', `${jobPath(path, body)}/runs`, {
      limit: options.limit === undefined ? undefined : String(options.limit),
      cursor: options.cursor,
    });
  }

  /** Every job (optionally under a path prefix, or only failing or disabled ones), in (path, body) order, fetched a page at a time. */
  async *list(options: ListOptions = {}): AsyncGenerator<DalgaJob, void, undefined> {
    let cursor: string | undefined;
    do {
      const page: JobPage = await this.call<JobPage>('GET', '/jobs', {
        path: options.path,
        status: options.status,
        limit: options.limit === undefined ? undefined : String(options.limit),
        cursor,
      });
      yield* page.jobs;
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
  }

  status(): Promise<DalgaStatus> {
    return this.call<DalgaStatus>('GET', '/status');
  }

  private async call<T>(method: string, path: string, query: Query = {}): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(url, { method, headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const reason = timedOut ? `no answer within ${this.timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new DalgaError(0, `${method} ${url.pathname}: ${reason}`, { cause: error });
    }
    if (!response.ok) throw new DalgaError(response.status, errorMessage(text, response));
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** Each of path and body is exactly one URL segment: encodeURIComponent also encodes "/" as %2F. */
function jobPath(path: string, body: string): string {
  return `/jobs/${encodeURIComponent(path)}/${encodeURIComponent(body)}`;
}

function timeText(time: DalgaTime): string {
  return time instanceof Date ? time.toISOString() : time;
}

function scheduleQuery(options: ScheduleOptions): Query {
  return {
    interval: options.interval === undefined ? undefined : String(options.interval),
    cron: options.cron,
    'one-off': options.oneOff ? 'true' : undefined,
    'first-run': options.firstRun === undefined ? undefined : timeText(options.firstRun),
    immediate: options.immediate ? 'true' : undefined,
    location: options.location,
  };
}

/** The server's `{"error": "..."}`, or the status line when the answer is not Dalga's JSON (a proxy's page). */
function errorMessage(text: string, response: Response): string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof (parsed as Partial<Record<keyof DalgaErrorBody, unknown>>).error === 'string') {
      return (parsed as DalgaErrorBody).error;
    }
  } catch {
    // not JSON
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}
