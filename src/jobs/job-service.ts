import type { Clock } from '../clock.js';
import type { WheelTimer } from '../wheel/wheel-timer.js';
import { disableJob, enableJob, putJob, triggerJob } from './job-changes.js';
import type { JobSpec } from './job-spec.js';
import { jobKey, splitJobKey } from './job-key.js';
import { JobTable } from './job-table.js';
import { afterClockStepBack } from './clock-step.js';
import { mergeOutcome } from './outcome-merge.js';
import { servedSlot, type Job } from './job.js';
import type { JobStore } from '../store/job-store.js';
import { JobWriter } from './job-writer.js';
import { KeyQueue } from './key-queue.js';
import type { OutcomePolicy, RunResult } from './run-outcome.js';
import { FencedError, StoreUncertainError, StoreUnavailableError } from '../store/store-errors.js';
import type { WriteFence } from '../store/write-fence.js';
import type { ShardMap } from '../cluster/shard-map.js';
import { ShardStates, type ShardState } from './shard-states.js';
import type { OutcomeSeen } from '../log/failure-log.js';
import type { RunRecord } from './run-record.js';

/**
 * The write-through coordinator between the database (the truth) and memory (the wheel and the
 * job table, a copy of the whole jobs table, see JobTable).
 *
 * Invariants:
 * - Every change of a key runs in that key's KeyQueue slot: database first; memory only after the
 *   commit. A failed commit throws and leaves memory untouched. Writes of different keys share
 *   multi-row statements (JobWriter, group commit); each still waits for its own row's commit.
 * - A key is in exactly one place: the wheel (enabled, waiting), running (a callback in flight or
 *   its outcome not yet written), or neither (disabled). Never two callbacks for one key.
 * - Memory holds the jobs of the shards this server owns (ShardStates): a shard's rows are loaded
 *   when it is taken, and its jobs leave memory at once when it is lost, or once its callbacks in
 *   flight and their outcomes are done when it is handed over. Work begun for a shard's earlier
 *   stay in memory (its generation) changes nothing after it left.
 * - Every write is fenced by the claims to its rows' shards (WriteFence), checked by the database
 *   in the write's own transaction: once another server has taken a shard over, no write of this
 *   one to it can commit (FencedError). So a committed write is in the table the next owner loads,
 *   and may be acknowledged. gate.mayWrite() (this server still trusts its lease on the shard)
 *   only saves sending writes that would be refused.
 * - A write whose outcome is unknown (timeout, connection lost after sending: StoreUncertainError)
 *   makes its key uncertain. An uncertain key does not fire, and before anything else happens to
 *   it (and in the background) its row is read back and memory follows the database.
 * - A job is taken off the wheel to run only when it is due by the wall clock: after the wall
 *   clock stepped back, the wheel hands out jobs early (WheelTime), and they go back on it.
 * - Every API change bumps the key's version. A run's outcome carries the version it started
 *   with; what it may change after a PUT, PATCH, POST or DELETE during its flight is one pure
 *   function (mergeOutcome): it never overwrites a new schedule and never brings back a deleted job.
 * - A finished run goes into the run history with its outcome, in the same statement batch.
 */

/** A callback about to be made: what to send, and the version to check the outcome against. */
export interface RunTicket {
  key: string;
  job: Job;
  version: number;
  /** Dalga-Sched: the slot served. */
  sched: number;
  /** Dalga-Attempt: 1 for the first try of the slot. */
  attempt: number;
  /** JobService.clockStepsBack when the run started: a step during the run moves its next slot too. */
  clockStepsBack: number;
  shard: number;
  /** The shard's generation when the run started: its outcome is dropped if the shard left memory meanwhile. */
  generation: number;
}

export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
}

export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

/** This server may not write now (it does not hold the job's shard, or cannot confirm it still does). */
export class NotActiveError extends StoreUnavailableError {
  override name = 'NotActiveError';
}

/** The job's shard is not served here now: it is another server's, or between owners (loading, being handed over). */
export class ShardNotHereError extends StoreUnavailableError {
  override name = 'ShardNotHereError';
  constructor(
    readonly shard: number,
    readonly state: ShardState,
  ) {
    super(
      state === 'absent'
        ? `shard ${shard} is another server's`
        : `shard ${shard} is ${state === 'loading' ? 'being loaded' : 'being handed over to another server'}; try again`,
    );
  }
}

/** What the service needs from shard ownership (ShardOwnership). */
export interface ShardGate {
  readonly map: ShardMap;
  /** Whether this server holds the shard and trusts its lease on it now: writes to its rows may be sent. */
  mayWrite(shard: number): boolean;
  /** The claim a write touching these shards is fenced with. */
  fence(shards: readonly number[]): WriteFence;
  /** A write found a shard's epoch moved: the leases must be read again now. */
  onFenced(): void;
}

export interface JobServiceOptions {
  store: JobStore;
  /** The shards this server owns: every write commits only while its shards' claims are current. */
  gate: ShardGate;
  timer: WheelTimer<number>;
  clock: Clock;
  policy: OutcomePolicy;
  /** Delay before retrying an outcome write-back that failed (database down). Default 1 s, doubling to 30 s. */
  writeBackRetryMs?: number;
  onWriteBackError?: (key: string, error: unknown) => void;
  /** Told the number of run outcomes of every write-back statement that committed (for metrics). */
  onWriteBackBatch?: (rows: number) => void;
  /** Told each run outcome once it is written (for the failure log). */
  onOutcome?: (seen: OutcomeSeen) => void;
  /** Runs kept per job in the run history; 0 (the default) writes none. */
  history?: number;
  /** Who makes the callbacks, as the run history records it. */
  instanceId?: string;
}

export class JobService {
  private readonly table = new JobTable();
  private readonly queue = new KeyQueue();
  private readonly store: JobStore;
  /** API changes (PUT, DELETE, POST, PATCH). */
  private readonly writes: JobWriter;
  /** Run outcomes: their own batches, so a burst of outcomes never queues a PUT behind it. */
  private readonly outcomes: JobWriter;
  private readonly timer: WheelTimer<number>;
  private readonly clock: Clock;
  private readonly policy: OutcomePolicy;
  private readonly writeBackRetryMs: number;
  private readonly onWriteBackError: (key: string, error: unknown) => void;
  private readonly gate: ShardGate;
  private readonly shards: ShardStates;
  private readonly onOutcome: (seen: OutcomeSeen) => void;
  private readonly history: number;
  private readonly instanceId: string;
  private pendingWriteBacks = 0;
  private disabledCount = 0;
  /** Jobs whose last attempt failed (attempts > 0). */
  private failingCount = 0;
  /** Keys whose last API write timed out: the database may or may not have it. */
  private readonly uncertain = new Set<string>();
  private reconciling: unknown = null;
  /** Keys that came due while their shard was loading (the API and firing wait for it to be ready). */
  private readonly dueWhileLoading = new Set<string>();
  /** Keys whose callback is in flight or whose outcome is not yet written; outlives a DELETE. */
  private readonly running = new Set<string>();
  /** The wall clock's backward steps so far, in ms (<= 0). */
  private clockStepsBack = 0;

  constructor(options: JobServiceOptions) {
    this.store = options.store;
    this.gate = options.gate;
    this.shards = new ShardStates(options.gate.map);
    const fenceOf = (keys: readonly { path: string; body: string }[]) =>
      this.gate.fence([...new Set(keys.map((key) => this.gate.map.of(key.path, key.body)))]);
    this.writes = new JobWriter(options.store, fenceOf);
    this.outcomes = new JobWriter(options.store, fenceOf, { onBatch: options.onWriteBackBatch });
    this.timer = options.timer;
    this.clock = options.clock;
    this.policy = options.policy;
    this.writeBackRetryMs = options.writeBackRetryMs ?? 1_000;
    this.onWriteBackError = options.onWriteBackError ?? (() => {});
    this.onOutcome = options.onOutcome ?? (() => {});
    this.history = options.history ?? 0;
    this.instanceId = options.instanceId ?? '';
  }

  /**
   * Loads the rows of shards this server just took into memory and onto the wheel (`all`: it owns
   * every shard, the whole table is read). Their jobs are served once loaded; a shard lost
   * meanwhile is dropped again.
   */
  async loadShards(shards: readonly number[], all = false): Promise<number> {
    const generations = new Map(shards.map((shard) => [shard, this.shards.generation(shard)]));
    for (const shard of shards) this.shards.set(shard, 'loading');
    const stillLoading = (shard: number) => this.shards.generation(shard) === generations.get(shard);
    try {
      // A row's shard is computed only once a shard was dropped during the load (rare; a hash per row is not free).
      const drops = this.shards.drops;
      return await this.store.loadShards(all ? null : shards, (job) => {
        if (this.shards.drops === drops || stillLoading(this.gate.map.of(job.path, job.body))) this.loadJob(job);
      });
    } catch (error) {
      this.dropShards(shards.filter(stillLoading)); // taken again, a later round loads it afresh
      throw error;
    } finally {
      for (const shard of shards) if (stillLoading(shard)) this.shards.set(shard, 'ready');
      this.placeDueWhileLoading();
    }
  }

  /** Puts back on the wheel the jobs that came due while their shard was loading (those of shards loaded by now). */
  private placeDueWhileLoading(): void {
    for (const key of this.dueWhileLoading) {
      const state = this.shards.state(this.shards.ofKey(key));
      if (state === 'loading') continue; // another load, still running
      this.dueWhileLoading.delete(key);
      const id = this.table.idOf(key);
      if (state === 'ready' && id !== undefined) this.place(id);
    }
  }

  /** Shards lost to another server: their jobs leave memory at once; work in flight for them ends unrecorded. */
  dropShards(shards: readonly number[]): void {
    if (shards.length === 0) return;
    const dropped = new Set(shards);
    for (const shard of dropped) this.shards.set(shard, 'absent');
    const inDropped = (key: string) => dropped.has(this.shards.ofKey(key));
    for (const id of this.table.jobIds()) {
      const key = this.table.keyOf(id) as string;
      if (inDropped(key)) this.forget(key);
    }
    for (const key of this.running) if (inDropped(key)) this.running.delete(key);
    for (const key of this.uncertain) if (inDropped(key)) this.uncertain.delete(key);
  }

  /**
   * Hands shards over: nothing of theirs starts or is accepted from now on; once their callbacks
   * in flight have ended and their outcomes and API writes are committed, their jobs leave memory.
   * Resolves then (or when the shards were lost meanwhile), before the leases are released.
   */
  async releaseShards(shards: readonly number[]): Promise<void> {
    const generations = shards.map((shard) => this.shards.generation(shard));
    for (const shard of shards) if (this.shards.state(shard) !== 'absent') this.shards.set(shard, 'releasing');
    await Promise.all(shards.map((shard) => this.shards.idle(shard)));
    this.dropShards(shards.filter((shard, i) => this.shards.generation(shard) === generations[i]));
  }

  /** Whether the API serves this job here now (see ShardState). */
  shardStateOf(path: string, body: string): { shard: number; state: ShardState } {
    const shard = this.gate.map.of(path, body);
    return { shard, state: this.shards.state(shard) };
  }

  /** The shards in a state (for /status). */
  shardsIn(state: ShardState): number[] {
    return this.shards.inState(state);
  }

  /** Makes room for `jobs` jobs in memory and on the wheel (the row count, while loading). */
  reserve(jobs: number): void {
    this.table.reserve(jobs);
    this.timer.wheel.reserve(jobs);
  }

  get(path: string, body: string): Job | undefined {
    return this.jobOf(jobKey(path, body));
  }

  /** A job's number: its key on the wheel, what startRun takes. */
  idOf(path: string, body: string): number | undefined {
    return this.table.idOf(jobKey(path, body));
  }

  /** The key a wheel timer names. */
  keyOf(id: number): string | undefined {
    return this.table.keyOf(id);
  }

  counts(): { total: number; disabled: number; failing: number; running: number; writeBacksPending: number } {
    return {
      total: this.table.size,
      disabled: this.disabledCount,
      failing: this.failingCount,
      running: this.running.size,
      writeBacksPending: this.pendingWriteBacks,
    };
  }

  /** PUT: create or replace. Keeps created_at and the last run's record of a replaced job. */
  schedule(path: string, body: string, spec: JobSpec): Promise<Job> {
    return this.change(path, body, async (key, written) => {
      const job = putJob(path, body, spec, this.jobOf(key), this.now());
      if (await written(() => this.writes.upsert(job))) this.commit(key, job);
      return job;
    });
  }

  /** DELETE: idempotent. */
  remove(path: string, body: string): Promise<void> {
    return this.change(path, body, async (key, written) => {
      if (await written(() => this.writes.delete(path, body))) this.forget(key);
    });
  }

  /** POST: run now (see triggerJob). */
  trigger(path: string, body: string): Promise<Job> {
    return this.change(path, body, async (key, written) => {
      const current = this.existing(key);
      if (this.running.has(key)) throw new JobConflictError('job is running now; trigger it again when it has finished');
      if (current.nextRun === null) throw new JobConflictError('job is disabled; enable it before triggering');
      const job = triggerJob(current, this.now());
      if (await written(() => this.writes.upsert(job))) this.commit(key, job);
      return job;
    });
  }

  /** PATCH: a disabled job never fires; enabling follows the original Dalga (see enableJob). */
  setEnabled(path: string, body: string, enabled: boolean): Promise<Job> {
    return this.change(path, body, async (key, written) => {
      const current = this.existing(key);
      if ((current.nextRun !== null) === enabled) return current;
      const now = this.now();
      const job = enabled ? enableJob(current, now, this.policy) : disableJob(current, now);
      if (await written(() => this.writes.upsert(job))) this.commit(key, job);
      return job;
    });
  }

  /**
   * An API change of one key, in its KeyQueue slot, while its shard is served here. `written`
   * sends the write once this server may (a refusal before it means nothing was sent), awaits it,
   * and says whether memory may follow: false when the shard left memory meanwhile (the write is in
   * the table, which the next owner reads).
   */
  private change<T>(
    path: string,
    body: string,
    apply: (key: string, written: (write: () => Promise<unknown>) => Promise<boolean>) => Promise<T>,
  ): Promise<T> {
    const key = jobKey(path, body);
    return this.queue.run(key, async () => {
      const shard = this.assertServed(key);
      await this.settle(key);
      const generation = this.shards.begin(shard);
      try {
        return await apply(key, async (write) => {
          // Checked before the write is handed to the batcher: a refusal here must mean nothing was sent.
          this.assertMayWrite(shard);
          await this.written(key, write());
          return this.shards.generation(shard) === generation;
        });
      } finally {
        this.shards.end(shard, generation);
      }
    });
  }

  /**
   * Called by the dispatcher when a key's time has come. Returns null when there is nothing to
   * run any more (deleted, disabled, moved to the future by an API change, or already running).
   */
  startRun(id: number): RunTicket | null {
    const key = this.table.keyOf(id);
    if (key === undefined || this.running.has(key) || this.uncertain.has(key)) return null;
    const shard = this.shards.ofKey(key);
    const state = this.shards.state(shard);
    if (state !== 'ready') {
      // Off the wheel now: a job of a shard still loading goes back on it once the shard is ready;
      // one being handed over leaves memory soon.
      if (state === 'loading') this.dueWhileLoading.add(key);
      return null;
    }
    const nextRun = this.table.nextRun(id);
    if (nextRun === null) return null;
    if (nextRun > this.clock.now()) {
      this.place(id); // handed out early (the wall clock stepped back): not due yet
      return null;
    }
    this.unplace(id);
    this.running.add(key);
    const job = this.table.get(id);
    return {
      key,
      job,
      version: this.table.version(id),
      sched: servedSlot(job),
      attempt: job.attempts + 1,
      clockStepsBack: this.clockStepsBack,
      shard,
      generation: this.shards.begin(shard),
    };
  }

  /**
   * Writes a run's outcome and puts the job back on the wheel. If the database is down, the outcome
   * is kept and retried until it lands; the job stays "running" meanwhile so it cannot fire again.
   * Resolves once the outcome is written (or found overtaken by an API change).
   */
  async finishRun(ticket: RunTicket, result: RunResult): Promise<void> {
    let delay = this.writeBackRetryMs;
    this.pendingWriteBacks++;
    try {
      for (;;) {
        // The shard left memory: its next owner loaded the job as it was and runs the slot again.
        if (this.stale(ticket)) return;
        try {
          await this.queue.run(ticket.key, async () => {
            if (this.stale(ticket)) return;
            this.assertMayWrite(ticket.shard);
            await this.writeBack(ticket, result);
          });
          return;
        } catch (error) {
          if (error instanceof FencedError) this.gate.onFenced();
          else this.onWriteBackError(ticket.key, error);
          await new Promise((resolve) => this.clock.setTimeout(() => resolve(undefined), delay));
          delay = Math.min(delay * 2, 30_000);
        }
      }
    } finally {
      this.pendingWriteBacks--;
    }
  }

  /** Throws (leaving the key running) when the database write fails. */
  private async writeBack(ticket: RunTicket, result: RunResult): Promise<void> {
    this.timer.observeClock(); // a step the run's end time may already show is handled first
    // The job's number may have been freed (DELETE) and reused meanwhile: go by the key.
    const id = this.table.idOf(ticket.key);
    let seen: OutcomeSeen = { key: ticket.key, job: ticket.job, attempt: ticket.attempt, result, kind: 'gone', wasEnabled: false, after: null };
    if (id !== undefined) {
      const wasEnabled = this.table.nextRun(id) !== null;
      const stepped = this.clockStepsBack - ticket.clockStepsBack;
      const merge = mergeOutcome(ticket.job, this.table.get(id), this.table.version(id) !== ticket.version, result, this.policy, stepped);
      const run = this.runRecord(ticket, result);
      if (merge.kind === 'record-last-run') {
        const { path, body, lastRun, lastStatus, lastError } = merge.job;
        await this.outcomes.recordLastRun({ path, body, lastRun, lastStatus, lastError }, run);
        this.setJob(id, merge.job);
        this.ranOnce(id);
      } else if (merge.kind === 'delete') {
        await this.outcomes.delete(ticket.job.path, ticket.job.body); // and its history
        this.forget(ticket.key);
      } else if (await this.outcomes.update(merge.job, run)) {
        this.setJob(id, merge.job);
        this.ranOnce(id);
      } else {
        this.forget(ticket.key); // the row is gone from under us: memory follows the database
      }
      seen = { ...seen, kind: merge.kind, wasEnabled, after: merge.kind === 'update' ? merge.job : null };
    } // else: deleted while running, and it stays deleted
    this.running.delete(ticket.key);
    this.shards.end(ticket.shard, ticket.generation);
    const current = this.table.idOf(ticket.key);
    if (current !== undefined) this.place(current);
    this.onOutcome(seen);
  }

  private stale(ticket: RunTicket): boolean {
    return this.shards.generation(ticket.shard) !== ticket.generation;
  }

  /** The run for the history, unless it is kept off. */
  private runRecord(ticket: RunTicket, result: RunResult): RunRecord | null {
    if (this.history === 0) return null;
    const { path, body } = ticket.job;
    const { startedAt, finishedAt, status, error } = result;
    return { path, body, sched: ticket.sched, attempt: ticket.attempt, instance: this.instanceId, startedAt, finishedAt, status, error };
  }

  /**
   * A run went into the job's history. Once as many again as are kept have gone in, the old ones
   * are pruned in one statement (batched with other jobs'): a history holds at most twice
   * `history` runs (plus what a restart found there, until the first prune), and no write scans it.
   */
  private ranOnce(id: number): void {
    if (this.history === 0 || this.table.countRun(id) < this.history) return;
    this.table.pruned(id);
    const { path, body } = splitJobKey(this.table.keyOf(id) as string);
    this.outcomes.pruneRuns({ path, body }, this.history).catch((error: unknown) => this.onWriteBackError(jobKey(path, body), error));
  }

  /**
   * The wall clock stepped back by -stepMs (see afterClockStepBack): jobs waiting out an elapsed
   * time keep their remaining wait. Memory moves at once (the wheel keeps each such job's
   * monotonic deadline); each row follows in the background, in its key's turn, unless the job has
   * changed meanwhile. A row that cannot be written now is rewritten whole by the job's next outcome.
   */
  followClockStepBack(stepMs: number): void {
    if (!(stepMs < 0)) return;
    this.clockStepsBack += stepMs;
    const now = this.clock.now();
    for (const id of this.table.jobIds()) {
      const key = this.table.keyOf(id) as string;
      const nextRun = this.table.nextRun(id);
      if (this.running.has(key) || this.uncertain.has(key) || nextRun === null || nextRun <= now) continue;
      const moved = afterClockStepBack(this.table.get(id), stepMs);
      if (moved === null) continue;
      this.setJob(id, moved);
      this.place(id);
      const version = this.table.version(id);
      void this.queue
        .run(key, async () => {
          // Written unless an API change or an outcome replaced the job meanwhile.
          if (this.table.idOf(key) !== id || this.table.version(id) !== version || !this.gate.mayWrite(this.shards.ofKey(key))) return;
          const current = this.table.get(id);
          if (current.nextRun !== moved.nextRun || current.nextSched !== moved.nextSched) return;
          await this.outcomes.update(moved);
        })
        .catch((error: unknown) => this.onWriteBackError(key, error));
    }
  }

  /**
   * The wall clock, once a step it may show has been handled (followClockStepBack moves only
   * jobs whose times were computed before the step).
   */
  private now(): number {
    this.timer.observeClock();
    return this.clock.now();
  }

  /** Drops a deleted job from memory. A callback in flight for it stays counted until it ends. */
  private forget(key: string): void {
    const id = this.table.idOf(key);
    if (id === undefined) return;
    if (this.table.nextRun(id) === null) this.disabledCount--;
    if (this.table.attemptsOf(id) > 0) this.failingCount--;
    this.unplace(id);
    this.table.delete(id);
  }

  private setJob(id: number, job: Job): void {
    this.disabledCount += Number(job.nextRun === null) - Number(this.table.nextRun(id) === null);
    this.failingCount += Number(job.attempts > 0) - Number(this.table.attemptsOf(id) > 0);
    this.table.set(id, job);
  }

  private jobOf(key: string): Job | undefined {
    const id = this.table.idOf(key);
    return id === undefined ? undefined : this.table.get(id);
  }

  /** Awaits an API write; one whose outcome is unknown leaves its key uncertain. */
  private async written(key: string, write: Promise<unknown>): Promise<void> {
    try {
      await write;
    } catch (error) {
      if (error instanceof StoreUncertainError) {
        this.uncertain.add(key);
        this.reconcileSoon();
      } else if (error instanceof FencedError) {
        this.gate.onFenced();
      }
      throw error;
    }
  }

  /** Makes memory follow the database for an uncertain key (in its KeyQueue slot). Throws while the database cannot say. */
  private async settle(key: string): Promise<void> {
    if (!this.uncertain.has(key)) return;
    const { path, body } = splitJobKey(key);
    const row = await this.store.get(path, body);
    this.uncertain.delete(key);
    if (row === null) this.forget(key);
    else this.commit(key, row);
  }

  /** Settles every uncertain key, once a second until the database answers. */
  private reconcileSoon(): void {
    if (this.reconciling !== null) return;
    this.reconciling = this.clock.setTimeout(() => {
      void Promise.all([...this.uncertain].map((key) => this.queue.run(key, () => this.settle(key)).catch(() => {}))).then(() => {
        this.reconciling = null;
        if (this.uncertain.size > 0) this.reconcileSoon();
      });
    }, 1_000);
  }

  /** The key's shard, if the API serves it here now. */
  private assertServed(key: string): number {
    const shard = this.shards.ofKey(key);
    const state = this.shards.state(shard);
    if (state !== 'ready') throw new ShardNotHereError(shard, state);
    return shard;
  }

  private assertMayWrite(shard: number): void {
    if (!this.gate.mayWrite(shard)) {
      throw new NotActiveError(`cannot confirm this server still holds shard ${shard} (the database is unreachable, or the shard moved)`);
    }
  }

  private existing(key: string): Job {
    const job = this.jobOf(key);
    if (!job) throw new JobNotFoundError('job not found');
    return job;
  }

  /**
   * commit() for one loaded row, minus what cannot apply at boot: nothing runs yet, and every key
   * is new (the table's primary key compares byte for byte, as the job table does), so there is
   * no lookup before the add (a lookup of a freshly built key string cost a quarter of the boot).
   */
  private loadJob(job: Job): void {
    const id = this.table.add(job);
    if (job.attempts > 0) this.failingCount++;
    if (job.nextRun === null) this.disabledCount++;
    else this.table.setTimer(id, this.timer.place(-1, id, job.nextRun));
  }

  /** Memory after a committed API change: new version; back on the wheel unless it is running. */
  private commit(key: string, job: Job): void {
    let id = this.table.idOf(key);
    if (id !== undefined) {
      this.setJob(id, job);
      this.table.bumpVersion(id);
    } else {
      id = this.table.add(job);
      if (job.nextRun === null) this.disabledCount++;
      if (job.attempts > 0) this.failingCount++;
    }
    this.place(id);
  }

  private place(id: number): void {
    if (this.running.has(this.table.keyOf(id) as string)) return; // its outcome puts it back
    const nextRun = this.table.nextRun(id);
    if (nextRun === null) this.unplace(id);
    else this.table.setTimer(id, this.timer.place(this.table.timer(id), id, nextRun));
  }

  private unplace(id: number): void {
    this.timer.remove(this.table.timer(id), id);
    this.table.setTimer(id, -1);
  }
}
