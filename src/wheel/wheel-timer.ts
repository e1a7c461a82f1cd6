import type { Clock, TimerHandle } from '../clock.js';
import type { TimingWheel } from './timing-wheel.js';
import { WheelTime } from './wheel-time.js';

/** Node timers overflow (and fire after 1 ms) beyond this delay: the most stepCheckMs may be. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface WheelTimerOptions {
  /** A wall-clock step larger than this re-anchors the wheel's timeline (WheelTime). Default 100 ms. */
  stepBoundMs?: number;
  /**
   * The longest the timer sleeps while the wheel holds timers: each wake-up compares the wall clock
   * with the monotonic one. Default 1,000 ms (a forward step fires its due jobs within a second).
   */
  stepCheckMs?: number;
  /** Told about every wall-clock step found (ms; positive: forward). */
  onClockStep?: (stepMs: number) => void;
}

/**
 * Told the keys that expired, in due order, and their due times (wall ms), in parallel arrays.
 * Both arrays are reused by the next expiry: valid during the call only.
 */
export type ExpiredListener<K> = (keys: readonly K[], dues: readonly number[]) => void;

/**
 * Drives a TimingWheel with exactly one clock timer, armed for wheel.nextExpiry().
 *
 * - The wheel runs on WheelTime (monotonic, reading wall time until the wall clock steps); callers
 *   give and get wall times, converted at the edge. Waiting is monotonic: a wall-clock step never
 *   stalls the timer.
 * - No timer is armed while the wheel is empty (no idle ticking). Otherwise the one timer sleeps
 *   at most stepCheckMs, and every wake-up compares the two clocks first, so that a forward step
 *   fires what became due within that time.
 * - When the timer fires: wheel.advance(wheel time); onExpired(keys, dues) once if anything
 *   expired; then re-arm for the new nextExpiry(). A late timer delivers everything due by then.
 * - dues[i] is keys[i]'s due time on the wheel as a wall time (at the current offset): the wall
 *   time it was placed for, unless the wall clock stepped back since.
 * - After a backward step, timers placed before it come due early (see WheelTime): the receiver
 *   of onExpired checks each job's wall due time and places the early ones again.
 * - Delays are clamped to 2^31-1 ms; a timer that fires before its expiry simply re-arms.
 * - place()/remove()/stop()/start() may be called from inside onExpired.
 */
export class WheelTimer<K> {
  readonly wheel: TimingWheel<K>;
  /** The wheel's timeline; its due times and `now` are wheel times (wall times until a step). */
  readonly time: WheelTime;
  private readonly clock: Clock;
  private readonly onExpired: ExpiredListener<K>;
  /** advance()'s output, reused by every expiry (nothing allocated per fire). */
  private readonly expiredKeys: K[] = [];
  private readonly expiredDues: number[] = [];
  private readonly stepCheckMs: number;
  private readonly onClockStep: (stepMs: number) => void;
  private handle: TimerHandle = undefined;
  private armed = false;
  /** Wheel time the armed timer wakes up at. */
  private armedAtMs: number | null = null;
  private running = false;
  private firing = false;

  /** `wheel` must start at clock.now() (WheelTime reads wall time until the first step). */
  constructor(wheel: TimingWheel<K>, clock: Clock, onExpired: ExpiredListener<K>, options: WheelTimerOptions = {}) {
    this.wheel = wheel;
    this.clock = clock;
    this.time = new WheelTime(clock, options.stepBoundMs);
    this.onExpired = onExpired;
    this.stepCheckMs = options.stepCheckMs ?? 1_000;
    if (!(this.stepCheckMs >= 1 && this.stepCheckMs <= MAX_TIMER_DELAY_MS)) throw new RangeError(`stepCheckMs must be 1..${MAX_TIMER_DELAY_MS}`);
    this.onClockStep = options.onClockStep ?? (() => {});
  }

  /** When the armed timer wakes up (wall time), or null when none is armed. */
  get armedAt(): number | null {
    return this.armedAtMs === null ? null : this.time.toWall(this.armedAtMs);
  }

  /** Whether start() has been called (and stop() not since). */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Schedules key's timer for wall time dueMs, moving the one `handle` names if it still holds key,
   * else inserting a new one (pass -1 for none; see TimingWheel.insert). Returns the handle to keep;
   * re-arms the single timer if the wheel's next expiry is now earlier than the armed one.
   */
  place(handle: number, key: K, dueMs: number): number {
    this.watchIdleClock();
    const due = this.time.fromWall(dueMs);
    const placed = this.wheel.move(handle, key, due) ? handle : this.wheel.insert(key, due);
    this.armIfEarlier();
    return placed;
  }

  /**
   * Removes the timer a handle names, if it still holds key (a fired or removed timer is not);
   * disarms when the wheel becomes empty. (Removing the earliest timer otherwise leaves the timer
   * armed: it wakes up, finds nothing due and re-arms for the next expiry.)
   */
  remove(handle: number, key: K): boolean {
    if (!this.wheel.remove(handle, key)) return false;
    if (this.wheel.size === 0 && !this.firing) this.disarm();
    return true;
  }

  private armIfEarlier(): void {
    if (!this.running || this.firing) return; // the firing callback re-arms when it is done
    const expiry = this.wheel.nextExpiry();
    if (expiry === null) return;
    if (this.armedAtMs === null || expiry < this.armedAtMs) this.arm();
  }

  /** Arms for the wheel's next expiry (nothing when the wheel is empty). */
  start(): void {
    this.running = true;
    this.observeClock();
    if (!this.firing) this.arm();
  }

  /** Clears the timer; place() still works but arms nothing until start(). */
  stop(): void {
    this.running = false;
    this.disarm();
  }

  /**
   * An empty wheel arms no timer, so nothing has compared the clocks lately: compare them before
   * its first placement, so that it is placed at the current offset.
   */
  private watchIdleClock(): void {
    if (this.wheel.size === 0) this.observeClock();
  }

  /**
   * Compares the clocks; a step re-anchors WheelTime (a forward one makes its due timers due now)
   * and is reported to onClockStep. Callers about to compute due times from the wall clock call it
   * first, so that a step is always handled before times read after it are used.
   */
  observeClock(): void {
    const step = this.time.observe();
    if (step !== 0) this.onClockStep(step);
  }

  private arm(): void {
    this.disarm();
    const expiry = this.wheel.nextExpiry();
    if (expiry === null) return;
    const now = this.time.now();
    // Never longer than stepCheckMs: each wake-up compares the clocks, so a forward wall-clock
    // step fires what became due within that time (the wake-up finds nothing else to do).
    const delay = Math.min(this.stepCheckMs, Math.max(0, expiry - now));
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
      this.observeClock();
      const keys = this.expiredKeys;
      const dues = this.expiredDues;
      const n = this.wheel.advance(this.time.now(), keys, dues);
      if (n > 0) {
        for (let i = 0; i < n; i++) dues[i] = this.time.toWall(dues[i]);
        this.onExpired(keys, dues);
      }
    } finally {
      this.firing = false;
      if (this.running) this.arm();
    }
  };
}
