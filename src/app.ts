import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type Router from '@koa/router';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import type { Lease } from './cluster/lease.js';
import { Leadership, type RoleChange } from './cluster/leadership.js';
import { MysqlLease } from './cluster/mysql-lease.js';
import { SqliteProcessLock } from './cluster/sqlite-process-lock.js';
import type { Config } from './config/config.js';
import { lagSeconds } from './dispatch/lag.js';
import { createHttpApp } from './http/http-app.js';
import { debugPageRoutes } from './http/routes/debug-page.js';
import { debugRoutes } from './http/routes/debug.js';
import { consoleRoutes } from './http/routes/console.js';
import { healthRoutes } from './http/routes/health.js';
import { jobSlotsRoutes } from './http/routes/job-slots.js';
import { jobsRoutes } from './http/routes/jobs.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { openApiRoutes } from './http/routes/openapi.js';
import { statusRoutes } from './http/routes/status.js';
import { NotActiveError } from './jobs/job-service.js';
import { describe, JobStore, TableMissingError, TableOutdatedError } from './store/job-store.js';
import type { LoadProgress, ServerState } from './load-progress.js';
import type { Logger } from './log/logger.js';
import { Metrics } from './metrics/metrics.js';
import { Scheduler } from './scheduler.js';
import { packageVersion } from './version.js';

export interface DalgaOptions {
  config: Config;
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: hostname-pid-random. */
  instanceId?: string;
}

/** The API's address cannot be listened on (in use, not allowed): the server cannot start. */
export class ListenError extends Error {
  override name = 'ListenError';
}

/** How often boot logs its progress while loading a large table: under 2 s even with timer and page jitter. */
const PROGRESS_EVERY_MS = 1_500;
/** How often the loading ticker looks at the count (for /status and the progress line). */
const PROGRESS_TICK_MS = 250;
/** The MySQL lease's length: a standby takes over at most this long (plus a poll) after the active server dies. */
const LEASE_MS = 2_500;

/**
 * The composition root: builds every part, starts them in order and stops them in reverse.
 *
 * start: database -> table check -> HTTP -> the table's lease: held -> load every row into a
 *        fresh Scheduler -> fire (ready); held by another server -> standby until it can be taken.
 * The lease decides who fires (see Leadership): on 'suspended' the Scheduler stops firing and
 * writing, on 'resumed' it goes on, on 'lost' it is abandoned, on 'promoted' a new one loads.
 * stop:  stop accepting requests -> drain callbacks in flight and their write-backs (bounded by
 *        the endpoint timeout) -> release the lease -> close the database.
 */
export class Dalga {
  readonly instanceId: string;
  private server: http.Server | null = null;
  private scheduler: Scheduler | null = null;
  private started = false;
  private stopping = false;
  private readonly leadership: Leadership;
  private readonly lease: Lease;
  private readonly progress: LoadProgress;

  private constructor(
    private readonly options: DalgaOptions,
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    const { config, log } = options;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.lease =
      config.database.kind === 'mysql'
        ? new MysqlLease(config.database, { instanceId: this.instanceId, leaseMs: LEASE_MS })
        : new SqliteProcessLock(`${config.database.file}.server-lock`, this.instanceId);
    this.leadership = new Leadership({
      lease: this.lease,
      clock,
      leaseMs: LEASE_MS,
      onChange: (change) => this.onRoleChange(change),
      onError: (error) => log.debug({ err: (error as Error).message }, 'lease statement failed'),
    });
    const dalga = this;
    this.progress = {
      get state(): ServerState {
        return dalga.state;
      },
      loaded: 0,
      expected: null,
    };
    metrics.readFrom({
      jobs: () => this.scheduler?.service.counts() ?? { total: 0, disabled: 0, failing: 0, writeBacksPending: 0 },
      wheelLevels: () => this.scheduler?.timer.wheel.stats().levels ?? [],
      dispatch: () => this.scheduler?.dispatcher.stats() ?? { running: 0, waiting: 0 },
      lagSeconds: () => lagSeconds(this.scheduler?.dispatcher.stats().oldestWaitingDue ?? null, clock.now()),
      loaded: () => this.state === 'ready',
    });
  }

  /** Opens the database, listens, and becomes the active server or a standby. */
  static async start(options: DalgaOptions): Promise<Dalga> {
    const { config, log } = options;
    const clock = options.clock ?? systemClock;
    const metrics = new Metrics();
    let store: JobStore;
    try {
      store = await JobStore.open(config.database, { onStatement: metrics.observeStatement });
    } catch (error) {
      metrics.close();
      throw error;
    }
    let dalga: Dalga | null = null;
    try {
      const schema = await store.schemaState();
      if (config.database.kind === 'sqlite') {
        // One process per file: the server makes (and upgrades) its own table.
        if (schema.kind !== 'current') {
          const { created, migrations } = await store.upgradeSchema();
          log.info({ database: describe(config.database), migrations }, created ? 'created the jobs table' : 'upgraded the jobs table');
        }
      } else if (schema.kind === 'missing') {
        throw new TableMissingError(
          `table ${config.database.db}.${config.database.table} does not exist: create it with "dalga -config <file> -create-table"`,
        );
      } else if (schema.kind === 'outdated') {
        // Never as a side effect of starting: a standby and an active server of two releases may share the table.
        const missing = [...(schema.history ? [] : ['its migration history']), ...schema.pending].join(', ');
        throw new TableOutdatedError(
          `table ${config.database.db}.${config.database.table} needs an upgrade (missing ${missing}): run "dalga -config <file> -create-table"`,
        );
      }
      dalga = new Dalga(options, store, clock, metrics);
      await dalga.listen();
      await dalga.leadership.start();
      if (dalga.leadership.role === 'standby') {
        log.info({ instance: dalga.instanceId }, 'standby: another Dalga server is active on this table; taking over if it stops');
      }
      await dalga.loading;
      dalga.started = true;
      return dalga;
    } catch (error) {
      if (dalga) await dalga.stop();
      else {
        metrics.close();
        await store.close();
      }
      throw error;
    }
  }

  get address(): AddressInfo {
    return this.server?.address() as AddressInfo;
  }

  get state(): ServerState {
    if (this.stopping) return 'stopping';
    const role = this.leadership.role;
    if (role !== 'active') return role;
    return this.scheduler?.loaded ? 'ready' : 'loading';
  }

  /** The current term's load, until it has finished (start() waits for it). */
  private loading: Promise<void> = Promise.resolve();

  private onRoleChange(change: RoleChange): void {
    const { log } = this.options;
    if (change === 'promoted') {
      const scheduler = new Scheduler({
        ...this.options,
        clock: this.clock,
        store: this.store,
        metrics: this.metrics,
        instanceId: this.instanceId,
        fence: this.lease.fence(),
        isActive: () => this.leadership.valid(),
        onWriteBackFailed: (error) => {
          if (!(error instanceof NotActiveError)) this.leadership.distrust();
        },
        onFenced: () => {
          if (this.scheduler !== scheduler) return;
          log.warn('fenced: a write found that another Dalga server took over the jobs table; stepping down');
          void this.leadership.resign();
        },
      });
      this.scheduler = scheduler;
      log.info({ instance: this.instanceId }, 'active: took the lease on the jobs table; loading');
      const loading = this.load(scheduler);
      this.loading = loading;
      loading.catch((error: unknown) => {
        // At start, start() reports the failure; later, a standby that could not load gives the
        // lease back and tries again.
        if (!this.started || this.stopping || this.scheduler !== scheduler) return;
        log.error({ err: (error as Error).message }, 'loading jobs failed; giving the lease up to try again');
        void this.leadership.resign();
      });
    } else if (change === 'suspended') {
      log.warn('suspended: cannot renew the lease on the jobs table; firing and writing nothing until it is renewed');
      this.scheduler?.suspend();
    } else if (change === 'resumed') {
      log.info('resumed: lease renewed; nobody else was active meanwhile');
      this.scheduler?.resume();
    } else {
      log.warn('standby: another Dalga server took over the jobs table; dropping the jobs held in memory');
      this.scheduler?.abandon();
      this.scheduler = null;
    }
  }

  private async listen(): Promise<void> {
    const { config, log } = this.options;
    const version = packageVersion();
    const dalga = this;
    const scheduler = (): Scheduler => {
      if (!this.scheduler) throw new Error('no jobs in memory'); // routes check the state first
      return this.scheduler;
    };
    const addRoutes = (router: Router) => {
      jobsRoutes(router, {
        get service() {
          return scheduler().service;
        },
        store: this.store,
        progress: this.progress,
      });
      jobSlotsRoutes(router, {
        get service() {
          return scheduler().service;
        },
        progress: this.progress,
        clock: this.clock,
        fixedIntervals: config.jobs.fixedIntervals,
      });
      statusRoutes(router, {
        scheduler: () => dalga.scheduler,
        activeInstance: () => (this.leadership.role === 'standby' ? this.lease.holder() : Promise.resolve(this.instanceId)),
        clock: this.clock,
        instanceId: this.instanceId,
        version,
        database: config.database.kind,
        startedAt: this.clock.monotonic(),
        progress: this.progress,
      });
      healthRoutes(router, { progress: this.progress, pingDatabase: () => this.store.ping() });
      if (config.listen.debug) {
        debugRoutes(router, { scheduler: () => (dalga.state === 'ready' ? dalga.scheduler : null), progress: this.progress, clock: this.clock });
        debugPageRoutes(router);
      }
      metricsRoutes(router, { metrics: this.metrics });
      openApiRoutes(router, { version });
      consoleRoutes(router, { debugPage: config.listen.debug });
    };
    const app = createHttpApp(log, addRoutes, {
      onRequest: this.metrics.observeRequest,
      token: config.listen.token || undefined,
    });
    const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16_384 }, app.callback());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'address already in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
        reject(new ListenError(`listen ${config.listen.host}:${config.listen.port}: ${why}`));
      });
      server.listen(config.listen.port, config.listen.host, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    log.info({ address: `http://${config.listen.host}:${this.address.port}`, instance: this.instanceId }, 'listening');
  }

  private async load(scheduler: Scheduler): Promise<void> {
    const { log } = this.options;
    const started = this.clock.monotonic();
    this.progress.loaded = 0;
    this.progress.expected = null;
    // Counted beside the load, not before it: a full scan of a large table costs as much as a
    // good part of the load, and the count is only for the progress percentage.
    void this.store.count().then(
      (count) => {
        if (this.scheduler !== scheduler) return;
        this.progress.expected = count;
        scheduler.service.reserve(count);
      },
      () => {},
    );
    let lastReport = started;
    // Jobs in memory = rows loaded so far: nothing else adds jobs before the state is 'ready'.
    const report = () => {
      const loaded = scheduler.service.counts().total;
      this.progress.loaded = loaded;
      const now = this.clock.monotonic();
      if (now - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = now;
      const expected = this.progress.expected;
      const percent = expected ? Math.min(100, Math.round((loaded / expected) * 1000) / 10) : null; // null until counted
      const rate = Math.round(loaded / Math.max(0.001, (now - started) / 1000));
      log.info({ loaded, expected, percent, rate }, 'loading jobs');
    };
    let ticker: unknown;
    const tick = () => {
      report();
      ticker = this.clock.setTimeout(tick, PROGRESS_TICK_MS);
    };
    ticker = this.clock.setTimeout(tick, PROGRESS_TICK_MS);
    try {
      await scheduler.load();
    } finally {
      this.clock.clearTimeout(ticker);
    }
    if (this.scheduler !== scheduler) return; // another server took over meanwhile
    this.progress.loaded = scheduler.service.counts().total;
    log.info(
      { jobs: this.progress.loaded, ms: Math.round(this.clock.monotonic() - started), database: describe(this.options.config.database) },
      'ready',
    );
  }

  /** Graceful stop; safe to call more than once. */
  async stop(): Promise<void> {
    const { config, log } = this.options;
    if (this.stopping) return;
    this.stopping = true;
    const server = this.server;
    const closed = server ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
    server?.closeIdleConnections();
    const scheduler = this.scheduler;
    if (scheduler) {
      const drained = await scheduler.drain(config.endpoint.timeoutMs + 2_000);
      if (!drained) log.warn('callbacks still in flight at shutdown; they will run again after restart');
    }
    server?.closeAllConnections();
    await closed;
    // After the drain: outcomes are written before a standby may load the table.
    await this.leadership.stop().catch(() => {});
    await this.store.close();
    this.metrics.close();
    if (this.started) log.info('stopped'); // a start that failed says why instead (cli.ts)
  }
}
