import type { Clock } from '../clock.js';
import type { RunTicket } from '../jobs/job-service.js';
import type { RunResult } from '../jobs/run-outcome.js';
import type { CallbackRequest, CallbackResponse } from './callback.js';

/** What the dispatcher needs from the jobs side. */
export interface RunSource {
  startRun(id: number): RunTicket | null;
  finishRun(ticket: RunTicket, result: RunResult): Promise<void>;
}

export interface CallbackSender {
  post(request: CallbackRequest): Promise<CallbackResponse>;
}

export interface DispatcherOptions {
  runs: RunSource;
  callbacks: CallbackSender;
  clock: Clock;
  /** At most this many callbacks in flight. */
  maxRunning: number;
  /** Whether callbacks may start now (this server holds the table's lease). Default: always. */
  mayStart?: () => boolean;
  onRun?: (ticket: RunTicket, result: RunResult) => void;
}

export interface DispatcherStats {
  running: number;
  waiting: number;
  /** When the oldest waiting key became due, or null. */
  oldestWaitingDue: number | null;
}

/**
 * Turns wheel expirations into callbacks: keys wait in due order, at most `maxRunning` run at
 * once, and each run ends with its outcome written through the RunSource. A key that is no longer
 * runnable when its turn comes (deleted, rescheduled, disabled, already running) is skipped.
 */
export class Dispatcher {
  /** Waiting jobs (by number) with their due time; a Map keeps arrival (= due) order. */
  private readonly waiting = new Map<number, number>();
  /** Callbacks whose HTTP answer has not come yet: what max_running bounds. */
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Outcomes being written. They no longer hold a max_running slot (the endpoint has answered);
   * the key stays "running" in the JobService until written, so at most one per job.
   */
  private readonly writeBacks = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: DispatcherOptions) {}

  /** Jobs (by number) that came due, in due order, with their due times (wall ms, for lag) in parallel. */
  enqueue(ids: readonly number[], dues: readonly number[]): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!this.waiting.has(id)) this.waiting.set(id, dues[i]);
      // Start the first callbacks of a large batch before queueing the rest of it.
      if (this.inFlight.size < this.options.maxRunning) this.pump();
    }
  }

  stats(): DispatcherStats {
    const first = this.waiting.values().next();
    return { running: this.inFlight.size, waiting: this.waiting.size, oldestWaitingDue: first.done ? null : first.value };
  }

  /** Starts the waiting callbacks that mayStart() held back. */
  resume(): void {
    this.pump();
  }

  /** Stops starting callbacks and waits (at most timeoutMs) for those in flight and their write-backs. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    let timer: unknown;
    const timedOut = new Promise<false>((resolve) => {
      timer = this.options.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const done = Promise.all([...this.inFlight])
      .then(() => Promise.all([...this.writeBacks]))
      .then(() => true as const);
    const finished = await Promise.race([done, timedOut]);
    this.options.clock.clearTimeout(timer);
    return finished;
  }

  private pump(): void {
    const mayStart = this.options.mayStart ?? (() => true);
    while (!this.stopped && this.inFlight.size < this.options.maxRunning && this.waiting.size > 0 && mayStart()) {
      const id = this.waiting.keys().next().value as number;
      this.waiting.delete(id);
      const ticket = this.options.runs.startRun(id);
      if (ticket === null) continue;
      const run = this.run(ticket).finally(() => {
        this.inFlight.delete(run);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async run(ticket: RunTicket): Promise<void> {
    const { clock, callbacks, runs } = this.options;
    const startedAt = clock.now();
    let response: CallbackResponse;
    try {
      response = await callbacks.post({
        path: ticket.job.path,
        body: ticket.job.body,
        sched: ticket.sched,
        attempt: ticket.attempt,
      });
    } catch (error) {
      response = { status: null, error: (error as Error).message };
    }
    const result: RunResult = { ...response, startedAt, finishedAt: clock.now() };
    this.options.onRun?.(ticket, result);
    // Written in batches with other outcomes (JobService); metrics count them there, per statement.
    const writeBack = runs.finishRun(ticket, result).then(() => {
      this.writeBacks.delete(writeBack);
    });
    this.writeBacks.add(writeBack);
  }
}
