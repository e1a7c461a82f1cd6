import type { Clock, TimerHandle } from '../clock.js';
import type { TimingWheel } from './timing-wheel.js';

/** Node timers overflow (and fire after 1 ms) beyond this delay. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Drives a TimingWheel with exactly one clock timer, armed for wheel.nextExpiry().
 *
 * - No timer is armed while the wheel is empty (no idle ticking).
 * - When the timer fires: keys = wheel.advance(clock.now()); onExpired(keys) once if non-empty;
 *   then re-arm for the new nextExpiry().
 * - A late timer or a clock that jumped forward just delivers everything due by clock.now().
 *   A clock that jumped backwards cannot fire anything early: the wheel is monotonic and only
 *   fires due <= its time, and the re-armed delay is measured from the (earlier) clock time.
 * - Delays are clamped to 2^31-1 ms; a timer that fires before its expiry simply re-arms.
 * - schedule()/cancel()/stop()/start() may be called from inside onExpired.
 */
export class WheelTimer<K> {
  readonly wheel: TimingWheel<K>;
  private readonly clock: Clock;
  private readonly onExpired: (keys: K[]) => void;
  private handle: TimerHandle = undefined;
  private armed = false;
  private armedAtMs: number | null = null;
  private running = false;
  private firing = false;

  constructor(wheel: TimingWheel<K>, clock: Clock, onExpired: (keys: K[]) => void) {
    this.wheel = wheel;
    this.clock = clock;
    this.onExpired = onExpired;
  }

  /** When the armed timer is due (clock time), or null when none is armed. */
  get armedAt(): number | null {
    return this.armedAtMs;
  }

  /** Whether start() has been called (and stop() not since). */
  get isRunning(): boolean {
    return this.running;
  }

  /** wheel.add + re-arm the single timer if the wheel's next expiry is now earlier than the armed one. */
  schedule(key: K, dueMs: number): void {
    this.wheel.add(key, dueMs);
    this.armIfEarlier();
  }

  /**
   * wheel.cancel; disarms when the wheel becomes empty. (Cancelling the earliest key otherwise
   * leaves the timer armed: it wakes up, finds nothing due and re-arms for the next expiry.)
   */
  cancel(key: K): boolean {
    return this.removed(this.wheel.cancel(key));
  }

  /**
   * The wheel's handle API (no key index; see TimingWheel.insert), for a caller that keeps each
   * key's handle: schedules key's timer, moving the one `handle` names if it still holds key,
   * else inserting a new one. Returns the handle to keep.
   */
  place(handle: number, key: K, dueMs: number): number {
    const placed = handle >= 0 && this.wheel.move(handle, key, dueMs) ? handle : this.wheel.insert(key, dueMs);
    this.armIfEarlier();
    return placed;
  }

  /** Removes the timer a handle names, if it still holds key (a fired or removed timer is not). */
  remove(handle: number, key: K): boolean {
    return handle >= 0 && this.removed(this.wheel.remove(handle, key));
  }

  private armIfEarlier(): void {
    if (!this.running || this.firing) return; // the firing callback re-arms when it is done
    const expiry = this.wheel.nextExpiry();
    if (expiry === null) return;
    if (this.armedAtMs === null || expiry < this.armedAtMs) this.arm();
  }

  private removed(removed: boolean): boolean {
    if (removed && this.wheel.size === 0 && !this.firing) this.disarm();
    return removed;
  }

  /** Arms for the wheel's next expiry (nothing when the wheel is empty). */
  start(): void {
    this.running = true;
    if (!this.firing) this.arm();
  }

  /** Clears the timer; schedule() still works but arms nothing until start(). */
  stop(): void {
    this.running = false;
    this.disarm();
  }

  private arm(): void {
    this.disarm();
    const expiry = this.wheel.nextExpiry();
    if (expiry === null) return;
    const now = this.clock.now();
    const delay = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, expiry - now));
    this.armed = true;
    this.armedAtMs = now + delay;
    this.handle = this.clock.setTimeout(this.fire, delay);
  }

  private disarm(): void {
    if (this.armed) {
      this.armed = false;
      this.clock.clearTimeout(this.handle);
    }
    this.handle = undefined;
    this.armedAtMs = null;
  }

  private readonly fire = (): void => {
    this.armed = false;
    this.handle = undefined;
    this.armedAtMs = null;
    if (!this.running) return;
    this.firing = true;
    try {
      const keys = this.wheel.advance(this.clock.now());
      if (keys.length > 0) this.onExpired(keys);
    } finally {
      this.firing = false;
      if (this.running) this.arm();
    }
  };
}
