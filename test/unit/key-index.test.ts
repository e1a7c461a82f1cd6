/**
 * KeyIndex: the job table's key -> number index agrees with a Map under random adds, deletes and
 * lookups (tombstones, rehashes and reserve included).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeyIndex } from '../../src/jobs/key-index.js';
import { SeededRandom } from '../helpers/seeded-random.js';

describe('KeyIndex', () => {
  test('agrees with a Map through 50,000 random operations', () => {
    const random = new SeededRandom(20261202);
    const keys: (string | undefined)[] = [];
    const index = new KeyIndex(keys);
    const model = new Map<string, number>();
    const free: number[] = [];
    for (let step = 0; step < 50_000; step++) {
      const key = `path/${random.int(4)}\u0000body-${random.int(5_000)}`;
      const roll = random.next();
      if (roll < 0.5 && !model.has(key)) {
        const id = free.pop() ?? keys.length;
        keys[id] = key;
        index.add(key, id);
        model.set(key, id);
      } else if (roll < 0.8 && model.has(key)) {
        const id = model.get(key) as number;
        index.delete(key);
        keys[id] = undefined;
        model.delete(key);
        free.push(id);
      } else {
        assert.equal(index.get(key), model.get(key), key);
      }
      if (step === 25_000) index.reserve(20_000);
    }
    assert.equal(index.size, model.size);
    assert.deepEqual(
      [...index.ids()].sort((a, b) => a - b),
      [...model.values()].sort((a, b) => a - b),
    );
    for (const [key, id] of model) assert.equal(index.get(key), id);
  });
});
