import type { Clock } from './clock.js';
import type { Config } from './config/config.js';
import { CallbackClient } from './dispatch/callback.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { splitJobKey } from './jobs/job-key.js';
import { JobService } from './jobs/job-service.js';
import type { JobStore } from './store/job-store.js';
import { FailureLog } from './log/failure-log.js';
import type { Logger } from './log/logger.js';
import type { Metrics } from './metrics/metrics.js';
import type { WriteFence } from './store/write-fence.js';
import { TimingWheel } from './wheel/timing-wheel.js';
import { WheelTimer } from './wheel/wheel-timer.js';

export interface SchedulerOptions {
  config: Config;
  log: Logger;
  clock: Clock;
  store: JobStore;
  metrics: Metrics;
  instanceId: string;
  /** This term's claim to the table (Lease.fence()): every write is fenced with it. */
  fence: WriteFence;
  /** Whether this server holds the table's lease now: nothing fires or is written otherwise. */
  isActive: () => boolean;
  /** A write found that another server took over: this term is over. */
  onFenced: () => void;
  /** A run's outcome could not be written (it is retried); the database may be gone. */
  onWriteBackFailed: (error: unknown) => void;
}

/**
 * The jobs in memory and what fires them, for one term as the active server: the wheel and its
 * timer, the job service (write-through to the database) and the dispatcher (callbacks). A new
 * term (this server took the lease) starts from a fresh Scheduler loaded from the database; a
 * term that ended because another server took over is abandoned with everything in it.
 */
export class Scheduler {
  readonly timer: WheelTimer<number>;
  readonly service: JobService;
  readonly dispatcher: Dispatcher;
  private readonly callbacks: CallbackClient;
  private loadedAll = false;
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
      fence: options.fence,
      onFenced: options.onFenced,
      timer: this.timer,
      clock,
      policy: { ...config.jobs, random: Math.random },
      mayWrite: options.isActive,
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
      mayStart: options.isActive,
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

  /** Whether every row is in memory (the API may serve jobs). */
  get loaded(): boolean {
    return this.loadedAll;
  }

  /** Loads every row into memory and the wheel, then fires (unless suspended meanwhile). */
  async load(): Promise<number> {
    const count = await this.service.load();
    this.loadedAll = true;
    if (!this.suspended) this.timer.start();
    return count;
  }

  /** The lease could not be renewed in time: fire nothing until it is. */
  suspend(): void {
    this.suspended = true;
    this.timer.stop();
  }

  /** The lease was renewed with nobody else active meanwhile: memory is still right; fire what came due. */
  resume(): void {
    this.suspended = false;
    if (!this.loadedAll) return; // load() starts the timer
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

  /** Another server took over: stop firing and writing at once; callbacks in flight end unrecorded. */
  abandon(): void {
    this.timer.stop();
    this.service.abandon();
    void this.dispatcher.drain(0);
    this.callbacks.close();
  }
}
