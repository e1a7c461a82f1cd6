import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs, type BackoffPolicy } from '../../src/schedule/backoff.js';

const doubling: BackoffPolicy = { retryIntervalMs: 1000, retryMultiplier: 2, retryMaxIntervalMs: 60_000 };

describe('retryDelayMs', () => {
  test('doubles from the retry interval and caps at the maximum', () => {
    const delays = Array.from({ length: 9 }, (_, i) => retryDelayMs(i + 1, doubling));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  // [name, attempts, policy, expected]
  const cases: Array<[string, number, BackoffPolicy, number]> = [
    ['attempts = 10000 stays finite at the cap', 10_000, doubling, 60_000],
    ['attempts = Infinity stays finite at the cap', Infinity, doubling, 60_000],
    ['attempts = MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER, doubling, 60_000],
    ['attempts = 0 counts as the first retry', 0, doubling, 1000],
    ['attempts < 0 counts as the first retry', -3, doubling, 1000],
    ['attempts NaN counts as the first retry', NaN, doubling, 1000],
    ['multiplier 1: constant', 500, { retryIntervalMs: 1500, retryMultiplier: 1, retryMaxIntervalMs: 60_000 }, 1500],
    ['multiplier 1, attempts Infinity: no NaN', Infinity, { retryIntervalMs: 1500, retryMultiplier: 1, retryMaxIntervalMs: 60_000 }, 1500],
    ['multiplier 1.5 rounds to whole ms', 4, { retryIntervalMs: 1001, retryMultiplier: 1.5, retryMaxIntervalMs: 60_000 }, 3378],
    ['maximum below the interval wins', 1, { retryIntervalMs: 5000, retryMultiplier: 2, retryMaxIntervalMs: 3000 }, 3000],
    ['zero interval', 10_000, { retryIntervalMs: 0, retryMultiplier: 2, retryMaxIntervalMs: 60_000 }, 0],
    ['negative interval is never negative', 2, { retryIntervalMs: -1000, retryMultiplier: 2, retryMaxIntervalMs: 60_000 }, 0],
    ['NaN multiplier', 3, { retryIntervalMs: 1000, retryMultiplier: NaN, retryMaxIntervalMs: 60_000 }, 0],
    ['infinite maximum stays finite', 10_000, { retryIntervalMs: 1000, retryMultiplier: 2, retryMaxIntervalMs: Infinity }, Number.MAX_SAFE_INTEGER],
    ['multiplier below 1 shrinks towards 0', 3, { retryIntervalMs: 1000, retryMultiplier: 0.5, retryMaxIntervalMs: 60_000 }, 250],
  ];
  for (const [name, attempts, policy, expected] of cases) {
    test(name, () => {
      const delay = retryDelayMs(attempts, policy);
      assert.equal(delay, expected);
      assert.ok(Number.isFinite(delay) && delay >= 0 && Number.isInteger(delay));
    });
  }
});
