import { SeededRandom } from '../../test/helpers/seeded-random.js';

/** Deterministic PRNG (mulberry32): both sides of a comparison see the same "random" inputs. */
export function prng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}
