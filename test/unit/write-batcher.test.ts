import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBatcher } from '../../src/jobs/write-batcher.js';

/** A flush whose statements the test commits or fails by hand, one at a time. */
function manualFlush() {
  const statements: { items: string[]; commit: () => void; fail: (error: Error) => void }[] = [];
  const flush = (items: readonly string[]) =>
    new Promise<string[]>((resolve, reject) => {
      statements.push({ items: [...items], commit: () => resolve(items.map((item) => `${item}!`)), fail: reject });
    });
  return { statements, flush };
}

/** Lets resolved promises run their continuations. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WriteBatcher', () => {
  test('a lone write goes at once, alone', async () => {
    const { statements, flush } = manualFlush();
    const batcher = new WriteBatcher({ flush, maxBatch: 10, maxInFlight: 1 });
    const a = batcher.submit('a');
    assert.deepEqual(
      statements.map((s) => s.items),
      [['a']],
      'sent without waiting for a timer or a tick',
    );
    statements[0].commit();
    assert.equal(await a, 'a!');
  });

  test('writes arriving while the statement slots are busy go together when one frees', async () => {
    const { statements, flush } = manualFlush();
    const sizes: number[] = [];
    const batcher = new WriteBatcher({ flush, maxBatch: 10, maxInFlight: 2, onBatch: (n) => sizes.push(n) });
    const results = ['a', 'b', 'c', 'd', 'e'].map((item) => batcher.submit(item));
    assert.deepEqual(
      statements.map((s) => s.items),
      [['a'], ['b']],
      'two slots: the first two go alone',
    );
    assert.equal(batcher.queued, 3);

    let cSettled = false;
    void results[2].then(() => (cSettled = true));
    statements[1].commit();
    await settle();
    assert.deepEqual(statements[2].items, ['c', 'd', 'e'], 'the waiting three share the freed slot');
    assert.equal(cSettled, false, 'a reply waits for its own statement, not an earlier one');
    assert.equal(await results[1], 'b!');

    statements[2].commit();
    assert.deepEqual(await Promise.all(results.slice(2)), ['c!', 'd!', 'e!'], 'each gets its own result');
    statements[0].commit();
    assert.equal(await results[0], 'a!');
    assert.deepEqual(sizes, [1, 3, 1]);
  });

  test('batches are capped at maxBatch and at most maxInFlight statements run', async () => {
    const { statements, flush } = manualFlush();
    const batcher = new WriteBatcher({ flush, maxBatch: 3, maxInFlight: 1 });
    const results = Array.from({ length: 8 }, (_, i) => batcher.submit(`k${i}`));
    const expected = [['k0'], ['k1', 'k2', 'k3'], ['k4', 'k5', 'k6'], ['k7']];
    for (const [i, items] of expected.entries()) {
      assert.equal(statements.length, i + 1, 'one statement at a time');
      assert.deepEqual(statements[i].items, items);
      statements[i].commit();
      await settle();
    }
    assert.equal(statements.length, 4);
    assert.equal((await Promise.all(results)).length, 8);
  });

  test('a failed statement fails every write in it, and only those; later writes still go', async () => {
    const { statements, flush } = manualFlush();
    const sizes: number[] = [];
    const batcher = new WriteBatcher({ flush, maxBatch: 10, maxInFlight: 1, onBatch: (n) => sizes.push(n) });
    const first = batcher.submit('a');
    const queued = [batcher.submit('b'), batcher.submit('c')];
    const outcomes = Promise.allSettled(queued);
    statements[0].commit();
    await settle();
    statements[1].fail(new Error('database down'));
    for (const outcome of await outcomes) {
      assert.equal(outcome.status, 'rejected');
      assert.equal((outcome.reason as Error).message, 'database down');
    }
    assert.equal(await first, 'a!');
    const later = batcher.submit('d');
    assert.deepEqual(statements[2].items, ['d'], 'the slot of the failed statement is free again');
    statements[2].commit();
    assert.equal(await later, 'd!');
    assert.deepEqual(sizes, [1, 1], 'only committed statements are reported');
  });

  test('a flush that answers for the wrong number of items fails them all', async () => {
    const batcher = new WriteBatcher<string, string>({ flush: async () => ['only one'], maxBatch: 10, maxInFlight: 1 });
    const first = batcher.submit('a');
    const second = Promise.allSettled([batcher.submit('b'), batcher.submit('c')]);
    assert.equal(await first, 'only one');
    for (const outcome of await second) assert.equal(outcome.status, 'rejected');
  });
});
