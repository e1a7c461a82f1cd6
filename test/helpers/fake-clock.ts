import type { Clock, TimerHandle } from '../../src/clock.js';

/** Node's largest timer delay; larger (or < 1, or NaN) delays become 1 ms in Node. */
export const NODE_TIMEOUT_MAX = 2 ** 31 - 1;

export interface FakeClockOptions {
  /**
   * Apply Node's delay rules: a delay that is NaN, < 1 or > 2^31-1 becomes 1 ms (the overflow
   * case is counted in `overflowedDelays`). Default true. When false, delays are max(0, delay).
   */
  nodeDelaySemantics?: boolean;
  /** advance()/runAll() throw after running this many timers in one call (runaway re-arm loops). Default 1e6. */
  maxTimersPerCall?: number;
}

export interface PendingTimerInfo {
  id: number;
  /** Wall-clock time at which it will fire if the wall clock is not jumped. */
  at: number;
  /** The effective delay (after Node's rules). */
  delay: number;
  /** The delay that was passed to setTimeout. */
  requestedDelay: number;
}

interface PendingTimer {
  id: number;
  /** Monotonic time at which it fires. */
  due: number;
  seq: number;
  delay: number;
  requestedDelay: number;
  callback: () => void;
}

/**
 * A hand-driven Clock for tests.
 *
 * It has two clocks like a real machine: the wall clock that now() reports, and a monotonic clock
 * that timers run on. advance()/set() move both together and run the timeouts that fall due, in
 * order of due time (ties: creation order), each callback seeing now() equal to its due time;
 * timeouts created by callbacks run too if they fall due within the same call.
 * jump() moves only the wall clock (an NTP step / VM resume: pending timers keep their delays),
 * stall() moves both without running anything (a blocked event loop: the timers then run late
 * at the next advance()/runDue()).
 */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;
  private seq = 0;
  private nextId = 1;
  private queue: PendingTimer[] = [];
  private readonly nodeDelaySemantics: boolean;
  private readonly maxTimersPerCall: number;

  /** setTimeout calls so far. */
  setCount = 0;
  /** clearTimeout calls that removed a pending timer. */
  clearCount = 0;
  /** Callbacks run so far. */
  firedCount = 0;
  /** setTimeout calls whose delay exceeded 2^31-1 (Node would fire them after 1 ms). */
  overflowedDelays = 0;

  constructor(startMs = 0, options: FakeClockOptions = {}) {
    this.wall = startMs;
    this.nodeDelaySemantics = options.nodeDelaySemantics ?? true;
    this.maxTimersPerCall = options.maxTimersPerCall ?? 1_000_000;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    this.setCount++;
    let delay = Number(delayMs);
    if (this.nodeDelaySemantics) {
      if (delay > NODE_TIMEOUT_MAX) this.overflowedDelays++;
      if (!(delay >= 1 && delay <= NODE_TIMEOUT_MAX)) delay = 1;
    } else if (!(delay > 0)) {
      delay = 0;
    }
    const timer: PendingTimer = {
      id: this.nextId++,
      due: this.mono + delay,
      seq: this.seq++,
      delay,
      requestedDelay: delayMs,
      callback,
    };
    // Insert after every timer due at or before it (stable order for equal due times).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid].due <= timer.due) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    const index = this.queue.findIndex((t) => t.id === handle);
    if (index !== -1) {
      this.queue.splice(index, 1);
      this.clearCount++;
    }
  }

  /** Move both clocks forward by ms, running every timeout that falls due (in order). Returns how many ran. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    const end = this.mono + ms;
    let ran = 0;
    while (this.queue.length > 0 && this.queue[0].due <= end) {
      this.runFirst();
      if (++ran > this.maxTimersPerCall) {
        throw new Error(`FakeClock: more than ${this.maxTimersPerCall} timers ran in one call (runaway loop?)`);
      }
    }
    this.moveTo(end);
    return ran;
  }

  /**
   * Set the wall clock to ms. Forward: like advance(ms - now()). Backward: a wall-clock step back
   * (monotonic time and pending timers are untouched, nothing runs).
   */
  set(ms: number): number {
    if (ms >= this.wall) return this.advance(ms - this.wall);
    this.wall = ms;
    return 0;
  }

  /** Step the wall clock by deltaMs (either sign) without running timers or moving monotonic time. */
  jump(deltaMs: number): void {
    this.wall += deltaMs;
  }

  /** Let ms pass without running any timer (blocked event loop); they run late at the next advance()/runDue(). */
  stall(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.stall: ms must be >= 0, got ${ms}`);
    this.wall += ms;
    this.mono += ms;
  }

  /** Run the timeouts already due (e.g. after stall()), without moving time. */
  runDue(): number {
    return this.advance(0);
  }

  /** Move to the next pending timeout and run it (only it). Returns false when none is pending. */
  runNext(): boolean {
    if (this.queue.length === 0) return false;
    this.runFirst();
    return true;
  }

  /** Run timeouts until none is pending (throws after maxTimersPerCall). Returns how many ran. */
  runAll(): number {
    let ran = 0;
    while (this.runNext()) {
      if (++ran > this.maxTimersPerCall) {
        throw new Error(`FakeClock: more than ${this.maxTimersPerCall} timers ran in one call (runaway loop?)`);
      }
    }
    return ran;
  }

  /**
   * Like advance(), but yields to the real event loop (setImmediate, not a timer) before each
   * timeout and at the end, so promise chains started by callbacks make progress.
   */
  async advanceAsync(ms: number): Promise<number> {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advanceAsync: ms must be >= 0, got ${ms}`);
    const end = this.mono + ms;
    let ran = 0;
    await flushEventLoop();
    while (this.queue.length > 0 && this.queue[0].due <= end) {
      this.runFirst();
      if (++ran > this.maxTimersPerCall) {
        throw new Error(`FakeClock: more than ${this.maxTimersPerCall} timers ran in one call (runaway loop?)`);
      }
      await flushEventLoop();
    }
    this.moveTo(end);
    await flushEventLoop();
    return ran;
  }

  /** Number of pending timeouts. */
  get pendingCount(): number {
    return this.queue.length;
  }

  /** Pending timeouts in firing order. */
  pending(): PendingTimerInfo[] {
    return this.queue.map((t) => ({
      id: t.id,
      at: this.wall + (t.due - this.mono),
      delay: t.delay,
      requestedDelay: t.requestedDelay,
    }));
  }

  /** Wall-clock time of the next pending timeout, or null. */
  nextAt(): number | null {
    return this.queue.length === 0 ? null : this.wall + (this.queue[0].due - this.mono);
  }

  private moveTo(mono: number): void {
    if (mono > this.mono) {
      this.wall += mono - this.mono;
      this.mono = mono;
    }
  }

  private runFirst(): void {
    const timer = this.queue.shift() as PendingTimer;
    this.moveTo(timer.due);
    this.firedCount++;
    timer.callback();
  }
}

function flushEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
