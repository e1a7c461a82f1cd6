import type { DalgaProcess } from './dalga-process.js';
import { sleep } from './eventually.js';
import type { SeededRandom } from './seeded-random.js';
import { ABSENT, describeState, type KeyState, type WriteLedger } from './write-ledger.js';

/** A server the load may send to. */
export interface LoadTarget {
  dalga: DalgaProcess;
  id: string;
}

export interface ClusterApiLoadOptions {
  /** The jobs' path; their bodies are `bodies`. */
  path: string;
  bodies: string[];
  ledger: WriteLedger;
  /** Concurrent requests, at most one per key (so the ledger knows the order each key's writes committed in). */
  workers: number;
  random: SeededRandom;
  /** The first PUT's interval in seconds; each later PUT's is one more (the table then says which PUT it holds). */
  firstIntervalSeconds: number;
}

/**
 * PUT, DELETE and PATCH (disable or enable) at random over a small key space, each through a
 * random server of the cluster (a request for a shard owned elsewhere is forwarded), as fast as
 * the servers answer, every answer into the WriteLedger. A request to a paused server waits for
 * it (no client timeout), so that its answer, once it comes, is still recorded.
 */
export class ClusterApiLoad {
  /** Where requests go; the test changes it as servers come and go. */
  targets: LoadTarget[] = [];
  readonly statuses = new Map<string, number>();
  /** Answers no server may give here (a lost acknowledged write, an unexpected status). */
  readonly anomalies: string[] = [];
  /** Answered by another server than the one asked. */
  forwarded = 0;
  private halted = true;
  private stopped = false;
  private readonly busy = new Set<string>();
  private readonly running: Promise<void>[] = [];
  private wake: (() => void) | null = null;
  private resumed: Promise<void>;
  private inFlight = 0;
  private nextInterval: number;

  constructor(private readonly options: ClusterApiLoadOptions) {
    this.nextInterval = options.firstIntervalSeconds;
    this.resumed = new Promise((resolve) => (this.wake = resolve));
    for (let i = 0; i < options.workers; i++) this.running.push(this.work());
  }

  resume(): void {
    this.halted = false;
    this.wake?.();
  }

  /** Stops starting requests; those in flight go on. */
  halt(): void {
    if (this.halted) return;
    this.halted = true;
    this.resumed = new Promise((resolve) => (this.wake = resolve));
  }

  /** Resolves once no request is in flight (after halt()). */
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
    const { random, bodies } = this.options;
    for (;;) {
      if (this.halted) await this.resumed;
      if (this.stopped) return;
      const body = random.pick(bodies);
      if (this.busy.has(body) || this.targets.length === 0) {
        await sleep(5);
        continue;
      }
      this.busy.add(body);
      this.inFlight++;
      try {
        await this.send(random.pick(this.targets), body);
      } finally {
        this.inFlight--;
        this.busy.delete(body);
      }
    }
  }

  private async send(target: LoadTarget, body: string): Promise<void> {
    const { ledger, random, path } = this.options;
    const key = `${path}/${body}`;
    const roll = random.next();
    const method = roll < 0.5 ? 'PUT' : roll < 0.7 ? 'DELETE' : 'PATCH';
    const interval = method === 'PUT' ? this.nextInterval++ : 0;
    const enable = random.chance(0.5);
    const query = method === 'PUT' ? `?interval=${interval}` : method === 'PATCH' ? (enable ? '?enable=true' : '?disable=true') : '';
    const applied = (state: KeyState): KeyState =>
      method === 'PUT'
        ? { kind: 'present', interval, enabled: true }
        : method === 'DELETE'
          ? ABSENT
          : state.kind === 'present'
            ? { ...state, enabled: enable }
            : state;
    let status: number;
    // biome-ignore lint/suspicious/noExplicitAny: the job's JSON as the server answered it
    let json: any;
    try {
      const response = await fetch(`${target.dalga.url}/jobs/${path}/${body}${query}`, { method });
      status = response.status;
      if (response.headers.get('dalga-instance') !== target.id) this.forwarded++;
      const text = await response.text();
      json = text ? JSON.parse(text) : undefined;
    } catch {
      this.count(`${method} no answer`);
      ledger.maybe(key, applied);
      return;
    }
    this.count(`${method} ${status}`);
    if (method === 'PUT' && status === 201) {
      if (json?.interval !== interval) this.anomalies.push(`${key}: PUT interval=${interval} answered ${JSON.stringify(json)}`);
      ledger.acknowledge(key, { kind: 'present', interval, enabled: true });
    } else if (method === 'DELETE' && status === 204) {
      ledger.acknowledge(key, ABSENT);
    } else if (method === 'PATCH' && status === 200) {
      const state: KeyState = { kind: 'present', interval: Number(json?.interval), enabled: json?.enabled === true };
      if (state.enabled !== enable || !ledger.possible(key).some((s) => s.kind === 'present' && s.interval === state.interval)) {
        const known = ledger.possible(key).map(describeState).join(' | ');
        this.anomalies.push(`${key}: PATCH enable=${enable} answered ${describeState(state)}; the ledger allows ${known}`);
      }
      ledger.acknowledge(key, state);
    } else if (method === 'PATCH' && status === 404) {
      if (!ledger.allows(key, ABSENT)) {
        this.anomalies.push(`${key}: PATCH answered 404, but the ledger has ${ledger.possible(key).map(describeState).join(' | ')}`);
      }
      ledger.observed(key, ABSENT); // the owner says so, and no other request of the key is in flight
    } else {
      // A 503 (between owners, a lease in doubt, an owner that did not answer) may or may not have been applied.
      if (status !== 503) this.anomalies.push(`${key}: ${method}${query} answered ${status} ${JSON.stringify(json)}`);
      ledger.maybe(key, applied);
    }
  }
}
