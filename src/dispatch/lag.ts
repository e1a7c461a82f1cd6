/**
 * Lag: seconds since the oldest job still waiting for a callback slot was due; 0 when none waits.
 * One definition for /status and the metrics, so an alert and the status page never disagree.
 */
export function lagSeconds(oldestWaitingDue: number | null, now: number): number {
  return oldestWaitingDue === null ? 0 : Math.max(0, (now - oldestWaitingDue) / 1000);
}
