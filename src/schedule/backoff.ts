/** Retry policy for failed deliveries (config: retry-interval, retry-multiplier, retry-max-interval). */
export interface BackoffPolicy {
  retryIntervalMs: number;
  retryMultiplier: number;
  retryMaxIntervalMs: number;
}

/**
 * Delay before retry number `attempts` (1 = first retry after the first failure):
 * min(retryIntervalMs * retryMultiplier^(attempts-1), retryMaxIntervalMs), rounded to whole ms.
 * Never negative, never NaN or Infinity, also for huge `attempts`: negative/NaN policy values count as 0, attempts < 1 or NaN as 1,
 * and a missing or infinite maximum caps the delay at Number.MAX_SAFE_INTEGER.
 */
export function retryDelayMs(attempts: number, policy: BackoffPolicy): number {
  const base = finiteNonNegative(policy.retryIntervalMs);
  const multiplier = finiteNonNegative(policy.retryMultiplier);
  const max = Number.isFinite(policy.retryMaxIntervalMs) ? Math.max(0, policy.retryMaxIntervalMs) : Number.MAX_SAFE_INTEGER;
  const n = Number.isNaN(attempts) ? 1 : Math.min(Math.max(1, Math.floor(attempts)), Number.MAX_SAFE_INTEGER);
  if (base === 0) return 0;
  // multiplier^(n-1) may overflow to Infinity (then min() picks max) or underflow to 0; base * it is never NaN here.
  const delay = base * Math.pow(multiplier, n - 1);
  return Math.round(Math.min(delay, max, Number.MAX_SAFE_INTEGER));
}

function finiteNonNegative(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}
