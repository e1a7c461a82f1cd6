import type { DalgaProcess } from './dalga-process.js';
import type { JobLedger, LedgerSchedule } from './job-ledger.js';
import { sleep } from './eventually.js';

/** A job key of the generator's key space: `every/<n>` keys get interval jobs, `once/<n>` keys one-off jobs. */
export interface LoadKey {
  path: 'every' | 'once';
  body: string;
  /** `${path}/${body}`: the key the ledger and the endpoint use. */
  id: string;
  index: number;
}

export function loadKeys(intervalKeys: number, oneOffKeys: number): LoadKey[] {
  const make = (path: LoadKey['path'], count: number, offset: number) =>
    Array.from({ length: count }, (_, i) => ({ path, body: `k${i}`, id: `${path}/k${i}`, index: offset + i }));
  return [...make('every', intervalKeys, 0), ...make('once', oneOffKeys, intervalKeys)];
}

/** Something the server answered that it must never answer here. */
export interface LoadAnomaly {
  key: string;
  what: string;
}

export interface LoadGeneratorOptions {
  keys: LoadKey[];
  ledger: JobLedger;
  /** Concurrent requests. At most one per key, so the ledger knows the order each key's changes committed in. */
  workers: number;
  random?: () => number;
}

/**
 * Sends PUT, DELETE and trigger (POST) requests at random over a small key space, as fast as the
 * server answers, and writes every answer into the ledger. `halt()` before killing the server: a
 * request that then fails had no answer, and the ledger treats its key as unknown.
 */
export class LoadGenerator {
  requests = 0;
  /** PUTs answered 201. */
  putsAcknowledged = 0;
  /** DELETEs answered 204. */
  deletesAcknowledged = 0;
  readonly statuses = new Map<string, number>();
  readonly anomalies: LoadAnomaly[] = [];
  private target: DalgaProcess | null = null;
  private halted = true;
  private stopped = false;
  private readonly busy = new Set<string>();
  private readonly running: Promise<void>[] = [];
  private wake: (() => void) | null = null;
  private resumed: Promise<void>;
  private inFlight = 0;
  private readonly random: () => number;

  constructor(private readonly options: LoadGeneratorOptions) {
    this.random = options.random ?? Math.random;
    this.resumed = new Promise((resolve) => (this.wake = resolve));
    for (let i = 0; i < options.workers; i++) this.running.push(this.work());
  }

  /** Starts (or restarts) sending to `target`. */
  resume(target: DalgaProcess): void {
    this.target = target;
    this.halted = false;
    this.wake?.();
  }

  /** Stops starting requests; requests in flight go on (and fail if the server dies under them). */
  halt(): void {
    if (this.halted) return;
    this.halted = true;
    this.resumed = new Promise((resolve) => (this.wake = resolve));
  }

  /** Resolves once no request is in flight (call after halt()). */
  async idle(): Promise<void> {
    while (this.inFlight > 0) await sleep(10);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.halt();
    this.wake?.();
    await Promise.all(this.running);
  }

  private count(what: string): void {
    this.statuses.set(what, (this.statuses.get(what) ?? 0) + 1);
  }

  private async work(): Promise<void> {
    for (;;) {
      if (this.halted) await this.resumed;
      if (this.stopped) return;
      const key = this.pickFreeKey();
      if (!key) {
        await sleep(5);
        continue;
      }
      this.busy.add(key.id);
      this.inFlight++;
      try {
        await this.send(this.target as DalgaProcess, key);
      } finally {
        this.inFlight--;
        this.busy.delete(key.id);
      }
    }
  }

  private pickFreeKey(): LoadKey | undefined {
    const { keys } = this.options;
    for (let tries = 0; tries < 20; tries++) {
      const key = keys[Math.floor(this.random() * keys.length)];
      if (!this.busy.has(key.id)) return key;
    }
    return undefined;
  }

  /**
   * First runs 0.3-4 s ahead. Each PUT of a key gets a millisecond part of its own (the key's
   * generation times 37, mod 1000), so no two schedules of one key share a slot: a repeated
   * Dalga-Sched then always means a repeated callback, never a new schedule.
   */
  private schedule(key: LoadKey, now: number): LedgerSchedule {
    const generation = this.options.ledger.nextGeneration(key.id);
    const wanted = now + 300 + Math.floor(this.random() * 3_700);
    let firstRun = wanted - (wanted % 1000) + ((generation * 37 + key.index * 101) % 1000);
    if (firstRun < now + 300) firstRun += 1000;
    return key.path === 'every' ? { kind: 'interval', seconds: 1 + Math.floor(this.random() * 3), firstRun } : { kind: 'once', firstRun };
  }

  private async send(dalga: DalgaProcess, key: LoadKey): Promise<void> {
    const { ledger } = this.options;
    const roll = this.random();
    const method = roll < 0.55 ? 'PUT' : roll < 0.7 ? 'DELETE' : 'POST';
    const sentAt = Date.now();
    const schedule = method === 'PUT' ? this.schedule(key, sentAt) : null;
    const query =
      schedule === null
        ? ''
        : schedule.kind === 'interval'
          ? `?interval=${schedule.seconds}&first-run=${new Date(schedule.firstRun).toISOString()}`
          : `?one-off=true&first-run=${new Date(schedule.firstRun).toISOString()}`;
    this.requests++;
    let status: number;
    let nextSched: unknown;
    let nextRun: unknown;
    try {
      const response = await dalga.request(method, `/jobs/${key.path}/${key.body}${query}`);
      status = response.status;
      nextSched = response.json?.next_sched;
      nextRun = response.json?.next_run;
    } catch (error) {
      this.count(`${method} no answer`);
      if (!this.halted) this.anomalies.push({ key: key.id, what: `${method} failed while the server was up: ${String(error)}` });
      if (method === 'POST') ledger.triggerUnanswered(key.id);
      else ledger.unanswered(key.id, schedule);
      return;
    }
    this.count(`${method} ${status}`);
    const expected = ledger.expectation(key.id);
    if (method === 'PUT' && status === 201 && schedule) {
      this.putsAcknowledged++;
      if (typeof nextSched !== 'string' || Date.parse(nextSched) !== schedule.firstRun) {
        this.anomalies.push({
          key: key.id,
          what: `PUT answered next_sched ${String(nextSched)}, asked for ${new Date(schedule.firstRun).toISOString()}`,
        });
      }
      ledger.putAcknowledged(key.id, schedule, sentAt);
    } else if (method === 'DELETE' && status === 204) {
      this.deletesAcknowledged++;
      ledger.deleteAcknowledged(key.id);
    } else if (method === 'POST' && status === 404) {
      // Memory lost a job the client was told is there.
      if (expected.kind === 'present') this.anomalies.push({ key: key.id, what: 'trigger answered 404 for an acknowledged job' });
    } else if (method === 'POST' && status === 200) {
      if (expected.kind === 'absent') this.anomalies.push({ key: key.id, what: 'trigger answered 200 for a deleted job' });
      // The triggered run serves the trigger time, which the answer gives as next_run.
      if (typeof nextRun === 'string') ledger.triggerAcknowledged(key.id, Date.parse(nextRun));
      else this.anomalies.push({ key: key.id, what: `trigger answered next_run ${String(nextRun)}` });
    } else if (!(method === 'POST' && status === 409)) {
      this.anomalies.push({ key: key.id, what: `${method} answered ${status}` });
      if (method === 'POST') ledger.triggerUnanswered(key.id);
      else ledger.unanswered(key.id, schedule);
    }
  }
}
