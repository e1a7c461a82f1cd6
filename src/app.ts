import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type Router from '@koa/router';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from './clock.js';
import { MysqlShardLeases } from './cluster/mysql-shard-leases.js';
import type { ShardLeases } from './cluster/shard-leases.js';
import { ShardOwnership } from './cluster/shard-ownership.js';
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
import { requestForwarding } from './http/request-forwarder.js';
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
/** A shard lease's length: the others take a dead server's shards at most this long (plus a round) after it died. */
const LEASE_MS = 2_500;
/** How long a forwarded request may take at its shard's owner (its own database timeout is 10 s). */
const FORWARD_TIMEOUT_MS = 15_000;

/**
 * The composition root: builds every part, starts them in order and stops them in reverse.
 *
 * start: database -> table check -> HTTP -> the first ownership round: the shards this server
 *        takes (all of them when it is alone; none yet when it joins a running cluster) are
 *        loaded into the Scheduler -> fire (ready). From then on every round rebalances: shards
 *        taken are loaded, shards lost are dropped at once, shards handed over are drained first
 *        (see ShardOwnership). Job requests for another server's shard are forwarded to it.
 * stop:  stop accepting requests -> leave the cluster (heartbeat gone: the others stop assigning
 *        shards here) -> drain callbacks in flight and their write-backs (bounded by the endpoint
 *        timeout) -> release every shard -> close the database.
 */
export class Dalga {
  readonly instanceId: string;
  private server: http.Server | null = null;
  private ownership: ShardOwnership | null = null;
  private readonly scheduler: Scheduler;
  private firstLoad = true;
  private started = false;
  private stopping = false;
  private suspended = false;
  private readonly progress: LoadProgress;

  private constructor(
    private readonly options: DalgaOptions,
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    const { log } = options;
    this.instanceId = options.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const ownership = () => this.ownership as ShardOwnership;
    this.scheduler = new Scheduler({
      ...options,
      clock,
      store,
      metrics,
      instanceId: this.instanceId,
      gate: {
        map: store.shards,
        mayWrite: (shard) => ownership().mayWrite(shard),
        fence: (shards) => ownership().fence(shards),
        onFenced: () => {
          log.info('a write found that another Dalga server took one of its shards over; reading the leases again');
          ownership().refresh();
        },
      },
      mayStart: () => ownership().valid(),
      onWriteBackFailed: (error) => {
        if (!(error instanceof NotActiveError)) ownership().distrust();
      },
    });
    const dalga = this;
    this.progress = {
      get state(): ServerState {
        return dalga.state;
      },
      loaded: 0,
      expected: null,
    };
    const scheduler = this.scheduler;
    metrics.readFrom({
      jobs: () => scheduler.service.counts(),
      wheelLevels: () => scheduler.timer.wheel.stats().levels,
      dispatch: () => scheduler.dispatcher.stats(),
      lagSeconds: () => lagSeconds(scheduler.dispatcher.stats().oldestWaitingDue ?? null, clock.now()),
      loaded: () => this.state === 'ready',
      ownedShards: () => this.ownership?.heldShards().length ?? 0,
    });
  }

  /** Opens the database, listens, and joins the servers on the table (alone, it holds every shard). */
  static async start(options: DalgaOptions): Promise<Dalga> {
    const { config, log } = options;
    const clock = options.clock ?? systemClock;
    const metrics = new Metrics();
    let store: JobStore;
    try {
      store = await JobStore.open(config.database, { onStatement: metrics.observeStatement, shards: config.cluster.shards });
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
        // Never as a side effect of starting: servers of two releases may share the table.
        const missing = [...(schema.history ? [] : ['its migration history']), ...schema.pending].join(', ');
        throw new TableOutdatedError(
          `table ${config.database.db}.${config.database.table} needs an upgrade (missing ${missing}): run "dalga -config <file> -create-table"`,
        );
      }
      dalga = new Dalga(options, store, clock, metrics);
      await dalga.listen();
      await dalga.join();
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
    if (!this.started) return 'loading';
    return this.suspended ? 'suspended' : 'ready';
  }

  /** The shards held and the cluster as the last round saw it (for /status). */
  cluster(): ClusterStatus {
    const ownership = this.ownership;
    const owners = ownership?.view.owners ?? [];
    const held = ownership?.heldShards() ?? [];
    const service = this.scheduler.service;
    const perOwner = new Map<string, number>();
    for (const owner of owners) if (owner !== null) perOwner.set(owner, (perOwner.get(owner) ?? 0) + 1);
    return {
      shards: {
        total: this.store.shards.count,
        owned: held,
        loading: service.shardsIn('loading'),
        releasing: service.shardsIn('releasing'),
      },
      instances: (ownership?.view.instances ?? []).map((instance) => ({
        id: instance.id,
        address: instance.address,
        shards: perOwner.get(instance.id) ?? 0,
      })),
    };
  }

  /** The address the others forward to: `[cluster] advertise`, else the listen address (this host's name for a wildcard). */
  private advertised(): string {
    const { cluster, listen } = this.options.config;
    if (cluster.advertise !== '') return cluster.advertise;
    const host = listen.host === '0.0.0.0' || listen.host === '::' ? hostname() : listen.host;
    return `${host.includes(':') ? `[${host}]` : host}:${this.address.port}`;
  }

  /** The first ownership round, and the loads of what it took; then the rounds go on by themselves. */
  private async join(): Promise<void> {
    const { config, log } = this.options;
    const shards = this.store.shards.count;
    const leases: ShardLeases =
      config.database.kind === 'mysql'
        ? new MysqlShardLeases(config.database, { instanceId: this.instanceId, address: this.advertised(), leaseMs: LEASE_MS })
        : new SqliteProcessLock(`${config.database.file}.server-lock`, this.instanceId, shards);
    const service = this.scheduler.service;
    this.ownership = new ShardOwnership({
      leases,
      instanceId: this.instanceId,
      shards,
      clock: this.clock,
      leaseMs: LEASE_MS,
      owner: {
        acquired: (taken) => this.load(taken),
        lost: (lost) => {
          log.warn({ shards: lost.length }, 'shards taken over by another Dalga server (this one could not renew them in time); dropped their jobs');
          service.dropShards(lost);
        },
        release: async (released) => {
          log.info({ shards: released.length }, 'handing shards over to another Dalga server');
          await service.releaseShards(released);
        },
      },
      onValidity: (valid) => {
        if (this.suspended === !valid) return;
        this.suspended = !valid;
        if (valid) {
          log.info('resumed: shard leases renewed');
          this.scheduler.resume();
        } else {
          log.warn('suspended: cannot renew the shard leases; firing and writing nothing until they are renewed');
          this.scheduler.suspend();
        }
      },
      onHandoff: this.metrics.observeHandoff,
      onError: (error) => log.debug({ err: (error as Error).message }, 'shard lease statement failed'),
    });
    const settled = this.ownership.settled();
    await this.ownership.start();
    await settled;
  }

  /** Loads shards just taken; the first load (at start) reports its progress. */
  private async load(shards: readonly number[]): Promise<void> {
    const { log } = this.options;
    const all = shards.length === this.store.shards.count;
    const service = this.scheduler.service;
    if (!this.firstLoad) {
      const started = this.clock.monotonic();
      const jobs = await this.scheduler.loadShards(shards, all);
      log.info({ shards: shards.length, jobs, ms: Math.round(this.clock.monotonic() - started) }, 'took shards over; loaded their jobs');
      return;
    }
    this.firstLoad = false;
    const started = this.clock.monotonic();
    this.progress.loaded = 0;
    this.progress.expected = null;
    // Counted beside the load, not before it: a full scan of a large table costs as much as a
    // good part of the load, and the count is only for the progress percentage.
    void this.store.count().then(
      (count) => {
        const expected = all ? count : Math.round((count * shards.length) / this.store.shards.count);
        this.progress.expected = expected;
        service.reserve(expected);
      },
      () => {},
    );
    let lastReport = started;
    const report = () => {
      const loaded = service.counts().total;
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
      await this.scheduler.loadShards(shards, all);
    } finally {
      this.clock.clearTimeout(ticker);
    }
    this.progress.loaded = service.counts().total;
    log.info(
      {
        jobs: this.progress.loaded,
        ms: Math.round(this.clock.monotonic() - started),
        shards: shards.length,
        database: describe(this.options.config.database),
      },
      'ready',
    );
  }

  private async listen(): Promise<void> {
    const { config, log } = this.options;
    const version = packageVersion();
    const dalga = this;
    const { service } = this.scheduler;
    const addRoutes = (router: Router) => {
      jobsRoutes(router, { service, store: this.store, progress: this.progress });
      jobSlotsRoutes(router, {
        service,
        progress: this.progress,
        clock: this.clock,
        fixedIntervals: config.jobs.fixedIntervals,
      });
      statusRoutes(router, {
        scheduler: () => dalga.scheduler,
        cluster: () => dalga.cluster(),
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
      beforeBody: requestForwarding({
        instanceId: this.instanceId,
        shardOf: (path, body) => (this.state === 'ready' ? service.shardStateOf(path, body) : null),
        ownerOf: (shard) => {
          const owner = this.ownership?.view.owners[shard];
          const instance = owner ? this.ownership?.view.instances.find((live) => live.id === owner) : undefined;
          return instance ? { id: instance.id, address: instance.address } : null;
        },
        timeoutMs: FORWARD_TIMEOUT_MS,
        onForward: this.metrics.observeForward,
      }),
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

  /** Graceful stop; safe to call more than once. */
  async stop(): Promise<void> {
    const { config, log } = this.options;
    if (this.stopping) return;
    this.stopping = true;
    const server = this.server;
    const closed = server ? new Promise((resolve) => server.close(resolve)) : Promise.resolve();
    server?.closeIdleConnections();
    await this.ownership?.leave();
    const drained = await this.scheduler.drain(config.endpoint.timeoutMs + 2_000);
    if (!drained) log.warn('callbacks still in flight at shutdown; they will run again after restart');
    server?.closeAllConnections();
    await closed;
    // After the drain: outcomes are written before another server may load the shards.
    await this.ownership?.stop().catch(() => {});
    await this.store.close();
    this.metrics.close();
    if (this.started) log.info('stopped'); // a start that failed says why instead (cli.ts)
  }
}

/** /status's view of the cluster. */
export interface ClusterStatus {
  shards: { total: number; owned: number[]; loading: number[]; releasing: number[] };
  instances: { id: string; address: string; shards: number }[];
}
