import { jobKey } from './job-key.js';
import type { Job } from './job.js';
import { KeyIndex } from './key-index.js';
import { ValuePool } from './value-pool.js';

/**
 * Every job in memory, held as columns indexed by a job number, with no object per job at rest:
 * 10 M jobs must fit one process (a Job object, its strings and its Map entry cost ~540 B).
 *
 * Invariants:
 * - A job number names one key from add() until delete(); then the number is reused. Holders of
 *   a number across an await (a callback in flight) must check keyOf() still names their key.
 * - Times are float64 ms (NaN = null), counters int32/int16 (-1 = null). The schedule (interval,
 *   cron, location, one_off) and last_error are interned with reference counts: jobs share a few
 *   distinct values, and a value goes when its last job does.
 * - get() builds a Job object when one is asked for (API, callback, outcome); set() takes it apart.
 * - Per job the table also keeps what the JobService tracks: a version (new on add() and on
 *   every API change, never one the table handed out before, so a run that started before a
 *   DELETE and a new PUT of its key sees that the job changed) and its wheel timer handle (-1: none).
 */

/** The Job fields held as float64 ms, NaN for null. Derived from the Job type: a new time column is one entry here. */
const TIME_FIELDS = [
  'nextRun',
  'nextSched',
  'anchor',
  'pausedRun',
  'triggeredAt',
  'failingSince',
  'lastRun',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof Job)[];
type TimeField = (typeof TIME_FIELDS)[number];

type Schedule = Pick<Job, 'interval' | 'cron' | 'location' | 'oneOff'>;
/** NUL cannot occur in a schedule's texts (refused on input); \u0001 stands for null. */
const scheduleIdentity = (s: Schedule): string => `${s.oneOff ? 1 : 0}\u0000${s.interval ?? '\u0001'}\u0000${s.cron ?? '\u0001'}\u0000${s.location}`;
const sameSchedule = (a: Schedule, b: Schedule): boolean =>
  a.interval === b.interval && a.cron === b.cron && a.location === b.location && a.oneOff === b.oneOff;

const INITIAL_CAPACITY = 1_024;

export class JobTable {
  private readonly keys: (string | undefined)[] = [];
  private readonly ids = new KeyIndex(this.keys);
  private readonly freeIds: number[] = [];
  private readonly schedules = new ValuePool<Schedule>();
  private readonly errors = new ValuePool<string>();
  private capacity = 0;
  private times = {} as Record<TimeField, Float64Array>;
  private scheduleIds = new Int32Array(0);
  private errorIds = new Int32Array(0);
  private attempts = new Int32Array(0);
  private lastStatus = new Int16Array(0);
  /** Float64: 2^53 changes before a version could repeat. */
  private versions = new Float64Array(0);
  private lastVersion = 0;
  private timers = new Int32Array(0);
  /** Runs added to the job's history since it was last pruned (unknown runs before a restart: 0). */
  private unpruned = new Uint16Array(0);

  constructor() {
    this.grow(INITIAL_CAPACITY);
  }

  get size(): number {
    return this.ids.size;
  }

  /** Room for `jobs` jobs at once (a boot that knows its row count): see TimingWheel.reserve. */
  reserve(jobs: number): void {
    if (jobs > this.capacity) this.grow(jobs);
    this.ids.reserve(jobs);
  }

  idOf(key: string): number | undefined {
    return this.ids.get(key);
  }

  keyOf(id: number): string | undefined {
    return this.keys[id];
  }

  /** Adds a job under a new number (version 1, no timer). The key must not be in the table. */
  add(job: Job): number {
    const key = jobKey(job.path, job.body);
    const id = this.freeIds.pop() ?? this.keys.length;
    if (id >= this.capacity) this.grow(this.capacity * 2);
    this.keys[id] = key;
    this.ids.add(key, id);
    this.scheduleIds[id] = this.acquireSchedule(job);
    this.errorIds[id] = job.lastError === null ? -1 : this.acquireError(job.lastError);
    this.writeColumns(id, job);
    this.versions[id] = ++this.lastVersion;
    this.timers[id] = -1;
    this.unpruned[id] = 0;
    return id;
  }

  /** Replaces the job at `id` (same key). */
  set(id: number, job: Job): void {
    if (!sameSchedule(this.schedules.get(this.scheduleIds[id]), job)) {
      const next = this.acquireSchedule(job);
      this.schedules.release(this.scheduleIds[id]);
      this.scheduleIds[id] = next;
    }
    const error = this.errorIds[id];
    if (error === -1 ? job.lastError !== null : this.errors.get(error) !== job.lastError) {
      const next = job.lastError === null ? -1 : this.acquireError(job.lastError);
      if (error !== -1) this.errors.release(error);
      this.errorIds[id] = next;
    }
    this.writeColumns(id, job);
  }

  delete(id: number): void {
    const key = this.keys[id];
    if (key === undefined) return;
    this.ids.delete(key);
    this.keys[id] = undefined;
    this.schedules.release(this.scheduleIds[id]);
    if (this.errorIds[id] !== -1) this.errors.release(this.errorIds[id]);
    this.freeIds.push(id);
  }

  get(id: number): Job {
    const key = this.keys[id] as string;
    const at = key.indexOf('\u0000');
    const schedule = this.schedules.get(this.scheduleIds[id]);
    const t = this.times;
    const status = this.lastStatus[id];
    return {
      path: key.slice(0, at),
      body: key.slice(at + 1),
      interval: schedule.interval,
      cron: schedule.cron,
      location: schedule.location,
      oneOff: schedule.oneOff,
      nextRun: orNull(t.nextRun[id]),
      nextSched: t.nextSched[id],
      anchor: t.anchor[id],
      pausedRun: orNull(t.pausedRun[id]),
      triggeredAt: orNull(t.triggeredAt[id]),
      attempts: this.attempts[id],
      failingSince: orNull(t.failingSince[id]),
      lastRun: orNull(t.lastRun[id]),
      lastStatus: status === -1 ? null : status,
      lastError: this.errorIds[id] === -1 ? null : this.errors.get(this.errorIds[id]),
      createdAt: t.createdAt[id],
      updatedAt: t.updatedAt[id],
    };
  }

  /** When the job fires next, null while disabled: read without building the Job. */
  nextRun(id: number): number | null {
    return orNull(this.times.nextRun[id]);
  }

  /** Consecutive failed attempts: > 0 while the job is failing. */
  attemptsOf(id: number): number {
    return this.attempts[id];
  }

  version(id: number): number {
    return this.versions[id];
  }

  /** A new version for an API change: one no job of this table had before. */
  bumpVersion(id: number): void {
    this.versions[id] = ++this.lastVersion;
  }

  timer(id: number): number {
    return this.timers[id];
  }

  setTimer(id: number, handle: number): void {
    this.timers[id] = handle;
  }

  /** Counts one more run in the job's history; returns how many since it was last pruned. */
  countRun(id: number): number {
    if (this.unpruned[id] < 0xffff) this.unpruned[id]++;
    return this.unpruned[id];
  }

  /** The job's history was pruned. */
  pruned(id: number): void {
    this.unpruned[id] = 0;
  }

  /** Job numbers in use, in no particular order. */
  *jobIds(): IterableIterator<number> {
    yield* this.ids.ids();
  }

  /** Distinct interned values (schedules, error texts), for the debug view. */
  pooled(): { schedules: number; errors: number } {
    return { schedules: this.schedules.size, errors: this.errors.size };
  }

  private acquireSchedule(job: Job): number {
    const { interval, cron, location, oneOff } = job;
    return this.schedules.acquire(scheduleIdentity(job), () => ({ interval, cron, location, oneOff }));
  }

  private acquireError(text: string): number {
    return this.errors.acquire(text, () => text);
  }

  private writeColumns(id: number, job: Job): void {
    for (const field of TIME_FIELDS) this.times[field][id] = job[field] ?? Number.NaN;
    this.attempts[id] = job.attempts;
    this.lastStatus[id] = job.lastStatus ?? -1;
  }

  private grow(capacity: number): void {
    const grown = <A extends Float64Array | Int32Array | Int16Array | Uint16Array>(old: A, make: (n: number) => A): A => {
      const next = make(capacity);
      next.set(old);
      return next;
    };
    const times = {} as Record<TimeField, Float64Array>;
    for (const field of TIME_FIELDS) times[field] = grown(this.times[field] ?? new Float64Array(0), (n) => new Float64Array(n));
    this.times = times;
    this.scheduleIds = grown(this.scheduleIds, (n) => new Int32Array(n));
    this.errorIds = grown(this.errorIds, (n) => new Int32Array(n));
    this.attempts = grown(this.attempts, (n) => new Int32Array(n));
    this.lastStatus = grown(this.lastStatus, (n) => new Int16Array(n));
    this.versions = grown(this.versions, (n) => new Float64Array(n));
    this.timers = grown(this.timers, (n) => new Int32Array(n));
    this.unpruned = grown(this.unpruned, (n) => new Uint16Array(n));
    this.capacity = capacity;
  }
}

function orNull(ms: number): number | null {
  return Number.isNaN(ms) ? null : ms;
}
