import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestRecord } from '../http/http-app.js';
import type { StatementTiming } from '../store/job-store.js';
import { CALLBACK_OUTCOMES, callbackOutcome } from './callback-outcome.js';

/** What the gauges read at scrape time; everything else is pushed through the observe* methods. */
export interface MetricsSources {
  jobs(): { total: number; disabled: number; failing: number; writeBacksPending: number };
  /** Timers per wheel level (WheelStats.levels). */
  wheelLevels(): readonly { level: number; timers: number }[];
  dispatch(): { running: number; waiting: number };
  /** Seconds since the oldest waiting job was due, 0 if none (the /status lag). */
  lagSeconds(): number;
  /** Whether every job is loaded (the /readyz loading condition). */
  loaded(): boolean;
  /** Shards this server holds. */
  ownedShards(): number;
}

const PREFIX = 'dalga_';
/** Callbacks span a fast local endpoint (ms) to endpoint.timeout (10 s by default, up to an hour). */
const CALLBACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** A healthy database write is well under 10 ms; the top buckets catch a database in trouble (timeout 10 s). */
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 50, 100, 500, 1000];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
/** Event-loop delay sampling resolution (ms): fine enough for a ms-exact scheduler, cheap enough to leave on. */
const EVENT_LOOP_RESOLUTION_MS = 10;

/**
 * Owns one Prometheus registry (per server, never prom-client's global one, so two servers in one
 * process, as in tests, never mix their numbers) and every instrument in it.
 *
 * Gauges that mirror state (jobs, timers per level, in-flight, lag) are read from the sources at
 * scrape time instead of being kept up to date on every change: the hot paths stay untouched and
 * the numbers cannot drift from what /status shows.
 */
export class Metrics {
  readonly registry = new Registry();
  private sources: MetricsSources | null = null;
  private readonly eventLoop: IntervalHistogram;
  private readonly callbacks: Counter<'outcome'>;
  private readonly callbackDuration: Histogram;
  private readonly dbWriteDuration: Histogram<'operation'>;
  private readonly dbErrors: Counter<'operation'>;
  private readonly writeBackBatch: Histogram;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;
  private readonly handoffs: Counter<'kind'>;
  private readonly forwarded: Counter<'outcome'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const eventLoop = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    eventLoop.enable();
    this.eventLoop = eventLoop;

    // A gauge whose value is read from the sources when scraped (nothing is set before readFrom()).
    const readGauge = (name: string, help: string, value: (sources: MetricsSources) => number) => {
      const gauge: Gauge = new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect: () => {
          if (this.sources) gauge.set(value(this.sources));
        },
      });
    };
    readGauge('jobs', "Jobs held in memory (those of this server's shards).", (s) => s.jobs().total);
    readGauge('owned_shards', 'Shards this server holds (their jobs fire here).', (s) => s.ownedShards());
    readGauge('jobs_disabled', 'Jobs disabled (never fire until enabled).', (s) => s.jobs().disabled);
    readGauge('jobs_failing', 'Jobs whose last callback attempt failed.', (s) => s.jobs().failing);
    readGauge(
      'write_backs_pending',
      'Run outcomes not yet written to the database (grows while the database is down).',
      (s) => s.jobs().writeBacksPending,
    );
    readGauge('callbacks_in_flight', 'Callbacks in flight.', (s) => s.dispatch().running);
    readGauge('callbacks_waiting', 'Jobs due but waiting for a free callback slot (max_running).', (s) => s.dispatch().waiting);
    readGauge('lag_seconds', 'Seconds since the oldest waiting job was due (0 when none waits).', (s) => s.lagSeconds());
    readGauge('ready', '1 once every job is loaded and the wheel runs, else 0.', (s) => (s.loaded() ? 1 : 0));

    const timers: Gauge<'level'> = new Gauge({
      name: `${PREFIX}wheel_timers`,
      help: 'Timers held per timing-wheel level (level 0 fires; higher levels hold later timers).',
      labelNames: ['level'] as const,
      registers,
      collect: () => {
        if (!this.sources) return;
        for (const level of this.sources.wheelLevels()) timers.set({ level: String(level.level) }, level.timers);
      },
    });

    // Since the previous scrape: a lifetime histogram would hide a fresh stall behind hours of calm.
    // Both gauges come from one snapshot, taken (and the sampler reset) when the first is collected.
    let loop = { p99: 0, mean: 0 };
    new Gauge({
      name: `${PREFIX}event_loop_delay_p99_seconds`,
      help: '99th percentile of the event-loop delay since the previous scrape.',
      registers,
      collect: function (this: Gauge) {
        // No sample yet (a scrape right after start): 0 rather than NaN.
        // The sampler records the interval between its own timer's runs, i.e. resolution + delay:
        // take the resolution off so an idle loop reads ~0, not 10 ms.
        const delay = (ns: number) => (eventLoop.count > 0 ? Math.max(0, ns / 1e9 - EVENT_LOOP_RESOLUTION_MS / 1000) : 0);
        loop = { p99: delay(eventLoop.percentile(99)), mean: delay(eventLoop.mean) };
        eventLoop.reset();
        this.set(loop.p99);
      },
    });
    new Gauge({
      name: `${PREFIX}event_loop_delay_mean_seconds`,
      help: 'Mean event-loop delay since the previous scrape.',
      registers,
      collect: function (this: Gauge) {
        this.set(loop.mean);
      },
    });

    this.callbacks = new Counter({
      name: `${PREFIX}callbacks_total`,
      help: 'Callbacks made, by outcome: 200 (success), 204 (job deleted as invalid), failure (other status or network error), timeout.',
      labelNames: ['outcome'] as const,
      registers,
    });
    // Every outcome exists from the start, so rate() and alerts work before the first failure.
    for (const outcome of CALLBACK_OUTCOMES) this.callbacks.inc({ outcome }, 0);
    this.callbackDuration = new Histogram({
      name: `${PREFIX}callback_duration_seconds`,
      help: 'Time from sending a callback to its answer, error or timeout.',
      buckets: CALLBACK_BUCKETS,
      registers,
    });
    this.dbWriteDuration = new Histogram({
      name: `${PREFIX}db_write_duration_seconds`,
      help: 'Duration of database writes (upsert, delete, update, record_last_run), failed ones included.',
      labelNames: ['operation'] as const,
      buckets: DB_BUCKETS,
      registers,
    });
    this.dbErrors = new Counter({
      name: `${PREFIX}db_errors_total`,
      help: 'Database statements that failed or timed out, by operation.',
      labelNames: ['operation'] as const,
      registers,
    });
    this.writeBackBatch = new Histogram({
      name: `${PREFIX}write_back_batch_size`,
      help: 'Run outcomes written per database statement (outcomes finishing together share one multi-row statement).',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: `${PREFIX}http_requests_total`,
      help: 'API requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.handoffs = new Counter({
      name: `${PREFIX}shard_handoffs_total`,
      help: 'Shards that moved to or from this server: acquired (taken), released (handed over), lost (taken by another after a lapse).',
      labelNames: ['kind'] as const,
      registers,
    });
    for (const kind of ['acquired', 'released', 'lost']) this.handoffs.inc({ kind }, 0);
    this.forwarded = new Counter({
      name: `${PREFIX}forwarded_requests_total`,
      help: "Job requests forwarded to their shard's owner: answered, or unreachable (answered 503).",
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const outcome of ['answered', 'unreachable']) this.forwarded.inc({ outcome }, 0);
    this.httpDuration = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'API request duration, by method and route pattern.',
      labelNames: ['method', 'route'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    });
  }

  /** Connects the scrape-time gauges to the running server's parts. */
  readFrom(sources: MetricsSources): void {
    this.sources = sources;
  }

  observeCallback(result: { status: number | null; error: string | null; startedAt: number; finishedAt: number }): void {
    this.callbacks.inc({ outcome: callbackOutcome(result) });
    this.callbackDuration.observe(Math.max(0, result.finishedAt - result.startedAt) / 1000);
  }

  readonly observeHandoff = (kind: 'acquired' | 'released' | 'lost', shards: number): void => {
    this.handoffs.inc({ kind }, shards);
  };

  readonly observeForward = (outcome: 'answered' | 'unreachable'): void => {
    this.forwarded.inc({ outcome });
  };

  /** A statement carrying `batchSize` run outcomes has committed. */
  observeWriteBack(batchSize: number): void {
    this.writeBackBatch.observe(batchSize);
  }

  readonly observeStatement = (timing: StatementTiming): void => {
    if (!timing.ok) this.dbErrors.inc({ operation: timing.operation });
    if (timing.write) this.dbWriteDuration.observe({ operation: timing.operation }, timing.ms / 1000);
  };

  readonly observeRequest = (request: RequestRecord): void => {
    this.httpRequests.inc({ method: request.method, route: request.route, status: String(request.status) });
    this.httpDuration.observe({ method: request.method, route: request.route }, request.seconds);
  };

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops the event-loop sampler (the registry itself holds no timers). */
  close(): void {
    this.eventLoop.disable();
  }
}
