import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { FakeClock } from '../helpers/fake-clock.js';

const T0 = Date.UTC(2025, 0, 1);

describe('Dispatcher.enqueue', () => {
  test('jobs wait with the due times the wheel handed out: the oldest is what lag reads; a waiting job is not queued twice', () => {
    const clock = new FakeClock(T0 + 5000);
    let active = false;
    const started: number[] = [];
    const dispatcher = new Dispatcher({
      runs: {
        startRun: (id) => {
          started.push(id);
          return null; // nothing to run: the key is only dequeued
        },
        finishRun: () => Promise.resolve(),
      },
      callbacks: { post: () => Promise.resolve({ status: 200, error: null }) },
      clock,
      maxRunning: 10,
      mayStart: () => active,
    });
    assert.deepEqual(dispatcher.stats(), { running: 0, waiting: 0, oldestWaitingDue: null });
    dispatcher.enqueue([1, 2], [T0 + 1000, T0 + 2000]);
    assert.deepEqual(dispatcher.stats(), { running: 0, waiting: 2, oldestWaitingDue: T0 + 1000 }, 'not the hand-over time');
    dispatcher.enqueue([1, 3], [T0 + 4000, T0 + 3000]);
    assert.deepEqual(dispatcher.stats(), { running: 0, waiting: 3, oldestWaitingDue: T0 + 1000 });
    active = true;
    dispatcher.resume();
    assert.deepEqual(started, [1, 2, 3]);
    assert.deepEqual(dispatcher.stats(), { running: 0, waiting: 0, oldestWaitingDue: null });
  });
});
