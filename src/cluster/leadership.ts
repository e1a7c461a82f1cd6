import type { Clock, TimerHandle } from '../clock.js';
import type { Lease } from './lease.js';

/**
 * - standby:   another server is active; this one holds no jobs and fires nothing.
 * - active:    this server holds the lease: it fires jobs and accepts writes.
 * - suspended: this server held the lease but could not renew it in time (database unreachable,
 *              event loop stalled); it fires and writes nothing until it learns whether the lease
 *              is still its own.
 */
export type Role = 'standby' | 'active' | 'suspended';

/**
 * - promoted:  standby -> active: a new term; memory must be loaded from the database.
 * - suspended: active -> suspended.
 * - resumed:   suspended -> active with the same token: nobody else was active, memory is still right.
 * - lost:      -> standby: another server took over; memory is stale and must be dropped.
 */
export type RoleChange = 'promoted' | 'suspended' | 'resumed' | 'lost';

export interface LeadershipOptions {
  lease: Lease;
  /** For the renewal and polling timers. */
  clock: Clock;
  /** Monotonic milliseconds for the lease's local deadline. Default performance.now. */
  now?: () => number;
  /** The lease's length in the database; must match the Lease's. Default 2,500 ms. */
  leaseMs?: number;
  /** The holder renews this often. Default 500 ms. */
  renewEveryMs?: number;
  /** A standby tries to take the lease this often. Default 250 ms. */
  pollEveryMs?: number;
  /** The holder stops trusting its lease this long before the database lets it go. Default 500 ms. */
  safetyMs?: number;
  onChange: (change: RoleChange) => void;
  /** A lease statement failed (the database is unreachable); the loop goes on. */
  onError?: (error: unknown) => void;
}

/**
 * Keeps this server's role in step with the lease.
 *
 * Invariant (no slot fired by two servers, no acknowledged write missed by a new active server):
 * a holder trusts its lease until `sent + leaseMs - safetyMs`, where `sent` is when it sent its
 * last successful renewal; the database extends the lease to (at least) `sent + leaseMs` in its
 * own clock, and a standby can take it only after that. So the old holder has stopped firing
 * and acknowledging writes (valid() is false) before a new holder starts loading.
 */
export class Leadership {
  private current: Role = 'standby';
  private validUntil = -Infinity;
  private loop: TimerHandle = undefined;
  private lapse: TimerHandle = undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private readonly pollEveryMs: number;
  private readonly safetyMs: number;

  constructor(private readonly options: LeadershipOptions) {
    this.now = options.now ?? (() => performance.now());
    this.leaseMs = options.leaseMs ?? 2_500;
    this.renewEveryMs = options.renewEveryMs ?? 500;
    this.pollEveryMs = options.pollEveryMs ?? 250;
    this.safetyMs = options.safetyMs ?? 500;
  }

  get role(): Role {
    return this.current;
  }

  /** Whether this server may fire jobs and acknowledge writes right now. */
  valid(): boolean {
    return this.current === 'active' && this.now() < this.validUntil;
  }

  /**
   * Makes the first attempt (its errors, such as a SQLite lock held by another process, reach
   * the caller), then keeps renewing or polling in the background.
   */
  async start(): Promise<void> {
    const sent = this.now();
    if (await this.options.lease.acquire()) this.hold(sent, 'promoted');
    this.schedule();
  }

  /**
   * A write failed for want of the database: stop firing now rather than when the lease runs out,
   * since every callback made from here on could not be recorded and a standby would repeat it.
   * The next successful renewal resumes.
   */
  distrust(): void {
    if (this.current !== 'active') return;
    this.validUntil = -Infinity;
    this.options.clock.clearTimeout(this.lapse);
    this.checkLapse();
  }

  /** Gives the lease up and becomes a standby (it may take the lease again later). */
  async resign(): Promise<void> {
    if (this.current === 'standby') return;
    this.change('standby', 'lost');
    await this.options.lease.release().catch((error: unknown) => this.options.onError?.(error));
  }

  /** Stops the loop and gives the lease up, so that a standby can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.clock.clearTimeout(this.loop);
    this.options.clock.clearTimeout(this.lapse);
    this.current = 'standby';
    try {
      await this.options.lease.release();
    } finally {
      await this.options.lease.close();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.current === 'standby' ? this.pollEveryMs : this.renewEveryMs;
    this.loop = this.options.clock.setTimeout(() => void this.step(), every);
  }

  private async step(): Promise<void> {
    const sent = this.now();
    try {
      if (this.current === 'standby') {
        if (await this.options.lease.acquire()) this.hold(sent, 'promoted');
      } else if (await this.options.lease.renew()) {
        this.hold(sent, this.current === 'suspended' ? 'resumed' : null);
      } else {
        this.change('standby', 'lost');
      }
    } catch (error) {
      this.options.onError?.(error);
    }
    this.schedule();
  }

  private hold(sent: number, change: RoleChange | null): void {
    if (this.stopped) return;
    this.validUntil = sent + this.leaseMs - this.safetyMs;
    if (change) this.change('active', change);
    this.options.clock.clearTimeout(this.lapse);
    this.checkLapse();
  }

  /** Suspends once the local deadline has passed; until then, waits for it (a renewal moves it on). */
  private checkLapse(): void {
    if (this.current !== 'active') return;
    const left = this.validUntil - this.now();
    if (left <= 0) this.change('suspended', 'suspended');
    else this.lapse = this.options.clock.setTimeout(() => this.checkLapse(), left);
  }

  private change(role: Role, change: RoleChange): void {
    if (this.stopped) return;
    this.current = role;
    if (role === 'standby') this.options.clock.clearTimeout(this.lapse);
    this.options.onChange(change);
  }
}
