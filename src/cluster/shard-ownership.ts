import type { Clock, TimerHandle } from '../clock.js';
import type { ShardClaim, WriteFence } from '../store/write-fence.js';
import { rendezvous } from './rendezvous.js';
import type { LiveInstance, ShardLeases, ShardLeaseRow } from './shard-leases.js';

/** What ownership changes ask of the jobs side (the JobService). */
export interface ShardOwner {
  /** Shards just taken: load their rows. Rejects when the load failed (the shards are given up, to be taken again). */
  acquired(shards: readonly number[]): Promise<void>;
  /** Shards another server took: drop their jobs at once. */
  lost(shards: readonly number[]): void;
  /** Shards to hand over: stop starting their callbacks, let those in flight finish and be written, drop them; then resolve. */
  release(shards: readonly number[]): Promise<void>;
}

export interface ShardOwnershipOptions {
  leases: ShardLeases;
  instanceId: string;
  /** The table's shard count. */
  shards: number;
  owner: ShardOwner;
  /** For the round timer. */
  clock: Clock;
  /** Monotonic milliseconds for the leases' local deadline. Default performance.now. */
  now?: () => number;
  /** A lease's length in the database; must match the ShardLeases'. Default 2,500 ms. */
  leaseMs?: number;
  /** A round (heartbeat, renewal, rebalancing) this often. Default 500 ms. */
  roundEveryMs?: number;
  /** This server stops trusting its leases this long before the database lets them go. Default 500 ms. */
  safetyMs?: number;
  /** The leases could not be renewed in time (valid() turned false), or were renewed again (true). */
  onValidity?: (valid: boolean) => void;
  /** Shards moved: taken, released, lost. */
  onHandoff?: (kind: 'acquired' | 'released' | 'lost', shards: number) => void;
  /** A round's statement failed (the database is unreachable, a Galera conflict); the loop goes on. */
  onError?: (error: unknown) => void;
}

/** The cluster as the last round saw it (for forwarding and /status). */
export interface ClusterView {
  /** Per shard: its holder's id while its lease runs, else null (between owners). */
  owners: (string | null)[];
  instances: LiveInstance[];
}

/**
 * Keeps the shards this server holds in step with the leases in the database (ShardLeases), as
 * Temporal keeps its shard ownership: every round heartbeats, renews every held shard in one
 * statement, and rebalances by rendezvous hashing over the live instances: it takes the shards it
 * should have that are free or expired, and hands over those another live server should have.
 *
 * Invariants (no slot fired by two servers, no acknowledged write missed by a shard's next owner):
 * - This server trusts its leases until `sent + leaseMs - safetyMs`, where `sent` is when it sent
 *   its last successful round; the database extended them to (at least) `sent + leaseMs` in its own
 *   clock, and another server can take them only after that. So the old holder has stopped firing
 *   and writing (valid() is false) before a new one starts loading. A shard taken in a round expires
 *   after that round's renewal, so the same deadline covers it.
 * - Every write is fenced by the epochs held (fence()): a server that lost a shard, however long it
 *   was paused, cannot change its rows; it learns of the loss at its next round and drops the shard.
 * - A shard is released only after its jobs left memory (ShardOwner.release), so that its next owner
 *   loads rows nobody here changes any more.
 */
export class ShardOwnership {
  private readonly held = new Map<number, number>();
  private readonly releasing = new Set<number>();
  /** Shards whose rows are being loaded: not taken again, not released, until that ends. */
  private readonly loading = new Set<number>();
  private validUntil = -Infinity;
  private wasValid = false;
  private loop: TimerHandle = undefined;
  private lapse: TimerHandle = undefined;
  private roundRunning: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private stopped = false;
  private lastView: ClusterView;
  private settledWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly roundEveryMs: number;
  private readonly safetyMs: number;

  constructor(private readonly options: ShardOwnershipOptions) {
    this.now = options.now ?? (() => performance.now());
    this.leaseMs = options.leaseMs ?? 2_500;
    this.roundEveryMs = options.roundEveryMs ?? 500;
    this.safetyMs = options.safetyMs ?? 500;
    this.lastView = { owners: new Array(options.shards).fill(null), instances: [] };
  }

  get view(): ClusterView {
    return this.lastView;
  }

  /** The shards held now (loaded, loading or being handed over). */
  heldShards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Whether this server trusts its leases now (the last round came in time). */
  valid(): boolean {
    return this.now() < this.validUntil;
  }

  /** Whether rows of this shard may be written now. */
  mayWrite(shard: number): boolean {
    return this.held.has(shard) && this.valid();
  }

  /** The fence for a write of rows in these shards: a shard not held gets an epoch no row has, so the write is refused. */
  fence(shards: readonly number[]): WriteFence {
    return this.options.leases.fence(shards.map((shard): ShardClaim => ({ shard, epoch: this.held.get(shard) ?? -1 })));
  }

  /** The first round (its errors, such as a SQLite lock held by another process, reach the caller), then one every roundEveryMs. */
  async start(): Promise<void> {
    await this.round(true);
    this.schedule();
  }

  /**
   * Resolves after the first round at whose end this server holds and has loaded every shard
   * rendezvous hashing gives it (at start: once a dead predecessor's leases ran out, or the
   * servers holding its shards handed them over).
   */
  settled(): Promise<void> {
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * A write failed for want of the database: stop trusting the leases now rather than when they run
   * out, since every callback made from here on could not be recorded and the next owner would
   * repeat it. The next successful round trusts them again.
   */
  distrust(): void {
    if (!this.valid()) return;
    this.validUntil = -Infinity;
    this.watchLapse();
  }

  /** A write was fenced: run a round now rather than at the next tick. */
  refresh(): void {
    if (this.roundRunning) this.again = true;
    else void this.round(false);
  }

  /**
   * Graceful stop, part one: this server's heartbeat goes, so the others stop assigning shards to
   * it; the rounds go on renewing what it holds while its callbacks drain.
   */
  async leave(): Promise<void> {
    this.stopping = true;
    await this.options.leases.leave().catch((error: unknown) => this.options.onError?.(error));
  }

  /** Graceful stop, part two (after the drain): every held shard is released at once, and the leases closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped = true;
    this.validUntil = -Infinity;
    for (const resolve of this.settledWaiters.splice(0)) resolve(); // a start cut short by a stop
    this.options.clock.clearTimeout(this.loop);
    this.options.clock.clearTimeout(this.lapse);
    await this.roundRunning?.catch(() => {});
    const claims = [...this.held].map(([shard, epoch]) => ({ shard, epoch }));
    this.held.clear();
    try {
      await this.options.leases.release(claims);
      if (claims.length > 0) this.options.onHandoff?.('released', claims.length);
    } finally {
      await this.options.leases.close();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.loop = this.options.clock.setTimeout(() => {
      void this.round(false).finally(() => this.schedule());
    }, this.roundEveryMs);
  }

  /** One round; concurrent calls share it (and a call during one runs another right after). */
  private round(first: boolean): Promise<void> {
    if (this.roundRunning) return this.roundRunning;
    const running = this.runRound(first).finally(() => {
      this.roundRunning = null;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.round(false);
      }
    });
    this.roundRunning = running;
    return running;
  }

  private async runRound(first: boolean): Promise<void> {
    if (this.stopped) return;
    const { leases, instanceId, owner } = this.options;
    const sent = this.now();
    let rows: ShardLeaseRow[];
    let instances: LiveInstance[];
    try {
      ({ shards: rows, instances } = await leases.round());
    } catch (error) {
      if (first) throw error;
      this.options.onError?.(error);
      return;
    }
    if (this.stopped) return;
    this.validUntil = sent + this.leaseMs - this.safetyMs;

    // What the table says this server holds; a shard whose epoch moved was lost, even if it came back.
    // (A shard whose release this server just committed is not lost: it was dropped before.)
    const lost = [...this.held]
      .filter(
        ([shard, epoch]) =>
          (rows[shard]?.owner !== instanceId || rows[shard].epoch !== epoch) && !(this.releasing.has(shard) && rows[shard]?.owner === ''),
      )
      .map(([shard]) => shard);
    if (lost.length > 0) {
      for (const shard of lost) {
        this.held.delete(shard);
        this.releasing.delete(shard);
      }
      owner.lost(lost);
      this.options.onHandoff?.('lost', lost.length);
    }
    this.watchLapse(); // after the drop: a resumed server must not fire a lost shard's jobs
    this.lastView = {
      owners: rows.map((row) => (row.owner !== '' && !row.expired ? row.owner : null)),
      instances,
    };
    // Held in the table but unknown here (a take whose answer was lost): load it like a take.
    const found = rows.flatMap((row, shard) => (row.owner === instanceId && !this.held.has(shard) ? [{ shard, epoch: row.epoch }] : []));

    const wanted = this.stopping ? [] : this.wantedShards(instances.map((instance) => instance.id));
    // The first round only announces this server: servers started together see each other at the
    // next one, instead of the first taking (and loading) every shard only to hand most over.
    const free = first
      ? []
      : wanted.filter((shard) => !this.held.has(shard) && !found.some((f) => f.shard === shard) && (rows[shard].owner === '' || rows[shard].expired));
    let taken: ShardClaim[] = [];
    if (free.length > 0) {
      try {
        taken = await leases.take(free);
      } catch (error) {
        if (first) throw error;
        this.options.onError?.(error);
      }
    }
    const acquired = [...found, ...taken];
    if (acquired.length > 0) {
      for (const claim of acquired) this.held.set(claim.shard, claim.epoch);
      this.options.onHandoff?.('acquired', acquired.length);
      const shards = acquired.map((claim) => claim.shard);
      const loading = this.load(shards);
      if (first) await loading;
    }

    if (!this.stopping) {
      const mine = new Set(wanted);
      const handOver = [...this.held.keys()].filter((shard) => !mine.has(shard) && !this.releasing.has(shard) && !this.loading.has(shard));
      if (handOver.length > 0) void this.handOver(handOver);
    }
    if (this.settledWaiters.length > 0 && wanted.every((shard) => this.held.has(shard) && !this.loading.has(shard))) {
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** The shards rendezvous hashing gives this server among the live instances (itself counted even if its heartbeat is not in yet). */
  private wantedShards(live: string[]): number[] {
    const ids = live.includes(this.options.instanceId) ? live : [...live, this.options.instanceId].sort();
    return rendezvous(ids, this.options.shards).flatMap((id, shard) => (id === this.options.instanceId ? [shard] : []));
  }

  private async load(shards: number[]): Promise<void> {
    for (const shard of shards) this.loading.add(shard);
    try {
      await this.options.owner.acquired(shards);
    } catch (error) {
      // Given up, so that it can be taken again (here or elsewhere) and loaded afresh.
      this.options.onError?.(error);
      const claims = shards.flatMap((shard) => (this.held.has(shard) ? [{ shard, epoch: this.held.get(shard) as number }] : []));
      for (const claim of claims) this.held.delete(claim.shard);
      await this.options.leases.release(claims).catch((e: unknown) => this.options.onError?.(e));
    } finally {
      for (const shard of shards) this.loading.delete(shard);
    }
  }

  private async handOver(shards: number[]): Promise<void> {
    for (const shard of shards) this.releasing.add(shard);
    await this.options.owner.release(shards);
    // Still held until the release has committed, so that a round meanwhile does not take them for found ones.
    const claims = shards.flatMap((shard) =>
      this.releasing.has(shard) && this.held.has(shard) ? [{ shard, epoch: this.held.get(shard) as number }] : [],
    );
    try {
      await this.options.leases.release(claims);
      if (claims.length > 0) this.options.onHandoff?.('released', claims.length);
    } catch (error) {
      this.options.onError?.(error); // they expire instead
    } finally {
      for (const claim of claims) if (this.held.get(claim.shard) === claim.epoch) this.held.delete(claim.shard);
      for (const shard of shards) this.releasing.delete(shard);
    }
  }

  /** Tells onValidity when the local deadline passes without a renewal, and when a round renews again. */
  private watchLapse(): void {
    this.options.clock.clearTimeout(this.lapse);
    if (!this.wasValid && this.valid()) {
      this.wasValid = true;
      this.options.onValidity?.(true);
    }
    const left = this.validUntil - this.now();
    this.lapse = this.options.clock.setTimeout(
      () => {
        if (this.valid()) return this.watchLapse();
        this.wasValid = false;
        this.options.onValidity?.(false);
      },
      Math.max(0, left),
    );
  }
}
