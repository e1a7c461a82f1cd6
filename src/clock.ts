/**
 * Time as the core sees it, injected everywhere so that unit tests can drive it by hand.
 *
 * Two clocks, as on a real machine: the wall clock (`now`, ms since the Unix epoch), which
 * schedules are written in and which NTP or a VM resume may step; and a monotonic clock
 * (`monotonic`, ms from an arbitrary origin), which never steps and is what every wait is
 * measured in. `setTimeout` waits in monotonic time, as Node's timers do.
 */
export interface Clock {
  now(): number;
  monotonic(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type TimerHandle = unknown;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
