import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type Router from '@koa/router';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config/config.js';
import { CallbackClient } from './dispatch/callback.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { lagSeconds } from './dispatch/lag.js';
import { createHttpApp } from './http/http-app.js';
import { debugPageRoutes } from './http/routes/debug-page.js';
import { debugRoutes } from './http/routes/debug.js';
import { healthRoutes } from './http/routes/health.js';
import { jobsRoutes } from './http/routes/jobs.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { openApiRoutes } from './http/routes/openapi.js';
import { statusRoutes } from './http/routes/status.js';
import { acquireInstanceLock, type InstanceLock } from './jobs/instance-lock.js';
import { splitJobKey } from './jobs/job-key.js';
import { JobService } from './jobs/job-service.js';
import { describe, JobStore, TableMissingError } from './jobs/job-store.js';
import type { LoadProgress } from './load-progress.js';
import type { Logger } from './log/logger.js';
import { Metrics } from './metrics/metrics.js';
import { packageVersion } from './version.js';
import { TimingWheel } from './wheel/timing-wheel.js';
import { WheelTimer } from './wheel/wheel-timer.js';

export interface DalgaOptions {
  config: Config;
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: hostname-pid-random. */
  instanceId?: string;
}

/** How often boot logs its progress while loading a large table: under 2 s even with timer and page jitter. */
const PROGRESS_EVERY_MS = 1_500;
/** How often the loading ticker looks at the count (for /status and the progress line). */
const PROGRESS_TICK_MS = 250;

/**
 * The composition root: builds every part, starts them in order and stops them in reverse.
 *
 * start: database -> table check -> instance lock -> HTTP (job routes answer 503 while loading)
 *        -> load every row into the wheel -> arm the wheel's timer -> ready.
 * stop:  stop accepting requests -> disarm the timer -> wait for callbacks in flight and their
 *        write-backs (bounded by the endpoint timeout) -> release the lock -> close the database.
 */
export class Dalga {
  readonly instanceId: string;
  private readonly loading: LoadProgress = { state: 'loading', loaded: 0, expected: null };
  private server: http.Server | null = null;
  private lock: InstanceLock | null = null;
  private readonly timer: WheelTimer<string>;
  private readonly dispatcher: Dispatcher;
  private readonly callbacks: CallbackClient;
  private readonly service: JobService;

  private constructor(
    private readonly options: DalgaOptions,
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    const { config, log } = options;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const wheel = new TimingWheel<string>(clock.now());
    this.timer = new WheelTimer(wheel, clock, (keys) => this.dispatcher.enqueue(keys));
    this.callbacks = new CallbackClient({
      baseUrl: config.endpoint.baseUrl,
      timeoutMs: config.endpoint.timeoutMs,
      instanceId: this.instanceId,
      maxSockets: config.jobs.maxRunning,
      secret: config.endpoint.secret,
      now: () => clock.now(),
    });
    this.service = new JobService({
      store,
      timer: this.timer,
      clock,
      policy: { ...config.jobs, random: Math.random },
      onWriteBackError: (key, error) =>
        log.warn({ job: splitJobKey(key), err: (error as Error).message }, 'writing a run outcome failed; will retry'),
      onWriteBackBatch: (rows) => metrics.observeWriteBack(rows),
    });
    this.dispatcher = new Dispatcher({
      runs: this.service,
      callbacks: this.callbacks,
      clock,
      maxRunning: config.jobs.maxRunning,
      dueOf: (key) => this.service.getByKey(key)?.nextRun,
      onRun: (ticket, result) => {
        metrics.observeCallback(result);
        log.debug(
          { job: { path: ticket.job.path, body: ticket.job.body }, attempt: ticket.attempt, status: result.status, error: result.error, ms: result.finishedAt - result.startedAt },
          'callback',
        );
      },
    });
    metrics.readFrom({
      jobs: () => this.service.counts(),
      wheelLevels: () => this.timer.wheel.stats().levels,
      dispatch: () => this.dispatcher.stats(),
      lagSeconds: () => lagSeconds(this.dispatcher.stats().oldestWaitingDue, clock.now()),
      loaded: () => this.loading.state === 'ready',
    });
  }

  /** Opens the database, takes the table's lock, listens, loads every job, and starts firing. */
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
      if (config.database.kind === 'sqlite') {
        if (await store.createTable()) log.info({ database: describe(config.database) }, 'created the jobs table');
      } else if (!(await store.tableExists())) {
        throw new TableMissingError(
          `table ${config.database.db}.${config.database.table} does not exist: create it with "dalga -config <file> -create-table"`,
        );
      }
      dalga = new Dalga(options, store, clock, metrics);
      dalga.lock = await acquireInstanceLock(store);
      await dalga.listen();
      await dalga.load();
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

  private async listen(): Promise<void> {
    const { config, log } = this.options;
    const version = packageVersion();
    const addRoutes = (router: Router) => {
      jobsRoutes(router, {
        service: this.service,
        store: this.store,
        unavailable: () =>
          this.loading.state === 'ready' ? null : `server is ${this.loading.state}: ${this.loading.loaded} jobs loaded so far`,
      });
      statusRoutes(router, {
        service: this.service,
        dispatcher: this.dispatcher,
        clock: this.clock,
        instanceId: this.instanceId,
        version,
        database: config.database.kind,
        startedAt: this.clock.now(),
        loading: this.loading,
      });
      healthRoutes(router, { loading: this.loading, pingDatabase: () => this.store.ping() });
      if (config.listen.debug) {
        debugRoutes(router, { timer: this.timer, dispatcher: this.dispatcher, service: this.service, clock: this.clock });
        debugPageRoutes(router);
      }
      metricsRoutes(router, { metrics: this.metrics });
      openApiRoutes(router, { version });
    };
    const app = createHttpApp(log, addRoutes, {
      onRequest: this.metrics.observeRequest,
      token: config.listen.token || undefined,
    });
    const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 16_384 }, app.callback());
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    log.info({ address: `http://${config.listen.host}:${this.address.port}`, instance: this.instanceId }, 'listening');
  }

  private async load(): Promise<void> {
    const { log } = this.options;
    const started = this.clock.now();
    this.loading.expected = await this.store.count();
    let lastReport = started;
    // Jobs in memory = rows loaded so far: nothing else adds jobs before the state is 'ready'.
    const progress = () => {
      const loaded = this.service.counts().total;
      this.loading.loaded = loaded;
      const now = this.clock.now();
      if (now - lastReport < PROGRESS_EVERY_MS) return;
      lastReport = now;
      const expected = this.loading.expected;
      const percent = expected ? Math.min(100, Math.round((loaded / expected) * 1000) / 10) : null;
      const rate = Math.round(loaded / Math.max(0.001, (now - started) / 1000));
      log.info({ loaded, expected, percent, rate }, 'loading jobs');
    };
    let ticker: unknown;
    const tick = () => {
      progress();
      ticker = this.clock.setTimeout(tick, PROGRESS_TICK_MS);
    };
    ticker = this.clock.setTimeout(tick, PROGRESS_TICK_MS);
    try {
      await this.service.load();
    } finally {
      this.clock.clearTimeout(ticker);
    }
    this.loading.loaded = this.service.counts().total;
    this.loading.state = 'ready';
    this.timer.start();
    log.info({ jobs: this.loading.loaded, ms: this.clock.now() - started, database: describe(this.options.config.database) }, 'ready');
  }

  /** Graceful stop; safe to call more than once. */
  async stop(): Promise<void> {
    const { config, log } = this.options;
    if (this.loading.state === 'stopping') return;
    this.loading.state = 'stopping';
    const server = this.server;
    const closed = server ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
    server?.closeIdleConnections();
    this.timer.stop();
    const drained = await this.dispatcher.drain(config.endpoint.timeoutMs + 2_000);
    if (!drained) log.warn('callbacks still in flight at shutdown; they will run again after restart');
    server?.closeAllConnections();
    await closed;
    this.callbacks.close();
    await this.lock?.release().catch(() => {});
    await this.store.close();
    this.metrics.close();
    log.info('stopped');
  }
}
