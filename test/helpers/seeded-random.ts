/**
 * A seeded pseudo-random source (mulberry32) for generated tests: the seed is printed, and the
 * same seed gives the same sequence, so a failing run can be replayed exactly.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A seed from the environment variable `name` when set (to replay a run), else a fresh one. */
  static seedFrom(name: string): number {
    const given = process.env[name];
    if (given !== undefined && given !== '') {
      const seed = Number(given);
      if (!Number.isInteger(seed)) throw new Error(`${name}=${given} is not an integer seed`);
      return seed >>> 0;
    }
    return Math.floor(Math.random() * 2 ** 32);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [0, maxExclusive). */
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /** A whole number in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)];
  }

  /** `count` random bytes. */
  bytes(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    for (let i = 0; i < count; i++) out[i] = this.int(256);
    return out;
  }
}
