import type { Clock } from '../clock.js';

/**
 * The timeline the wheel runs on: monotonic milliseconds, set to read the wall time at start, plus
 * every forward step of the wall clock seen since. Until the wall clock steps, wheel time is wall
 * time. Schedules are written in wall time; `fromWall` maps them onto this timeline.
 *
 * Invariants:
 * - Wheel time never goes back (the wheel only moves forward), and never runs slower than the
 *   monotonic clock: waiting is monotonic, so a wall-clock step never stalls a timer.
 * - Without steps, wheel time - wall time is constant: a wall due time maps to the moment the
 *   wall clock shows it.
 * - A forward step (the wall clock moved ahead of the monotonic one by more than stepBoundMs) moves
 *   wheel time ahead by the same amount at the next observe(), so everything that became due by
 *   the wall clock is due on the wheel, and fires then.
 * - A backward step cannot move wheel time back. Placements made after it use the new offset;
 *   timers placed before it come due early by the step, so whoever takes a timer off the wheel
 *   compares its wall due time with the wall clock and places it again if it is not due yet.
 *   Nothing fires before its wall-clock due time.
 */
export class WheelTime {
  /** wheel time = monotonic + shift: the wall time at start, plus the forward steps since. */
  private shift: number;
  /** wall - wheel time when last re-anchored: 0 until the wall clock steps back. */
  private offset = 0;

  constructor(
    private readonly clock: Clock,
    /** A difference between the clocks' progress larger than this is a step. */
    readonly stepBoundMs = 100,
  ) {
    this.shift = clock.now() - clock.monotonic();
  }

  now(): number {
    return this.clock.monotonic() + this.shift;
  }

  /**
   * The wheel time at which the wall clock will show `wallMs`, as of the last observe(): every
   * placement uses the same offset, so that one forward step moves them all alike.
   */
  fromWall(wallMs: number): number {
    return wallMs - this.offset;
  }

  /** The wall time that wheel time `wheelMs` stands for, as of the last observe(). */
  toWall(wheelMs: number): number {
    return wheelMs + this.offset;
  }

  /**
   * Compares the two clocks. A step beyond the bound re-anchors (forward: wheel time jumps ahead)
   * and is returned in ms (positive: the wall clock jumped forward); anything smaller returns 0.
   */
  observe(): number {
    const offset = this.clock.now() - this.now();
    const step = offset - this.offset;
    if (Math.abs(step) <= this.stepBoundMs) return 0;
    if (step > 0) this.shift += step;
    else this.offset = offset;
    return step;
  }
}
