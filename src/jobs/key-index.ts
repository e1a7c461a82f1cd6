/**
 * Job key -> job number, as an open-addressing hash table over one Int32Array (hash, number + 1
 * per slot; linear probing; tombstones; at most three quarters full). It stores no key: it
 * compares with the caller's `keys` array (keys[number]), so a job costs 11-21 bytes here instead
 * of a Map entry (~40 B), and boot does one hash per row: a Map.set of 1 M fresh key strings took
 * a quarter of the boot's CPU (bench boot --profile).
 */

const EMPTY = 0;
const DELETED = -1;
const HASH_SEED = (Math.random() * 2 ** 32) | 0;

/** Seeded FNV-1a over UTF-16 units, two per step, with murmur3's finalizer. */
function hashKey(key: string): number {
  let h = HASH_SEED ^ key.length;
  let i = 0;
  for (; i + 1 < key.length; i += 2) h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x01000193);
  if (i < key.length) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class KeyIndex {
  private slots = new Int32Array(2 * 16);
  private mask = 15;
  private live = 0;
  /** Slots not EMPTY (live and tombstones): what bounds a probe. */
  private filled = 0;

  constructor(private readonly keys: readonly (string | undefined)[]) {}

  get size(): number {
    return this.live;
  }

  get(key: string): number | undefined {
    const hash = hashKey(key);
    const { slots, mask, keys } = this;
    for (let p = hash & mask; ; p = (p + 1) & mask) {
      const ref = slots[2 * p + 1];
      if (ref === EMPTY) return undefined;
      if (ref !== DELETED && slots[2 * p] === hash && keys[ref - 1] === key) return ref - 1;
    }
  }

  /** Records `key` (already in keys[id]) as job `id`. The key must not be in the index. */
  add(key: string, id: number): void {
    const hash = hashKey(key);
    const { slots, mask } = this;
    let p = hash & mask;
    while (slots[2 * p + 1] > 0) p = (p + 1) & mask;
    if (slots[2 * p + 1] === EMPTY) this.filled++;
    slots[2 * p] = hash;
    slots[2 * p + 1] = id + 1;
    this.live++;
    if (this.filled * 4 > (mask + 1) * 3) this.rehash(this.live * 2 > mask + 1 ? (mask + 1) * 2 : mask + 1);
  }

  /** Forgets `key` (call before keys[id] changes). */
  delete(key: string): void {
    const hash = hashKey(key);
    const { slots, mask, keys } = this;
    for (let p = hash & mask; ; p = (p + 1) & mask) {
      const ref = slots[2 * p + 1];
      if (ref === EMPTY) return;
      if (ref !== DELETED && slots[2 * p] === hash && keys[ref - 1] === key) {
        slots[2 * p + 1] = DELETED;
        this.live--;
        return;
      }
    }
  }

  /** Room for `count` keys without rehashing (a boot that knows its row count). */
  reserve(count: number): void {
    let size = this.mask + 1;
    while (count * 4 > size * 3) size *= 2;
    if (size > this.mask + 1) this.rehash(size);
  }

  /** Job numbers held, in no particular order. */
  *ids(): IterableIterator<number> {
    for (let p = 0; p <= this.mask; p++) if (this.slots[2 * p + 1] > 0) yield this.slots[2 * p + 1] - 1;
  }

  /** Drops tombstones, into `size` slots (a power of two). */
  private rehash(size: number): void {
    const old = this.slots;
    const slots = new Int32Array(2 * size);
    const mask = size - 1;
    for (let q = 0; q < old.length / 2; q++) {
      const ref = old[2 * q + 1];
      if (ref <= 0) continue;
      let p = old[2 * q] & mask;
      while (slots[2 * p + 1] !== EMPTY) p = (p + 1) & mask;
      slots[2 * p] = old[2 * q];
      slots[2 * p + 1] = ref;
    }
    this.slots = slots;
    this.mask = mask;
    this.filled = this.live;
  }
}
