import type { Clock } from './clock.js';
import type { Config } from './config/config.js';
import { CallbackClient } from './dispatch/callback.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { splitJobKey } from './jobs/job-key.js';
import { JobService, type ShardGate } from './jobs/job-service.js';
import type { JobStore } from './store/job-store.js';
import { FailureLog } from './log/failure-log.js';
import type { Logger } from './log/logger.js';
import type { Metrics } from './metrics/metrics.js';
import { TimingWheel } from './wheel/timing-wheel.js';
import { WheelTimer } from './wheel/wheel-timer.js';

export interface SchedulerOptions {
  config: Config;
  log: Logger;
  clock: Clock;
  store: JobStore;
  metrics: Metrics;
  instanceId: string;
  /** The shards this server owns (ShardOwnership): every write is fenced with their claims. */
  gate: ShardGate;
  /** Whether this server trusts its shard leases now: nothing starts otherwise. */
  mayStart: () => boolean;
  /** A run's outcome could not be written (it is retried); the database may be gone. */
  onWriteBackFailed: (error: unknown) => void;
}

/**
 * The jobs in memory and what fires them: the wheel and its timer, the job service (write-through
 * to the database, the jobs of the shards this server owns) and the dispatcher (callbacks).
 * Shards come and go (loadShards, and the service's dropShards and releaseShards); the wheel
 * starts turning once the first shards are loaded.
 */
export class Scheduler {
  readonly timer: WheelTimer<number>;
  readonly service: JobService;
  readonly dispatcher: Dispatcher;
  private readonly callbacks: CallbackClient;
  private started = false;
  private suspended = false;

  constructor(options: SchedulerOptions) {
    const { config, log, clock, metrics } = options;
    const failures = new FailureLog({ log, now: () => clock.now() });
    this.timer = new WheelTimer(new TimingWheel<number>(clock.now()), clock, (keys, dues) => this.dispatcher.enqueue(keys, dues), {
      onClockStep: (stepMs) => {
        log.warn(
          { step_ms: Math.round(stepMs) },
          stepMs > 0
            ? 'the wall clock stepped forward: jobs due by it run now'
            : 'the wall clock stepped back: jobs waiting out an interval or a retry keep their remaining wait; calendar and cron schedules keep their wall time',
        );
        this.service.followClockStepBack(stepMs);
      },
    });
    this.callbacks = new CallbackClient({
      baseUrl: config.endpoint.baseUrl,
      timeoutMs: config.endpoint.timeoutMs,
      instanceId: options.instanceId,
      maxSockets: config.jobs.maxRunning,
      secret: config.endpoint.secret,
      now: () => clock.now(),
    });
    this.service = new JobService({
      store: options.store,
      gate: options.gate,
      timer: this.timer,
      clock,
      policy: { ...config.jobs, random: Math.random },
      onWriteBackError: (key, error) => {
        log.warn({ job: splitJobKey(key), err: (error as Error).message }, 'writing a run outcome failed; will retry');
        options.onWriteBackFailed(error);
      },
      onWriteBackBatch: (rows) => metrics.observeWriteBack(rows),
      onOutcome: (seen) => failures.outcome(seen),
      history: config.jobs.history,
      instanceId: options.instanceId,
    });
    this.dispatcher = new Dispatcher({
      runs: this.service,
      callbacks: this.callbacks,
      clock,
      maxRunning: config.jobs.maxRunning,
      mayStart: options.mayStart,
      onRun: (ticket, result) => {
        metrics.observeCallback(result);
        log.debug(
          {
            job: { path: ticket.job.path, body: ticket.job.body },
            attempt: ticket.attempt,
            status: result.status,
            error: result.error,
            ms: result.finishedAt - result.startedAt,
          },
          'callback',
        );
      },
    });
  }

  /** Loads the rows of shards just taken (all of them: the whole table), then fires them (unless suspended). */
  async loadShards(shards: readonly number[], all: boolean): Promise<number> {
    const count = await this.service.loadShards(shards, all);
    if (!this.started) {
      this.started = true;
      if (!this.suspended) this.timer.start();
    }
    return count;
  }

  /** The leases could not be renewed in time: fire nothing until they are. */
  suspend(): void {
    this.suspended = true;
    this.timer.stop();
  }

  /** The leases were renewed: shards lost meanwhile have been dropped; fire what came due. */
  resume(): void {
    this.suspended = false;
    if (!this.started) return; // loadShards() starts the timer
    this.timer.start();
    this.dispatcher.resume();
  }

  /** Graceful stop: fire nothing more; wait (at most timeoutMs) for callbacks in flight and their write-backs. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.timer.stop();
    const drained = await this.dispatcher.drain(timeoutMs);
    this.callbacks.close();
    return drained;
  }
}
